"""Headline numbers of one redesign for the Design panel, read off what `dsp.design.redesign`
already computed (no new acoustics, a millisecond or so): worst sweet-spot cancellation in a
band, null depth and main-lobe deviation of a beam from the azimuth-frequency map, and the
null depth per frequency for a plot.

The beam figures follow `dsp.report.beam_metrics` (on-axis band energy over the band energy at
the null angle, per 1/3-octave band; lobe = largest |level − on-axis| over ±half-width), but on
the redesign's own 513-bin map at the configured null angles, so a drag does not pay for the
report's finer map.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dsp.analysis import AzimuthMap, Cancellation
from dsp.bands import third_octave_centres

CANCELLATION_BAND_HZ = (400.0, 8000.0)
BEAM_BAND_HZ = (500.0, 2000.0)


def _azimuth_index(amap: AzimuthMap, angle_deg: float) -> int:
    """Index of the map azimuth nearest to angle_deg (wrapped to [-180, 180))."""
    a = (float(angle_deg) + 180.0) % 360.0 - 180.0
    d = (amap.azimuths_deg - a + 180.0) % 360.0 - 180.0
    return int(np.argmin(np.abs(d)))


def null_depth_spectrum(amap: AzimuthMap, angles_deg, input_index: int = 0) -> np.ndarray:
    """On-axis level minus the level toward each angle, per map frequency: (N angles, F) dB
    (positive = quieter than on-axis)."""
    lev = amap.level_db[input_index]  # (F, A)
    on = amap.on_axis_db[input_index]
    return np.stack([on - lev[:, _azimuth_index(amap, a)] for a in angles_deg])


def null_depth_bands(amap: AzimuthMap, angles_deg, band_hz=BEAM_BAND_HZ,
                     input_index: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """1/3-octave null depth (band energy on-axis over band energy toward the angle):
    (centres (B,), depth (N angles, B)) in dB. Bands without a map bin are NaN."""
    f = amap.freqs_hz
    lev = 10.0 ** (amap.level_db[input_index] / 10.0)  # (F, A)
    on = 10.0 ** (amap.on_axis_db[input_index] / 10.0)
    centres = third_octave_centres(*band_hz)
    depth = np.full((len(angles_deg), centres.size), np.nan)
    for b, c in enumerate(centres):
        m = (f >= c * 2 ** (-1 / 6)) & (f < c * 2 ** (1 / 6))
        if not np.any(m):
            continue
        for k, a in enumerate(angles_deg):
            side = lev[m, _azimuth_index(amap, a)].sum()
            depth[k, b] = 10.0 * np.log10(on[m].sum() / max(side, 1e-300))
    return centres, depth


def lobe_deviation_db(amap: AzimuthMap, half_width_deg: float, band_hz=BEAM_BAND_HZ,
                      input_index: int = 0) -> float:
    """Largest |level − on-axis| over |azimuth| ≤ half_width within band_hz (dB)."""
    f, az = amap.freqs_hz, amap.azimuths_deg
    band = (f >= band_hz[0]) & (f <= band_hz[1])
    lobe = np.abs(az) <= half_width_deg
    if not np.any(band) or not np.any(lobe):
        return float("nan")
    lev = amap.level_db[input_index][band]
    on = amap.on_axis_db[input_index][band]
    return float(np.max(np.abs(lev[:, lobe] - on[:, None])))


def worst_cancellation_db(c: Cancellation, band_hz=CANCELLATION_BAND_HZ) -> float:
    """Smallest band cancellation of either input within band_hz (dB); NaN if no band."""
    m = (c.band_hz >= band_hz[0] * 0.999) & (c.band_hz <= band_hz[1] * 1.001)
    if not np.any(m):
        return float("nan")
    return float(min(np.min(c.left[m]), np.min(c.right[m])))


@dataclass
class DesignSummary:
    """The numbers the Design panel shows.

    effort_db: realized maximum effort; fir_error_db; zone_area_m2 (area in the zone) and
    zone_criterion (what its cells meet, `ZoneMap.criterion`); cancellation_db: worst
    sweet-spot band in `cancellation_band_hz` (None for the beam); probe_db: the same at the
    ± probe displacement (None without a probe); beam: null_depth_db {angle: worst 1/3-octave
    depth in `beam_band_hz`} and lobe_deviation_db.
    """

    method: str
    effort_db: float
    fir_error_db: float
    zone_area_m2: float
    zone_criterion: str
    cancellation_db: float | None = None
    cancellation_band_hz: tuple[float, float] = CANCELLATION_BAND_HZ
    probe_db: float | None = None
    null_depth_db: dict[float, float] = field(default_factory=dict)
    lobe_deviation_db: float | None = None
    beam_band_hz: tuple[float, float] = BEAM_BAND_HZ


def summarize(r, probe: Cancellation | None = None) -> DesignSummary:
    """Headline numbers of a `dsp.design.Redesign` (and of a displaced-head probe)."""
    d = r.design
    p = d.params
    s = DesignSummary(method=p.method, effort_db=d.max_effort_db, fir_error_db=d.fir_error_db,
                      zone_area_m2=r.zone.area_m2, zone_criterion=r.zone.criterion)
    if r.cancellation is not None:
        s.cancellation_db = worst_cancellation_db(r.cancellation)
    if probe is not None:
        s.probe_db = worst_cancellation_db(probe)
    if p.method == "beam":
        _, depth = null_depth_bands(r.azimuth, p.null_angles_deg)
        s.null_depth_db = {float(a): float(np.nanmin(row)) for a, row in
                           zip(p.null_angles_deg, depth, strict=True)}
        s.lobe_deviation_db = lobe_deviation_db(r.azimuth, p.lobe_half_width_deg)
    return s
