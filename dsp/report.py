"""The design report (JSON) that `awb design --report` writes.

Keys: method, scene, fs, n_taps, delay, effort_db, fir_error_db, zone_area_m2, timing_ms,
warnings; CTC / null-steering / virtualizer: cancellation_db and cancellation_probe_db
({band_hz, left, right}, 1/3-octave, ipsi/contra energy per input; the probe is the worse of
±probe_cm lateral); beam: null_depth_db {band_hz, minus90, plus90} (on-axis band energy over
the band energy at ∓90°) and lobe_deviation_db (largest |level − on-axis| over ±45°,
500 Hz–2 kHz); virtualizer: itd_error_us and ild_error_db {band_hz, left, right} (device vs
the reference-stereo-pair preset at the sweet spot, 200 Hz–8 kHz), plus the fit error of the
virtualization filters. Every report: plant ("simulated" or "measured", with plant_file,
plant_sha256, plant_form, plant_timing ("geometry" or "measured": `dsp.plant_timing`),
plant_offsets_ms, plant_window_loss_db: `dsp.measured_plant`); a design on a measured plant
also cancellation_simulated_db, the same design on the simulated plant (cancellation_db is on
the measured one; the probe, the maps and the virtualizer's ITD/ILD figures need other head
positions than the one measured and stay on the simulation).
Every report also: latency {"outputs": per driver feed, the total
latency (modelling delay + bulk FIR delay) in samples and ms, `FilterSet.latency`}; beam: rtf
{reference_driver, realization_error_db, relative_delay_samples, latency} of the RTF form
exported beside the full weights (`dsp.filterset.RtfForm`).
"""

from __future__ import annotations

import numpy as np

from dsp.analysis import azimuth_map, cancellation_probe, report_grid
from dsp.bands import band_db
from dsp.design import Redesign
from dsp.measured_plant import plant_report

BEAM_BAND_HZ = (500.0, 2000.0)
VIRTUAL_BAND_HZ = (200.0, 8000.0)


def _r(x, nd: int = 2):
    return [round(float(v), nd) for v in np.atleast_1d(x)]


def beam_metrics(scene, filters) -> dict:
    """Null depth per 1/3-octave band at ±90° and the main-lobe deviation over ±45°."""
    amap = azimuth_map(scene, filters, 2049, np.arange(-180.0, 180.0, 1.0))
    f, az = amap.freqs_hz, amap.azimuths_deg
    lev = amap.level_db[0]  # (F, A)
    grid = report_grid(*BEAM_BAND_HZ)
    out = {"band_hz": [float(v) for v in grid.centres_hz]}
    on = 10 ** (lev[:, az == 0.0][:, 0] / 10)
    for key, angle in (("minus90", -90.0), ("plus90", 90.0)):
        side = 10 ** (lev[:, az == angle][:, 0] / 10)
        depth = []
        for c in grid.centres_hz:
            m = (f >= c * 2 ** (-1 / 6)) & (f < c * 2 ** (1 / 6))
            depth.append(10 * np.log10(on[m].sum() / side[m].sum()))
        out[key] = _r(depth)
    band = (f >= BEAM_BAND_HZ[0]) & (f <= BEAM_BAND_HZ[1])
    lobe = np.abs(az) <= 45.0
    dev = np.abs(lev[band][:, lobe] - lev[band][:, az == 0.0])
    return {"null_depth_db": out, "lobe_deviation_db": round(float(dev.max()), 2)}


def virtualizer_metrics(scene, filters, listener_index: int = 0) -> dict:
    """ITD and 1/3-octave ILD of the device's ear signals vs the reference pair's."""
    from dsp.analysis import at_ear
    from dsp.virtualizer import ITD_BAND_HZ, interaural_delay_s, reference_pair_ears

    li = scene.listeners[listener_index]
    grid = report_grid(*VIRTUAL_BAND_HZ)
    f_itd = np.linspace(ITD_BAND_HZ[0], ITD_BAND_HZ[1], 64)
    f = np.concatenate([grid.freqs_hz, f_itd])
    dev = at_ear(scene, filters, f, np.asarray(li.position_m)[None], li.yaw_deg,
                 listener_index)[:, 0]  # (F, ear, input)
    ref = np.transpose(reference_pair_ears(scene, listener_index, f), (0, 2, 1))
    nb = grid.freqs_hz.size
    ild, itd = {}, []
    for k, key in ((0, "left"), (1, "right")):
        ipsi, contra = k, 1 - k

        def ild_of(m, ipsi=ipsi, contra=contra, k=k):
            return band_db(np.abs(m[:nb, ipsi, k]) ** 2, np.abs(m[:nb, contra, k]) ** 2, grid)

        ild[key] = _r(ild_of(dev) - ild_of(ref))
        itd.append(interaural_delay_s(dev[nb:, 0, k], dev[nb:, 1, k], f_itd)
                   - interaural_delay_s(ref[nb:, 0, k], ref[nb:, 1, k], f_itd))
    return {"itd_error_us": round(float(1e6 * np.max(np.abs(itd))), 2),
            "itd_error_us_per_input": _r(1e6 * np.array(itd)),
            "ild_error_db": {"band_hz": [float(v) for v in grid.centres_hz], **ild}}


def build_report(scene, r: Redesign, probe_cm: float = 5.0) -> dict:
    d = r.design
    p = d.params
    rep = {"method": p.method, "scene": scene.name, "fs": d.filters.fs_hz,
           "n_taps": p.n_taps, "delay": p.delay, "parameters": p.to_dict(),
           "effort_db": round(d.max_effort_db, 2), "fir_error_db": round(d.fir_error_db, 2),
           "zone_area_m2": round(r.zone.area_m2, 3),
           "zone": {"kind": r.zone.kind, "band_hz": list(r.zone.band_hz),
                    "threshold_db": r.zone.threshold_db, "criterion": r.zone.criterion,
                    "grid": [len(r.zone.x_m), len(r.zone.y_m)]},
           "latency": {"outputs": d.filters.latency()},
           "warnings": list(d.warnings)}
    rep.update(plant_report(scene, p.plant, p.listener, p.n_taps, p.oversample))
    if r.simulated is not None:
        rep["cancellation_simulated_db"] = r.simulated.to_dict()
    if p.method == "beam":
        rep.update(beam_metrics(scene, d.filters))
        rep["rtf_reference_driver"] = d.filters.meta.get("rtf_reference_driver")
        rtf = d.filters.rtf
        rep["rtf"] = {"reference_driver": rep["rtf_reference_driver"],
                      "realization_error_db": round(rtf.realization_error_db, 2),
                      "relative_delay_samples": rtf.relative.delay_samples,
                      "latency": {"outputs": rtf.cascade().latency()}}
    else:
        rep["cancellation_db"] = r.cancellation.to_dict()
        rep["cancellation_probe_db"] = {
            "probe_cm": probe_cm,
            **cancellation_probe(scene, d.filters, probe_cm / 100.0, p.listener).to_dict()}
    if p.method == "virtualizer":
        rep.update(virtualizer_metrics(scene, d.filters, p.listener))
        v = d.virtual
        rep["virtualization_fit"] = {
            "angle_deg": v.angle_deg, "band_hz": [float(x) for x in v.band_hz],
            "ild_error_db": [_r(e) for e in v.ild_error_db],
            "itd_error_us": _r(v.itd_error_us)}
    rep["timing_ms"] = {k: round(v, 2) for k, v in r.timing_ms.items()}
    return rep
