"""One call per redesign: `design` makes the filters, `redesign` adds everything the plots
need (cancellation at the sweet spot, azimuth-frequency map, listening-zone map, effort).

The GUI calls `redesign(scene, params)` on every drag event; the CLI and tests call the same
functions. Timings of each stage are returned so the GUI can show them and the benchmark can
report them.

Designs are made on the free-field plant. `design_in_room` carries one over to the scene's
room below a crossover frequency: it re-solves the driver filters so that their ear responses
through the room's early response (`dsp.plant.room_plant`) equal the free-field design's ear
responses in free field, so the reflections inside the window no longer undo the cancellation
and virtualization, and keeps the free-field filters above the crossover.

Why a crossover: compensating a reflection with a causal FIR whose main tap sits at the
modelling delay means emitting part of the correction before the direct sound, to arrive
through the reflection's longer path. At the design point it cancels; elsewhere it is a
pre-echo. Below ~2 kHz the wavelength (≥ 17 cm) keeps that cancellation over head-sized
moves; above, 1 cm is already a fraction of a wavelength. Measured in the living room (ear
energy ahead of the first arrival, re the whole response): full-band correction −27 dB at the
sweet spot, −16 dB 1 cm and −13 dB 2 cm off it; below 2 kHz only, −29 dB at all three.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field, replace

import numpy as np

from dsp.analysis import (
    AzimuthMap,
    Cancellation,
    ZoneMap,
    azimuth_map,
    cancellation,
    effort_spectrum,
    zone_map,
)
from dsp.filterset import FilterSet
from dsp.fir import design_freqs, realize
from dsp.params import DesignError, DesignParams, check_params
from dsp.plant import RoomIrs, check_geometry, check_taps, design_plant, listener_of, room_plant
from sim.scene import Scene, content_hash


@dataclass
class DesignResult:
    """A design and what it is made of.

    filters: the realized FilterSet; freqs_hz (F,) design grid; response (F, D, I) designed
    frequency responses (modelling delay included); beta (F,) regularization; effort_db (F,)
    realized effort on the design grid (CTC family: per-input driver gain re one average
    driver; beam: inverse white-noise gain); fir_error_db: FIR realization error; g_ref (F,)
    effort reference (None for the beam); beam / virtual: method-specific details
    (`dsp.beam.BeamDesign`, `dsp.virtualizer.VirtualFit`); timing_ms.
    """

    params: DesignParams
    filters: FilterSet
    freqs_hz: np.ndarray
    response: np.ndarray
    beta: np.ndarray
    effort_db: np.ndarray
    fir_error_db: float
    g_ref: np.ndarray | None = None
    beam: object | None = None
    virtual: object | None = None
    warnings: list[str] = field(default_factory=list)
    timing_ms: dict = field(default_factory=dict)

    @property
    def max_effort_db(self) -> float:
        return float(np.max(self.effort_db))


@functools.cache
def _version() -> str:
    # Reading the installed metadata costs about a millisecond: once per process is enough.
    try:
        from importlib.metadata import version

        return version("acoustic-workbench")
    except Exception:  # not installed (running from a checkout)
        return "0+unknown"


# The effort-cap retry and parameter-only redesigns see the same scene again.
_scene_hash = functools.lru_cache(maxsize=4)(content_hash)


def check_design(scene: Scene, params: DesignParams) -> None:
    """Every check that can fail before any work: raises DesignError with one reason."""
    check_params(params)
    check_geometry(scene, params.listener)
    if params.plant is not None:
        from dsp.measured_plant import check_measured

        check_measured(scene, params.plant, params.method)
    n = len(scene.device.drivers)
    m = params.method
    if m == "ctc" and n != 2:
        raise DesignError(f"ctc needs exactly 2 drivers; device {scene.device.name!r} has {n}"
                          + (" (use nullsteer)" if n > 2 else ""))
    if m == "nullsteer" and n <= 2:
        raise DesignError(f"nullsteer needs more than 2 drivers; device {scene.device.name!r}"
                          f" has {n} (use ctc)")
    if m == "virtualizer" and n < 2:
        raise DesignError(f"virtualizer needs ≥ 2 drivers; device {scene.device.name!r} has {n}")
    extra = 0.0
    if m == "virtualizer":
        # The contralateral path adds the virtual ITD (≤ 3a/c) and the shelves' group delay.
        li = listener_of(scene, params.listener)
        extra = 3 * li.head_radius_m / scene.simulation.c_m_s * scene.simulation.fs_hz + 8
    check_taps(scene, listener_of(scene, params.listener), params.n_taps, params.delay, extra)
    if m == "beam":
        from dsp.beam import check_beam_geometry

        check_beam_geometry(scene, params)


def _design_once(scene: Scene, params: DesignParams, cap_db: float) -> DesignResult:
    t0 = time.perf_counter()
    params_in = params
    params = replace(params, max_effort_db=cap_db)
    fs_hz = scene.simulation.fs_hz
    beam = virtual = g_ref = None
    if params.method == "beam":
        from dsp.beam import design_beam

        beam = design_beam(scene, params)
        freqs, n_fft, response, beta = beam.freqs_hz, beam.n_fft, beam.response, beam.beta
        inputs = ["mono"]
    else:
        from dsp.inverse import design_inverse

        post = None
        if params.method == "virtualizer":
            from dsp.fir import design_freqs
            from dsp.virtualizer import fit_virtualization

            virtual = fit_virtualization(scene, params.listener, params.virtual_angle_deg,
                                         params.virtual_distance_m)
            post = virtual.matrix(design_freqs(params.n_taps, fs_hz, params.oversample)[1])
        inv = design_inverse(scene, params, post)
        freqs, n_fft, response, beta = inv.freqs_hz, inv.n_fft, inv.response, inv.beta
        g_ref = inv.plant.g_ref.copy()  # the plant is cached (read-only); results are not
        inputs = ["left", "right"]
    t1 = time.perf_counter()
    fir, err = realize(np.transpose(response, (2, 1, 0)), n_fft, params.n_taps)
    meta = {
        "format": "acoustic-workbench-filters", "version": _version(), "method": params.method,
        "scene": scene.name, "scene_hash": _scene_hash(scene), "fs": fs_hz,
        "delay": params.delay, "n_taps": params.n_taps, "parameters": params.to_dict(),
        "inputs": inputs, "drivers": [d.name for d in scene.device.drivers],
        "driver_positions_m": [list(d.position_m) for d in scene.device.drivers],
        "fir_error_db": round(err, 2),
    }
    filters = FilterSet(fir=fir, fs_hz=fs_hz, delay_samples=params.delay, meta=meta)
    if beam is not None:
        c = np.fft.rfft(fir[0], n_fft, axis=-1).T  # (F, D)
        on = np.abs(np.sum(beam.on_axis * c, axis=-1)) ** 2
        effort = 10 * np.log10(np.sum(np.abs(c) ** 2, axis=-1) / np.maximum(on, 1e-300))
        band = (freqs >= 100.0) & (freqs <= 0.45 * fs_hz)
        effort = np.where(band, effort, np.minimum(effort, beam.effort_db))
        meta["rtf_reference_driver"] = scene.device.drivers[beam.reference].name
        from dsp.beam import rtf_form

        filters.rtf = rtf_form(beam, params.n_taps, params.delay, fs_hz, meta["drivers"])
    else:
        effort = effort_spectrum(filters, g_ref, n_fft)
    meta["effort_db"] = round(float(np.max(effort)), 2)
    warnings = []
    if err > -20.0:
        warnings.append(f"FIR realization error {err:.1f} dB: {params.n_taps} taps are short for"
                        " this design (more taps or a lower effort)")
    t2 = time.perf_counter()
    meta["parameters"] = params_in.to_dict()
    return DesignResult(params=params_in, filters=filters, freqs_hz=freqs, response=response,
                        beta=beta, effort_db=effort, fir_error_db=err, g_ref=g_ref, beam=beam,
                        virtual=virtual, warnings=warnings,
                        timing_ms={"design": 1e3 * (t1 - t0), "fir": 1e3 * (t2 - t1)})


def design(scene: Scene, params: DesignParams) -> DesignResult:
    """Design filters for the scene (free field). Raises DesignError for impossible requests.

    The effort cap holds for the realized FIRs: cutting the ideal response to n_taps can
    raise the effort slightly, so when the realized effort overshoots the cap the design is
    redone once with the cap lowered by the overshoot.
    """
    check_design(scene, params)
    d = _design_once(scene, params, params.max_effort_db)
    over = d.max_effort_db - params.max_effort_db
    if over > 0.0:
        first = d.timing_ms
        d = _design_once(scene, params, params.max_effort_db - over - 0.05)
        d.timing_ms = {k: v + first.get(k, 0.0) for k, v in d.timing_ms.items()}
    return d


@dataclass
class Redesign:
    """Everything a Design panel redraw needs.

    design: the DesignResult (filters, β, effort, FIR error, responses); cancellation: at the
    sweet spot (None for the beam), on the plant designed on; azimuth: azimuth-frequency map
    (polar cuts via `AzimuthMap.polar`); zone: listening-zone map; timing_ms: per stage and
    total; simulated: for a design on a measured plant, its cancellation on the simulated one.
    """

    design: DesignResult
    cancellation: Cancellation | None
    azimuth: AzimuthMap
    zone: ZoneMap
    timing_ms: dict
    simulated: Cancellation | None = None


def redesign(scene: Scene, params: DesignParams, zone_shape: tuple[int, int] = (50, 40),
             map_freqs: int = 513, with_cancellation: bool = True) -> Redesign:
    """Design + sweet-spot cancellation + azimuth-frequency map + zone map, in one call.

    zone_shape: (nx, ny) grid; map_freqs: frequency bins of the azimuth map (360 azimuths).
    """
    t0 = time.perf_counter()
    d = design(scene, params)
    t1 = time.perf_counter()
    canc = simulated = None
    if with_cancellation and params.method != "beam":
        canc = cancellation(scene, d.filters, params.listener)
        if params.plant is not None:
            from dsp.measured_plant import measured_cancellation

            simulated = canc
            canc = measured_cancellation(scene, params.plant, d.filters, params.listener)
    t2 = time.perf_counter()
    amap = azimuth_map(scene, d.filters, map_freqs)
    t3 = time.perf_counter()
    kind = {"beam": "beam", "virtualizer": "virtualization"}.get(params.method, "cancellation")
    zone = zone_map(scene, d.filters, kind, *zone_shape, listener_index=params.listener,
                    az_map=amap)
    t4 = time.perf_counter()
    timing = {**d.timing_ms, "cancellation": 1e3 * (t2 - t1), "azimuth_map": 1e3 * (t3 - t2),
              "zone_map": 1e3 * (t4 - t3), "total": 1e3 * (t4 - t0)}
    return Redesign(design=d, cancellation=canc, azimuth=amap, zone=zone, timing_ms=timing,
                    simulated=simulated)


ROOM_CROSSOVER_OCTAVES = 1.0
"""Width of the raised-cosine blend between room-corrected and free-field filters, octaves."""


def _room_weight(freqs_hz: np.ndarray, max_hz: float) -> np.ndarray:
    """(F,) 1 below max_hz · 2^(−w/2), 0 above max_hz · 2^(w/2), raised cosine in log f."""
    x = np.log2(np.maximum(freqs_hz, 1e-3) / max_hz) / ROOM_CROSSOVER_OCTAVES + 0.5
    return 0.5 + 0.5 * np.cos(np.pi * np.clip(x, 0.0, 1.0))


def design_in_room(scene: Scene, filters: FilterSet, irs: RoomIrs, max_effort_db: float,
                   max_hz: float = 2000.0, listener: int = 0,
                   tol: float = 1e-4, max_iter: int = 1000) -> tuple[FilterSet, float]:
    """A free-field design `filters` (K inputs → N drivers, n taps) carried into the room.

    The new FIRs c (K, N, n) minimize, on the design grid (n_fft = 2n, f in Hz),
        Σ_f w(f)·(‖G_room c(f) − G_free c_free(f)‖² + β(f)‖c(f)‖²)
          + (1 − w(f))·s(f)·‖c(f) − c_free(f)‖²
    at the sweet spot: G_free c_free are the ear responses the free-field filters give in free
    field (cancellation, virtualization and the target curve's regularization included),
    G_room the room plant of `irs`; w = `_room_weight(f, max_hz)` hands over from the room
    solution to the free-field filters around max_hz (Hz); s(f) = mean |G_room|² puts both
    terms on one scale; β (F,) is the smallest regularization keeping each input's driver
    gain within max_effort_db (dB re the free-field plant's g_ref, the scale of `design`),
    floored at 1e-3·s for conditioning. The FIRs are held to n taps (no cut after the
    solve): preconditioned conjugate gradients on the normal equations, the preconditioner
    being the exact per-frequency solution without the length limit, stopped at relative
    residual `tol` (a few hundred iterations).

    Returns the new FilterSet (same taps, modelling delay, meta plus "design_space",
    "early_window_ms", "room_max_hz", "room_error_db") and room_error_db: the remaining ear
    error where w = 1, 10·log10(Σ‖G_room c − E‖² / Σ‖E‖²), E = G_free c_free. Raises
    DesignError when the window does not fit the design grid.
    """
    from dsp.regularization import Tikhonov, beta_for_gain

    n = filters.n_taps
    n_fft, f = design_freqs(n, filters.fs_hz, 2)
    free = design_plant(scene, f, listener)
    room = room_plant(scene, f, irs, listener)
    g = room.G  # (F, 2, N)
    c_free = np.transpose(np.fft.rfft(filters.fir, n_fft, axis=-1), (2, 1, 0))  # (F, N, K)
    target = free.G[:, :2, :] @ c_free  # (F, 2, K)
    scale = np.mean(np.abs(g) ** 2, axis=(1, 2))
    beta = beta_for_gain(Tikhonov(g, target), 10.0 ** (max_effort_db / 20.0) / free.g_ref)
    beta = np.maximum(beta, 1e-3 * scale)
    w = _room_weight(f, max_hz)[:, None, None]
    gh = np.conj(np.swapaxes(g, 1, 2))
    eye = np.eye(g.shape[2])
    a = w * (gh @ g + beta[:, None, None] * eye) + (1.0 - w) * scale[:, None, None] * eye
    rhs = w * (gh @ target) + (1.0 - w) * scale[:, None, None] * c_free  # (F, N, K)
    a_inv = np.linalg.inv(a)

    def apply(m: np.ndarray, x: np.ndarray) -> np.ndarray:
        """m (F, N, N) applied per frequency to FIRs x (K, N, n_fft), result cut to n taps."""
        y = np.fft.irfft(np.einsum("fij,kjf->kif", m, np.fft.rfft(x, axis=-1)), n_fft, axis=-1)
        y[..., n:] = 0.0
        return y

    b = np.fft.irfft(np.transpose(rhs, (2, 1, 0)), n_fft, axis=-1)
    b[..., n:] = 0.0
    x = apply(a_inv, b)  # the unlimited solution cut to n taps: the start
    r = b - apply(a, x)
    z = apply(a_inv, r)
    p = z.copy()
    rz = np.sum(r * z, axis=(1, 2))
    stop = tol**2 * np.sum(b * b, axis=(1, 2))
    for _ in range(max_iter):
        ap = apply(a, p)
        step = rz / np.sum(p * ap, axis=(1, 2))
        x += step[:, None, None] * p
        r -= step[:, None, None] * ap
        if np.all(np.sum(r * r, axis=(1, 2)) <= stop):
            break
        z = apply(a_inv, r)
        rz_next = np.sum(r * z, axis=(1, 2))
        p = z + (rz_next / rz)[:, None, None] * p
        rz = rz_next
    fir = x[..., :n]
    c = np.transpose(np.fft.rfft(fir, n_fft, axis=-1), (2, 1, 0))
    full = w[:, 0, 0] >= 1.0 - 1e-12  # the band handed over entirely to the room solution
    miss = np.sum(np.abs(g[full] @ c[full] - target[full]) ** 2)
    err = float(10.0 * np.log10(max(miss, 1e-300) / max(np.sum(np.abs(target[full]) ** 2),
                                                           1e-300)))
    meta = {**filters.meta, "design_space": "room_early", "early_window_ms": irs.window_ms,
            "room_max_hz": max_hz, "room_error_db": round(err, 2)}
    return FilterSet(fir=fir, fs_hz=filters.fs_hz, delay_samples=filters.delay_samples,
                     meta=meta), err
