"""Per-listener, per-1/3-octave-band metrics of a 2-input FilterSet in a scene, through the free
field or the room engine.

Bands: `BAND_HZ`, the design report's 1/3-octave bands (`dsp.analysis.report_grid`, 100 Hz –
16 kHz). For every listener l the ear pressure per input, M (F, 2 ears, 2 inputs), comes from
the exact free-field plant (`dsp.analysis.at_ear`) or from the room engine's IRs (driver → ear,
`sim.transfer.simulate`; early part only for ``room_early``) times the filters' responses.
Then, per band:

- cancellation_db: ipsi/contra band energy of each input (as `dsp.analysis.cancellation`),
  the worse input;
- ild_error_db: |ILD of the device − ILD of the reference stereo pair at ±30°| (as
  `dsp.report.virtualizer_metrics`; the reference in free field, the target a virtualizer
  aims at), the worse input;
- itd_error_us: |ITD of the device − ITD of the reference pair| (phase delay over
  `dsp.virtualizer.ITD_BAND_HZ`), the worse input: one broadband value, repeated per band;
- effort_db: the filters' effort spectrum (`dsp.analysis.effort_spectrum`, design grid), its
  maximum inside the band (NaN when no design frequency falls in the band); the same for
  every listener.
"""

from __future__ import annotations

import importlib

import numpy as np

from dsp.analysis import at_ear, report_grid
from dsp.bands import band_db
from dsp.filterset import FilterSet
from dsp.fir import fir_response
from dsp.virtualizer import ITD_BAND_HZ, interaural_delay_s, reference_pair_ears
from sim.scene import Scene
from sim.task import TaskState

BAND_HZ = report_grid().centres_hz
"""Band centres (B,) of every metric, Hz."""
_ITD_FREQS_HZ = np.linspace(ITD_BAND_HZ[0], ITD_BAND_HZ[1], 64)
_DTFT_BLOCK = 512
"""Taps per block of the room IRs' DTFT: its cached cos/sin matrix, 512 × 2·432 float64 (3.5
MB), stays in cache beside a second sweep worker's. Blocks of up to 4096 taps (17 MB for a
2440-tap room_early IR) did not fit the shared L3 twice: with the attenuation filters' old FFT
buffers, a case took ~10 % more CPU when two workers ran side by side (now the same)."""


def _dtft(ir: np.ndarray, fs_hz: float, freqs_hz: np.ndarray) -> np.ndarray:
    """DTFT (..., F) of IRs (..., N) at arbitrary frequencies, in blocks of equal length (room
    IRs are tens of thousands of taps: one N × F matrix would take hundreds of MB; equal
    blocks share one cached DTFT matrix)."""
    block = min(_DTFT_BLOCK, ir.shape[-1])
    n = -(-ir.shape[-1] // block) * block
    ir = np.concatenate([ir, np.zeros((*ir.shape[:-1], n - ir.shape[-1]))], axis=-1)
    out = np.zeros((*ir.shape[:-1], freqs_hz.size), dtype=complex)
    for start in range(0, n, block):
        shift = np.exp(-2j * np.pi * freqs_hz * start / fs_hz)
        out += fir_response(ir[..., start:start + block], fs_hz, freqs_hz) * shift
    return out


def import_engine(engine: str) -> None:
    """Import what `ear_pressures` imports on its first call with `engine` (pyroomacoustics,
    scipy and the room engine for the room engines), so that worker processes forked from
    this one inherit the modules instead of each importing them again."""
    if engine != "freefield":
        for module in ("sim.room", "sim.transfer"):
            importlib.import_module(module)


def ear_pressures(scene: Scene, filters: FilterSet, engine: str, freqs_hz: np.ndarray,
                  state: TaskState | None = None) -> np.ndarray:
    """Ear pressure per input (F, L, 2 ears, I) of every listener of the scene.

    engine: "freefield" (exact analytic plant) or "room_early" / "room" (room engine IRs,
    computed here with a throwaway cache: sweep cases rarely repeat)."""
    f = np.asarray(freqs_hz, dtype=float)
    if engine == "freefield":
        out = []
        for i, li in enumerate(scene.listeners):
            if state is not None:
                state.check()
            out.append(at_ear(scene, filters, f, np.asarray(li.position_m)[None], li.yaw_deg,
                              i)[:, 0])
        return np.stack(out, axis=1)
    from sim.room import RirCache
    from sim.transfer import simulate

    tr = simulate(scene, "room", early_only=engine == "room_early", state=state,
                  cache=RirCache())
    h = _dtft(tr.ir, tr.fs_hz, f)  # (D, L, 2, F)
    c = fir_response(filters.fir, filters.fs_hz, f)  # (I, D, F)
    return np.einsum("dlef,idf->flei", h, c)


def _band_effort(effort_db: np.ndarray, effort_freqs_hz: np.ndarray) -> np.ndarray:
    out = np.full(BAND_HZ.size, np.nan)
    for b, c in enumerate(BAND_HZ):
        m = (effort_freqs_hz >= c * 2 ** (-1 / 6)) & (effort_freqs_hz < c * 2 ** (1 / 6))
        if np.any(m):
            out[b] = np.max(effort_db[m])
    return out


def listener_metrics(scene: Scene, filters: FilterSet, engine: str, metrics: tuple[str, ...],
                     effort_db: np.ndarray, effort_freqs_hz: np.ndarray,
                     state: TaskState | None = None) -> dict[str, np.ndarray]:
    """The requested metrics (names in `dsp.sweep.spec.METRICS`), each (L, B) float64.

    effort_db (F,) on effort_freqs_hz (F,): the filters' effort spectrum from their design."""
    grid = report_grid()
    nb = grid.freqs_hz.size
    f = np.concatenate([grid.freqs_hz, _ITD_FREQS_HZ])
    m = ear_pressures(scene, filters, engine, f, state)  # (F, L, 2, I)
    n_l = m.shape[1]
    out = {name: np.full((n_l, BAND_HZ.size), np.nan) for name in metrics}
    for li in range(n_l):
        if state is not None:
            state.check()
        dev = m[:, li]
        ref = np.transpose(reference_pair_ears(scene, li, f), (0, 2, 1))  # (F, ear, input)
        canc, ild, itd = [], [], []
        for k in (0, 1):  # input k's ipsilateral ear is ear k
            ipsi, contra = k, 1 - k

            def ild_of(x, ipsi=ipsi, contra=contra, k=k):
                return band_db(np.abs(x[:nb, ipsi, k]) ** 2, np.abs(x[:nb, contra, k]) ** 2,
                               grid)

            canc.append(ild_of(dev))
            ild.append(np.abs(ild_of(dev) - ild_of(ref)))
            itd.append(abs(interaural_delay_s(dev[nb:, 0, k], dev[nb:, 1, k], _ITD_FREQS_HZ)
                           - interaural_delay_s(ref[nb:, 0, k], ref[nb:, 1, k], _ITD_FREQS_HZ)))
        values = {"cancellation_db": np.minimum(*canc), "ild_error_db": np.maximum(*ild),
                  "itd_error_us": np.full(BAND_HZ.size, 1e6 * max(itd)),
                  "effort_db": _band_effort(effort_db, effort_freqs_hz)}
        for name in metrics:
            out[name][li] = values[name]
    return out
