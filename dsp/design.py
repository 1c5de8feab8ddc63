"""One call per redesign: `design` makes the filters, `redesign` adds everything the plots
need (cancellation at the sweet spot, azimuth-frequency map, listening-zone map, effort).

The GUI calls `redesign(scene, params)` on every drag event; the CLI and tests call the same
functions. Timings of each stage are returned so the GUI can show them and the benchmark can
report them.
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
from dsp.fir import realize
from dsp.params import DesignError, DesignParams, check_params
from dsp.plant import check_geometry, check_taps, listener_of
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
    sweet spot (None for the beam); azimuth: azimuth-frequency map (polar cuts via
    `AzimuthMap.polar`); zone: listening-zone map; timing_ms: per stage and total.
    """

    design: DesignResult
    cancellation: Cancellation | None
    azimuth: AzimuthMap
    zone: ZoneMap
    timing_ms: dict


def redesign(scene: Scene, params: DesignParams, zone_shape: tuple[int, int] = (50, 40),
             map_freqs: int = 513, with_cancellation: bool = True) -> Redesign:
    """Design + sweet-spot cancellation + azimuth-frequency map + zone map, in one call.

    zone_shape: (nx, ny) grid; map_freqs: frequency bins of the azimuth map (360 azimuths).
    """
    t0 = time.perf_counter()
    d = design(scene, params)
    t1 = time.perf_counter()
    canc = None
    if with_cancellation and params.method != "beam":
        canc = cancellation(scene, d.filters, params.listener)
    t2 = time.perf_counter()
    amap = azimuth_map(scene, d.filters, map_freqs)
    t3 = time.perf_counter()
    kind = "beam" if params.method == "beam" else "cancellation"
    zone = zone_map(scene, d.filters, kind, *zone_shape, listener_index=params.listener,
                    az_map=amap)
    t4 = time.perf_counter()
    timing = {**d.timing_ms, "cancellation": 1e3 * (t2 - t1), "azimuth_map": 1e3 * (t3 - t2),
              "zone_map": 1e3 * (t4 - t3), "total": 1e3 * (t4 - t0)}
    return Redesign(design=d, cancellation=canc, azimuth=amap, zone=zone, timing_ms=timing)
