"""A measured plant (`dsp.plant_files.MeasuredPlant`) as the plant a design inverts, in place of
the simulated driver → ear transfer of the listener designed for, and the design evaluated on it.

Timing. A measurement's time axis is its own: the sweep's start, the interface's latency and,
when the drivers were measured one after another, a different latency per driver. The plant is
moved onto the simulated plant's time axis (`dsp.plant`: bulk delay τ0 removed) by the delay that
maximizes its cross-correlation with the simulated plant (1/8 sample, refined by a parabola);
the plant's `timing` (`dsp.plant_timing.PlantTiming`) says what shares one delay. GEOMETRY (the
default): each driver's ear pair moved as one, so only the timing within one driver's recording
(left vs right ear: the ITD) is the file's and the time between drivers is the scene's geometry
(misplacing a driver in the scene by 1 cm puts 29 µs between it and its true timing). MEASURED:
all drivers moved by one delay, so the file's time between drivers is kept (one synchronous
capture; a latency differing per driver then stays in the plant). The offsets found are
reported (`AlignedPlant.offsets_s`; all equal for MEASURED).

Length. The aligned IRs keep `PRE_SAMPLES` before time zero (the onset's pre-ringing) and are cut
to the design grid (n_fft = oversample · taps) with a `FADE_MS` half-cosine: a measured room
response longer than the grid loses its tail (reported as `window_loss_db`).

Robust designs. The displaced heads of a robust design (`dsp.plant.head_positions`) hear the
measured responses moved with the head: each driver's delay and 1/r follow its distance to the
displaced head centre (no new head shadow: a few cm at a metre or more change the angle by
about a degree).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from dsp.analysis import Cancellation, _band_cancellation, report_grid
from dsp.bands import BandGrid
from dsp.filterset import FilterSet
from dsp.fir import fir_response
from dsp.params import DesignError
from dsp.plant import Plant, design_plant, head_positions, listener_of, spread_samples
from dsp.plant_files import MeasuredPlant
from dsp.plant_timing import PlantTiming
from sim.scene import Scene

PRE_SAMPLES = 40
"""Samples kept before time zero of the aligned IRs (as the simulated IRs' `T0_SAMPLES`)."""
FADE_MS = 1.0


@dataclass(eq=False)
class AlignedPlant:
    """A measured plant on the simulated plant's time axis.

    ir: (D, 2, n) sample k at time (k − PRE_SAMPLES)/fs after the bulk delay bulk_delay_s
    (s, τ0 of the simulated plant: the IRs at time t after emission are ir at t − τ0);
    offsets_s (D,): how much earlier each driver's pair was moved (file latency + the measured
    arrival's difference from the scene's; all equal when `timing` is MEASURED); fs_hz;
    measured: the plant.
    """

    ir: np.ndarray
    offsets_s: np.ndarray
    fs_hz: int
    measured: MeasuredPlant
    bulk_delay_s: float = 0.0

    @property
    def timing(self) -> PlantTiming:
        """The timing the offsets were found by (the plant's)."""
        return self.measured.timing

    def response(self, freqs_hz: np.ndarray, n_taps: int | None = None) -> np.ndarray:
        """Transfer (F, 2 ears, D) at freqs_hz (Hz) of the IRs, all of them (None) or the first
        n_taps with a FADE_MS half-cosine at the end."""
        ir = self.ir if n_taps is None else self.window(n_taps)
        t = (np.arange(ir.shape[-1]) - PRE_SAMPLES) / self.fs_hz
        h = ir @ np.exp(-2j * np.pi * np.outer(t, np.asarray(freqs_hz, dtype=float)))
        return np.transpose(h, (2, 1, 0))

    def window(self, n_taps: int) -> np.ndarray:
        """The first n_taps samples (D, 2, n_taps) with the end fade."""
        ir = self.ir[..., :n_taps].copy()
        fade = min(max(round(FADE_MS * 1e-3 * self.fs_hz), 1), n_taps)
        ir[..., n_taps - fade:] *= 0.5 + 0.5 * np.cos(np.pi * (np.arange(fade) + 1) / fade)
        return ir

    def window_loss_db(self, n_taps: int) -> float:
        """Energy the cut to n_taps removes, dB re all of it."""
        lost = np.sum(self.ir[..., n_taps:] ** 2)
        return float(10.0 * np.log10(max(lost, 1e-300) / max(np.sum(self.ir**2), 1e-300)))


def check_measured(scene: Scene, plant: MeasuredPlant, method: str) -> None:
    """Raise DesignError when `plant` does not fit the scene (drivers, rate) or the method."""
    if method == "beam":
        raise DesignError("the beamformer shapes the far field, which a measured plant (driver"
                          " → ear responses) does not hold: use the simulated plant for it")
    names = tuple(d.name for d in scene.device.drivers)
    if plant.drivers != names:
        raise DesignError(f"the measured plant {plant.label} is for drivers"
                          f" ({', '.join(plant.drivers)}); device {scene.device.name!r} has"
                          f" ({', '.join(names)}): load a plant measured for this device or"
                          " use the simulated plant")
    if plant.fs_hz != scene.simulation.fs_hz:
        raise DesignError(f"the measured plant {plant.label} was read at {plant.fs_hz} Hz; the"
                          f" scene runs at {scene.simulation.fs_hz} Hz: load it again")


@functools.lru_cache(maxsize=4)
def align(scene: Scene, plant: MeasuredPlant, listener: int = 0) -> AlignedPlant:
    """`plant` moved onto the simulated plant of `listener`: driver by driver, or all drivers
    by one delay, as its `timing` says (module doc)."""
    fs = scene.simulation.fs_hz
    n_ir = plant.ir.shape[-1]
    n = max(4096, 1 << int(np.ceil(np.log2(2 * (n_ir + PRE_SAMPLES)))))
    f = np.fft.rfftfreq(n, 1.0 / fs)
    sim = design_plant(scene, f, listener)
    ref = np.transpose(sim.G, (2, 1, 0))  # (D, 2, F)
    spec = np.fft.rfft(plant.ir, n, axis=-1)
    lags = plant.timing.lags(np.sum(spec * np.conj(ref), axis=1), n)
    ir = np.fft.irfft(spec * np.exp(2j * np.pi * f * lags[:, None, None] / fs), n, axis=-1)
    ir = np.roll(ir, PRE_SAMPLES, axis=-1)
    for a in (ir, lags):
        a.flags.writeable = False  # shared by every design that hits the cache
    return AlignedPlant(ir=ir, offsets_s=lags / fs, fs_hz=fs, measured=plant,
                        bulk_delay_s=sim.bulk_delay_s)


def measured_design_plant(scene: Scene, freqs_hz: np.ndarray, plant: MeasuredPlant,
                          listener_index: int = 0, robust_cm: float = 0.0,
                          robust_points: int = 5) -> Plant:
    """The `dsp.plant.Plant` of a measured plant on the rfft grid freqs_hz of n_fft = 2(F − 1):
    the aligned IRs cut to n_fft (module doc), plus the displaced heads of a robust design."""
    li = listener_of(scene, listener_index)
    f = np.asarray(freqs_hz, dtype=float)
    n_fft = 2 * (f.size - 1)
    a = align(scene, plant, listener_index)
    g0 = np.transpose(np.fft.rfft(np.roll(a.window(n_fft), -PRE_SAMPLES, axis=-1), n_fft,
                                  axis=-1), (2, 1, 0))  # (F, 2, D)
    heads = head_positions(li, robust_cm, robust_points)
    drivers = scene.device.driver_positions()
    dist = np.linalg.norm(drivers[None] - heads[:, None], axis=-1)  # (P, D)
    c = scene.simulation.c_m_s
    moved = (dist[0] / dist) * np.exp(-2j * np.pi * f[:, None, None] * (dist - dist[0]) / c)
    G = (g0[:, None, :, :] * moved[:, :, None, :]).reshape(f.size, -1, g0.shape[-1])
    tau0 = max(float(dist[0].min()) - li.head_radius_m, 0.0) / c
    g_ref = np.sqrt(np.mean(np.abs(g0) ** 2, axis=(1, 2)))
    return Plant(freqs_hz=f, G=G, bulk_delay_s=tau0, g_ref=g_ref, heads_m=heads,
                 spread_samples=spread_samples(scene, li))


def measured_cancellation(scene: Scene, plant: MeasuredPlant, filters: FilterSet,
                          listener_index: int = 0, grid: BandGrid | None = None) -> Cancellation:
    """1/3-octave cancellation (`dsp.analysis.cancellation`'s) of a 2-input FilterSet on the
    measured plant: all of its aligned IRs, not the design's window."""
    grid = grid or report_grid()
    h = align(scene, plant, listener_index).response(grid.freqs_hz)  # (F, 2, D)
    c = fir_response(filters.fir, filters.fs_hz, grid.freqs_hz)  # (I, D, F)
    left, right = _band_cancellation(np.einsum("fed,idf->fei", h, c), grid)
    return Cancellation(grid.centres_hz, left, right)


def plant_report(scene: Scene, plant: MeasuredPlant | None, listener_index: int = 0,
                 n_taps: int = 1024, oversample: int = 2) -> dict:
    """What the design report says of the plant: {"plant": "simulated"}, or "measured" with
    the file, its SHA-256, its form, its timing, the per-driver offsets found (ms) and the
    energy the design grid's window (oversample · n_taps) cut off (dB)."""
    if plant is None:
        return {"plant": "simulated"}
    a = align(scene, plant, listener_index)
    return {**plant.to_dict(),
            "plant_offsets_ms": {d: round(1e3 * float(t), 4)
                                 for d, t in zip(plant.drivers, a.offsets_s, strict=True)},
            "plant_window_loss_db": round(a.window_loss_db(oversample * n_taps), 1)}
