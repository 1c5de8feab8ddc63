"""Analysis of a FilterSet in a scene: cancellation spectra, azimuth-frequency map and polar
cuts, listening-zone map, displacement sensitivity, effort, filter responses, and the room
(RIR) variant scored on the direct sound. Everything is vectorized over frequencies,
positions and angles; the heavy plants are cached by what they depend on.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from dsp.bands import BandGrid, band_db, band_grid, third_octave_centres
from dsp.filterset import FilterSet
from dsp.fir import fir_response
from dsp.plant import lateral_unit
from dsp.plant_table import grid_plant
from sim.freefield import ear_transfer_at, farfield_circle
from sim.scene import Device, Scene

REPORT_BANDS = (100.0, 16000.0)


@functools.lru_cache(maxsize=8)
def report_grid(lo_hz: float = REPORT_BANDS[0], hi_hz: float = REPORT_BANDS[1],
                points: int = 16) -> BandGrid:
    return band_grid(third_octave_centres(lo_hz, hi_hz), points)


def at_ear(scene: Scene, fs: FilterSet, freqs_hz: np.ndarray, heads_m: np.ndarray,
           yaw_deg, listener_index: int = 0, fast: bool = False) -> np.ndarray:
    """Ear pressure per input (F, L, 2 ears, I) for heads (L, 3): Σ_d H[f,d,l,e] C[d,i](f).

    fast: the tabulated plant (`dsp.plant_table`, complex64, ≤ −40 dB error) instead of the
    exact series."""
    li = scene.listeners[listener_index]
    f = np.asarray(freqs_hz, dtype=float)
    if fast:
        return ear_pressure(grid_plant(scene, f, heads_m, yaw_deg, li),
                            fir_response(fs.fir, fs.fs_hz, f))
    h = ear_transfer_at(scene, f, heads_m, yaw_deg, li)
    c = fir_response(fs.fir, fs.fs_hz, f)  # (I, D, F)
    return np.einsum("fdle,idf->flei", h, c)


def ear_pressure(plant: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Ear pressure (F, L, 2, I) of a plant laid out (F, L, 2, D) (`grid_plant`) driven by
    filter responses c (I, D, F): per frequency one (2L × D)·(D × I) product, in the plant's
    precision."""
    n_f, n_l, n_e, n_d = plant.shape
    cm = np.ascontiguousarray(np.transpose(c, (2, 1, 0)), dtype=plant.dtype)  # (F, D, I)
    return (plant.reshape(n_f, n_l * n_e, n_d) @ cm).reshape(n_f, n_l, n_e, -1)


@dataclass
class Cancellation:
    """Band cancellation (dB, ipsi/contra energy) per input; band_hz (B,); left/right (B,)."""

    band_hz: np.ndarray
    left: np.ndarray
    right: np.ndarray

    def to_dict(self) -> dict:
        return {"band_hz": [float(v) for v in self.band_hz],
                "left": [round(float(v), 2) for v in self.left],
                "right": [round(float(v), 2) for v in self.right]}


def _band_cancellation(m: np.ndarray, grid: BandGrid) -> tuple[np.ndarray, np.ndarray]:
    """m (F, 2 ears, 2 inputs) → (left, right) band cancellation (B,) each."""
    left = band_db(np.abs(m[:, 0, 0]) ** 2, np.abs(m[:, 1, 0]) ** 2, grid)
    right = band_db(np.abs(m[:, 1, 1]) ** 2, np.abs(m[:, 0, 1]) ** 2, grid)
    return left, right


def cancellation(scene: Scene, fs: FilterSet, listener_index: int = 0,
                 lateral_m: float = 0.0, grid: BandGrid | None = None) -> Cancellation:
    """1/3-octave cancellation at the listener displaced laterally by lateral_m (m, + = to
    the listener's left), free field, exact plant. Needs a 2-input FilterSet."""
    grid = grid or report_grid()
    li = scene.listeners[listener_index]
    head = np.asarray(li.position_m) + lateral_m * lateral_unit(li)
    m = at_ear(scene, fs, grid.freqs_hz, head[None], li.yaw_deg, listener_index)[:, 0]
    left, right = _band_cancellation(m, grid)
    return Cancellation(grid.centres_hz, left, right)


def cancellation_probe(scene: Scene, fs: FilterSet, probe_m: float, listener_index: int = 0,
                       grid: BandGrid | None = None) -> Cancellation:
    """Worst of ±probe_m lateral displacement, per band and input."""
    a = cancellation(scene, fs, listener_index, probe_m, grid)
    b = cancellation(scene, fs, listener_index, -probe_m, grid)
    return Cancellation(a.band_hz, np.minimum(a.left, b.left), np.minimum(a.right, b.right))


def displacement_sensitivity(scene: Scene, fs: FilterSet, offsets_m: np.ndarray,
                             band_hz: tuple[float, float] = (1000.0, 6300.0),
                             listener_index: int = 0) -> np.ndarray:
    """Worst-input mean band cancellation (dB) over `band_hz` for lateral offsets (O,) → (O,)."""
    grid = report_grid(*band_hz, 8)
    li = scene.listeners[listener_index]
    heads = np.asarray(li.position_m) + np.asarray(offsets_m)[:, None] * lateral_unit(li)
    m = at_ear(scene, fs, grid.freqs_hz, heads, li.yaw_deg, listener_index, fast=True)
    out = []
    for k in range(heads.shape[0]):
        left, right = _band_cancellation(m[:, k], grid)
        out.append(min(left.mean(), right.mean()))
    return np.array(out)


@functools.lru_cache(maxsize=4)
def _circle(device: Device, freqs: tuple, az: tuple, c: float, fs: int) -> np.ndarray:
    """Far-field plant (F, D, A), read-only. A device does not change while a listener is
    dragged or a parameter moves: keep its far-field plant."""
    a = farfield_circle(device, np.array(freqs), np.array(az), c=c, fs_hz=fs)
    a.flags.writeable = False
    return a


@dataclass
class AzimuthMap:
    """Far-field level per input over azimuth and frequency.

    freqs_hz (F,), azimuths_deg (A,) device frame (0 = front, ccw); level_db (I, F, A) re the
    input (1/r removed); on_axis_db (I, F).
    """

    freqs_hz: np.ndarray
    azimuths_deg: np.ndarray
    level_db: np.ndarray

    @property
    def on_axis_db(self) -> np.ndarray:
        i = int(np.argmin(np.abs(self.azimuths_deg)))
        return self.level_db[:, :, i]

    def polar(self, freq_hz: float, normalize: bool = True) -> np.ndarray:
        """Polar cut (I, A) at the nearest map frequency, dB (re on-axis if normalize)."""
        j = int(np.argmin(np.abs(self.freqs_hz - freq_hz)))
        cut = self.level_db[:, j, :]
        return cut - self.on_axis_db[:, j:j + 1] if normalize else cut

    def polar_band(self, lo_hz: float, hi_hz: float, normalize: bool = True) -> np.ndarray:
        """Band-energy polar cut (I, A) over lo..hi Hz."""
        m = (self.freqs_hz >= lo_hz) & (self.freqs_hz <= hi_hz)
        p = 10 * np.log10(np.mean(10 ** (self.level_db[:, m, :] / 10), axis=1))
        if normalize:
            i = int(np.argmin(np.abs(self.azimuths_deg)))
            p = p - p[:, i:i + 1]
        return p


def azimuth_map(scene: Scene, fs: FilterSet, n_freqs: int = 513,
                azimuths_deg: np.ndarray | None = None) -> AzimuthMap:
    """Azimuth-frequency map (default 360 azimuths × 513 rfft bins of 1024 points)."""
    az = np.arange(-180.0, 180.0, 1.0) if azimuths_deg is None else np.asarray(azimuths_deg)
    f = np.fft.rfftfreq(2 * (n_freqs - 1), 1.0 / fs.fs_hz)
    a = _circle(scene.device, tuple(f.tolist()), tuple(az.tolist()), scene.simulation.c_m_s,
                scene.simulation.fs_hz)  # (F, D, A)
    c = np.fft.rfft(fs.fir, 2 * (n_freqs - 1), axis=-1)  # (I, D, F)
    p = np.empty((c.shape[0], f.size, az.size), dtype=complex)
    for i in range(c.shape[0]):  # per frequency a (1 × D)·(D × A) product, into place
        np.matmul(c[i].T[:, None, :], a, out=p[i][:, None, :])
    return AzimuthMap(f, az, 20 * np.log10(np.abs(p) + 1e-12))


ZONE_THRESHOLD_DB = {"cancellation": 10.0, "beam": 10.0, "virtualization": 2.0}
"""Default zone threshold per map kind: cancellation and attenuation ≥ it, the
virtualization's ILD error ≤ it."""

VIRTUAL_POINTS_PER_BAND = 2
"""Frequencies per 1/3-octave band of the virtualization zone's ILD (band energies: single
frequencies would score the responses' fine structure)."""

ZONE_ITD_ERROR_US = 50.0
"""A virtualization zone cell also needs its ITD error within this (about twice the ITD
just-noticeable difference of a frontal source)."""


@dataclass
class ZoneMap:
    """Listening-zone map over a floor grid.

    x_m (nx,), y_m (ny,) room-frame grid axes; value_db (ny, nx), by `kind`:
    "cancellation" (CTC, null-steering: worst-input ipsi/contra energy over `band_hz`),
    "beam" (the attenuation re the on-axis level at the same distance), "virtualization"
    (the virtualizer: worst-input RMS over the 1/3-octave bands of `band_hz` of the ILD
    error, dB, against the reference stereo pair at ±30° seen by the same head; lower is
    better) with itd_error_us (ny, nx) the worst-input |ITD error| in µs (else None); NaN
    where no head fits (outside the room, inside the device); area_m2: floor area in the zone
    (value ≥ threshold_db; for "virtualization" ILD error ≤ threshold_db and ITD error ≤
    `ZONE_ITD_ERROR_US`).
    """

    x_m: np.ndarray
    y_m: np.ndarray
    value_db: np.ndarray
    kind: str
    band_hz: tuple[float, float]
    threshold_db: float
    area_m2: float
    itd_error_us: np.ndarray | None = None

    @property
    def criterion(self) -> str:
        """What a cell in the zone meets, as text ("≥ 10 dB")."""
        if self.kind == "virtualization":
            return (f"ILD error ≤ {self.threshold_db:g} dB, ITD error ≤"
                    f" {ZONE_ITD_ERROR_US:g} µs")
        return f"≥ {self.threshold_db:g} dB"


def zone_grid(scene: Scene, nx: int = 50, ny: int = 40, listener_index: int = 0):
    """Default grid (x (nx,), y (ny,), z): the room's floor bounding box, or in free field a
    rectangle in front of the device reaching twice the listener's distance."""
    poly = scene.room.floor_polygon()
    li = scene.listeners[listener_index]
    z = li.position_m[2]
    if poly is not None:
        (x0, y0), (x1, y1) = poly.min(axis=0), poly.max(axis=0)
        pad = 0.5 * min((x1 - x0) / nx, (y1 - y0) / ny)
        return np.linspace(x0 + pad, x1 - pad, nx), np.linspace(y0 + pad, y1 - pad, ny), z
    dev = np.asarray(scene.device.position_m)
    r = max(float(np.linalg.norm(np.asarray(li.position_m)[:2] - dev[:2])), 1.0)
    return (np.linspace(dev[0] - 0.5 * r, dev[0] + 2.0 * r, nx),
            np.linspace(dev[1] - 1.0 * r, dev[1] + 1.0 * r, ny), z)


@functools.lru_cache(maxsize=4)
def _zone_heads(scene: Scene, nx: int, ny: int, listener_index: int):
    """Grid axes xs (nx,), ys (ny,), heads (L, 3) row-major over (y, x), valid (L,) (a head
    fits: in the room, clear of the drivers), yaws (L,) facing the device; read-only, cached
    because the room's point-in-polygon test runs per head."""
    from sim.geometry import points_in_polygon

    xs, ys, z = zone_grid(scene, nx, ny, listener_index)
    gx, gy = np.meshgrid(xs, ys)
    heads = np.stack([gx.ravel(), gy.ravel(), np.full(gx.size, z)], axis=-1)
    dev = np.asarray(scene.device.position_m)
    li = scene.listeners[listener_index]
    drivers = scene.device.driver_positions()
    dmin = np.min(np.linalg.norm(heads[:, None] - drivers[None], axis=-1), axis=1)
    valid = dmin > li.head_radius_m + 0.05
    poly = scene.room.floor_polygon()
    if poly is not None:
        valid &= points_in_polygon(heads[:, 0], heads[:, 1], poly)
    yaw = np.degrees(np.arctan2(dev[1] - heads[:, 1], dev[0] - heads[:, 0]))
    for a in (xs, ys, heads, valid, yaw):
        a.flags.writeable = False
    return xs, ys, heads, valid, yaw


@functools.lru_cache(maxsize=2)
def _zone_plant(scene: Scene, nx: int, ny: int, listener_index: int,
                freqs: tuple) -> np.ndarray:
    """Tabulated plant (F, L_valid, 2, D) of the zone grid, read-only. Cached: a redesign
    after a parameter change (effort, target, taps) keeps the scene, so only the filters
    change and the map costs one product per frequency."""
    _, _, heads, valid, yaw = _zone_heads(scene, nx, ny, listener_index)
    h = grid_plant(scene, np.array(freqs), heads[valid], yaw[valid],
                   scene.listeners[listener_index])
    h.flags.writeable = False
    return h


def zone_map(scene: Scene, fs: FilterSet, kind: str = "cancellation", nx: int = 50,
             ny: int = 40, band_hz: tuple[float, float] = (400.0, 8000.0),
             threshold_db: float | None = None, listener_index: int = 0,
             az_map: AzimuthMap | None = None) -> ZoneMap:
    """Zone map with every head facing the device; one frequency per 1/3 octave in band_hz.
    threshold_db: None → `ZONE_THRESHOLD_DB` of the kind."""
    xs, ys, heads, valid, _ = _zone_heads(scene, nx, ny, listener_index)
    dev = np.asarray(scene.device.position_m)
    f = third_octave_centres(*band_hz)
    threshold = ZONE_THRESHOLD_DB[kind] if threshold_db is None else threshold_db
    value = np.full(heads.shape[0], np.nan)
    itd = None
    if kind == "beam":
        # Far field: a position's attenuation is the beam's band level toward its azimuth
        # (device frame) re on-axis, the same at every distance.
        hv = heads[valid]
        amap = az_map if az_map is not None else azimuth_map(scene, fs)
        polar = -amap.polar_band(*band_hz)[0]
        az = np.degrees(np.arctan2(hv[:, 1] - dev[1], hv[:, 0] - dev[0])) - scene.device.yaw_deg
        az = (az + 180.0) % 360.0 - 180.0
        value[valid] = np.interp(az, amap.azimuths_deg, polar, period=360.0)
    elif kind == "virtualization":
        itd = np.full(heads.shape[0], np.nan)
        value[valid], itd[valid] = _virtualization_error(scene, fs, nx, ny, listener_index, f)
        itd = itd.reshape(ny, nx)
    else:
        plant = _zone_plant(scene, nx, ny, listener_index, tuple(f.tolist()))
        m = ear_pressure(plant, fir_response(fs.fir, fs.fs_hz, f))  # (F, L, 2, 2)
        e = np.abs(m) ** 2  # single precision from the tables: a floor float32 can hold
        left = np.sum(e[:, :, 0, 0], axis=0) / np.maximum(np.sum(e[:, :, 1, 0], axis=0), 1e-30)
        right = np.sum(e[:, :, 1, 1], axis=0) / np.maximum(np.sum(e[:, :, 0, 1], axis=0), 1e-30)
        value[valid] = 10 * np.log10(np.minimum(left, right))
    value = value.reshape(ny, nx)
    cell = (xs[1] - xs[0]) * (ys[1] - ys[0]) if nx > 1 and ny > 1 else 0.0
    if itd is None:
        inside = np.nan_to_num(value, nan=-np.inf) >= threshold
    else:
        inside = ((np.nan_to_num(value, nan=np.inf) <= threshold)
                  & (np.nan_to_num(itd, nan=np.inf) <= ZONE_ITD_ERROR_US))
    area = float(np.count_nonzero(inside) * cell)
    return ZoneMap(xs.copy(), ys.copy(), value, kind, tuple(band_hz), threshold, area, itd)


def _virtualization_error(scene: Scene, fs: FilterSet, nx: int, ny: int, listener_index: int,
                          centres_hz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per valid zone head (L,): the worst-input RMS ILD error (dB) over the 1/3-octave bands
    of centres_hz (band energies, `VIRTUAL_POINTS_PER_BAND` frequencies a band), and the
    worst-input |ITD error| (µs, from the 1/3-octave centres in the ITD band), of the
    device's ear signals against the reference pair's (the same for every head: each faces
    the device, and the pair is placed for the head, `reference_pair_ears`)."""
    from dsp.virtualizer import ITD_BAND_HZ, interaural_delay_s, reference_pair_ears

    grid = band_grid(centres_hz, VIRTUAL_POINTS_PER_BAND)
    f_itd = third_octave_centres(*ITD_BAND_HZ)
    f = np.concatenate([grid.freqs_hz, f_itd])
    plant = _zone_plant(scene, nx, ny, listener_index, tuple(f.tolist()))
    m = ear_pressure(plant, fir_response(fs.fir, fs.fs_hz, f)).astype(complex)  # (F, L, 2, 2)
    ref = np.transpose(reference_pair_ears(scene, listener_index, f), (0, 2, 1))[:, None]
    nb = grid.freqs_hz.size
    ild_err, itd_err = [], []
    for k in range(2):  # input k's ipsilateral ear is k
        def ild(x, k=k):
            p = np.abs(x[:nb, :, :, k]) ** 2  # (F, L, ear)
            return band_db(p[..., k].T, p[..., 1 - k].T, grid)  # (L, B)

        ild_err.append(np.sqrt(np.mean((ild(m) - ild(ref)) ** 2, axis=-1)))
        itd_dev = interaural_delay_s(m[nb:, :, 0, k], m[nb:, :, 1, k], f_itd)
        itd_ref = interaural_delay_s(ref[nb:, :, 0, k], ref[nb:, :, 1, k], f_itd)
        itd_err.append(1e6 * np.abs(itd_dev - itd_ref))
    return np.max(ild_err, axis=0), np.max(itd_err, axis=0)


def effort_spectrum(fs: FilterSet, g_ref: np.ndarray, n_fft: int) -> np.ndarray:
    """Realized effort (F,) in dB on the rfft grid of n_fft: max over inputs of
    ‖C e_i‖ · g_ref (g_ref (F,) on the same grid)."""
    c = np.fft.rfft(fs.fir, n_fft, axis=-1)  # (I, D, F)
    col = np.sqrt(np.sum(np.abs(c) ** 2, axis=1)).max(axis=0)
    return 20 * np.log10(np.maximum(col * g_ref, 1e-300))


@dataclass
class FilterResponses:
    """freqs_hz (F,); magnitude_db, phase_rad (I, D, F); impulse (I, D, N); t_s (N,)."""

    freqs_hz: np.ndarray
    magnitude_db: np.ndarray
    phase_rad: np.ndarray
    impulse: np.ndarray
    t_s: np.ndarray


def filter_responses(fs: FilterSet, n_fft: int | None = None) -> FilterResponses:
    n = n_fft or 2 * fs.n_taps
    c = np.fft.rfft(fs.fir, n, axis=-1)
    f = np.fft.rfftfreq(n, 1.0 / fs.fs_hz)
    # Phase with the modelling delay removed, which is what an engineer wants to read.
    phase = np.angle(c * np.exp(2j * np.pi * f * fs.delay_samples / fs.fs_hz))
    return FilterResponses(f, 20 * np.log10(np.abs(c) + 1e-12), phase, fs.fir,
                           np.arange(fs.n_taps) / fs.fs_hz)


@dataclass
class RoomCancellation:
    """Cancellation through room IRs: `direct` on the first window_ms after the direct
    sound, `full` on the whole response (spatial.md takeaway 5: they differ a lot)."""

    direct: Cancellation
    full: Cancellation
    window_ms: float


def room_cancellation(scene: Scene, fs: FilterSet, listener_index: int = 0,
                      window_ms: float = 5.0, transfer=None, state=None) -> RoomCancellation:
    """Cancellation of a 2-input FilterSet through the scene's room IRs.

    transfer: a `sim.transfer.TransferResult` (default: the room engine, early only).
    """
    from scipy.signal import fftconvolve

    from sim.transfer import simulate

    tr = transfer or simulate(scene, "room", early_only=True, state=state)
    ir = tr.ir[:, listener_index]  # (D, 2, N)
    ears = fftconvolve(fs.fir[:, :, None, :], ir[None], axes=-1).sum(axis=1)  # (I, 2, N')
    li = scene.listeners[listener_index]
    dist = np.linalg.norm(scene.device.driver_positions() - np.asarray(li.position_m), axis=1)
    start = tr.t0_samples + fs.delay_samples + (dist.min() - li.head_radius_m) \
        / scene.simulation.c_m_s * tr.fs_hz
    n_win = round(start + window_ms * 1e-3 * tr.fs_hz)
    fade = max(int(0.001 * tr.fs_hz), 1)
    w = np.zeros(ears.shape[-1])
    w[:n_win] = 1.0
    w[n_win:n_win + fade] = 0.5 + 0.5 * np.cos(np.pi * (np.arange(min(fade, w.size - n_win))
                                                        + 0.5) / fade)
    grid = report_grid()

    def bands(x):
        spec = fir_response(x, tr.fs_hz, grid.freqs_hz)  # (I, 2, F)
        m = np.transpose(spec, (2, 1, 0))  # (F, ear, input)
        left, right = _band_cancellation(m, grid)
        return Cancellation(grid.centres_hz, left, right)

    return RoomCancellation(direct=bands(ears * w), full=bands(ears), window_ms=window_ms)
