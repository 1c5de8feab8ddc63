"""Design completeness (issue 13, point 6): output latency against pure-delay FIRs, the beam's
RTF form against a plant known in closed form and as exported files, the virtualizer's zone
map scored as virtualization error against an independent computation."""

import json

import numpy as np
import pytest

from dsp.analysis import ZONE_ITD_ERROR_US, at_ear, band_grid, third_octave_centres
from dsp.bands import band_db
from dsp.beam import BeamDesign, relative_tf, rtf_form
from dsp.design import redesign
from dsp.export import export
from dsp.export.npz import read as read_npz
from dsp.filterset import FilterSet
from dsp.fir import design_freqs
from dsp.params import DesignParams
from dsp.report import build_report
from dsp.virtualizer import ITD_BAND_HZ, interaural_delay_s, reference_pair_ears
from sim.scene_io import load_scene

FS = 48000


def test_the_latency_of_pure_delay_firs_is_their_delay_in_samples_and_ms():
    fir = np.zeros((2, 3, 256))
    fir[0, 0, 40] = 1.0
    fir[1, 0, 40] = -0.5  # both inputs at the same tap: one output peak
    fir[:, 1, 100] = 0.7
    fir[0, 2, 64] = 0.2
    out = FilterSet(fir, FS, 64, {"drivers": ["a", "b", "c"]}).latency()
    assert [o["output"] for o in out] == ["a", "b", "c"]
    assert [o["samples"] for o in out] == [40.0, 100.0, 64.0]
    assert [o["ms"] for o in out] == [pytest.approx(1e3 * k / FS, abs=1e-3) for k in (40, 100, 64)]
    assert [o["bulk_fir_delay_samples"] for o in out] == [-24.0, 36.0, 0.0]
    assert all(o["modelling_delay_samples"] == 64 for o in out)


def _known_beam(n_taps: int, gains, delays_samples, ref: int = 0) -> BeamDesign:
    """Weights that are pure gains and whole-sample delays: RTF_d = g_d/g_ref ·
    delay(τ_d − τ_ref) in closed form."""
    n_fft, f = design_freqs(n_taps, FS, 2)
    g, tau = np.asarray(gains, float), np.asarray(delays_samples, float)
    w = g[None] * np.exp(-2j * np.pi * f[:, None] * tau[None] / FS)
    z = np.zeros(f.size)
    return BeamDesign(freqs_hz=f, n_fft=n_fft, response=w[..., None], weights=w,
                      rtf=relative_tf(w, ref), reference=ref, beta=z, effort_db=z,
                      beam_weight=z, on_axis=w)


def test_the_rtf_form_of_a_known_plant_is_its_closed_form():
    n, delay = 512, 128
    gains, taus = [1.0, 0.5, -0.8], [0, 3, -5]
    form = rtf_form(_known_beam(n, gains, taus), n, delay, FS, ["r", "x", "y"])
    assert form.realization_error_db < -100.0
    ref = form.reference.fir[0, 0]
    assert np.argmax(np.abs(ref)) == delay and ref[delay] == pytest.approx(1.0)
    rel = form.relative.fir[0]
    for d, (g, t) in enumerate(zip(gains, taus, strict=True)):
        k = n // 2 + t
        assert rel[d, k] == pytest.approx(g) and np.abs(np.delete(rel[d], k)).max() < 1e-9
    lat = form.cascade().latency()
    assert [o["samples"] for o in lat] == [delay + n // 2 + t for t in taus]
    assert form.relative.meta["reference_driver"] == "r"


def test_a_weak_reference_is_floored_and_the_error_reported():
    n = 512
    beam = _known_beam(n, [1.0, 1.0], [0, 0])
    f = beam.freqs_hz
    w = beam.weights.copy()
    w[:, 0] *= np.cos(np.pi * f / f[-1])  # the reference passes through zero at fs/4
    weak = BeamDesign(**{**beam.__dict__, "weights": w, "rtf": relative_tf(w, 0)})
    strong = np.abs(w[:, 0]) ** 2 >= 1e-2 * np.mean(np.abs(w) ** 2, axis=-1)
    np.testing.assert_allclose(weak.rtf[strong, 0], 1.0)
    assert np.all(np.isfinite(weak.rtf)) and np.abs(weak.rtf).max() <= 1 / np.sqrt(1e-2 / 2)
    err = rtf_form(weak, n, 128, FS, ["a", "b"]).realization_error_db
    assert -60.0 < err < -10.0


@pytest.fixture(scope="module")
def beam_design():
    scene = load_scene("design-soundbar-8")
    return scene, redesign(scene, DesignParams(method="beam"))


def test_the_beam_exports_its_rtf_form_beside_the_weights_with_the_error(beam_design, tmp_path):
    scene, r = beam_design
    filters = r.design.filters
    rep = build_report(scene, r)
    rtf = rep["rtf"]
    assert rtf["reference_driver"] == filters.meta["rtf_reference_driver"]
    assert rtf["realization_error_db"] < -15.0
    assert len(rtf["latency"]["outputs"]) == filters.n_drivers
    written = export(filters, tmp_path, ["npz", "json"])
    names = [p.name for p in written["npz"]]
    assert names == ["filters.npz", "filters_rtf_reference.npz", "filters_rtf_relative.npz"]
    ref, rel = read_npz(written["npz"][1]), read_npz(written["npz"][2])
    assert ref.fir.shape == (1, 1, filters.n_taps) and rel.fir.shape == (1, 8, filters.n_taps)
    assert json.loads(written["json"][2].read_text())["form"] == "rtf-relative"
    # The files realize the full weights to the reported error, the cascade's extra delay
    # being the relative filters' modelling delay.
    cascade = np.stack([np.convolve(ref.fir[0, 0], rel.fir[0, d]) for d in range(8)])
    full = np.zeros_like(cascade)
    full[:, rel.delay_samples:rel.delay_samples + filters.n_taps] = filters.fir[0]
    err_db = 10 * np.log10(np.sum((cascade - full) ** 2) / np.sum(full**2))
    assert err_db < -15.0


@pytest.mark.parametrize("method, scene_name", [("ctc", "design-stereo-2"),
                                                 ("beam", "design-soundbar-8")])
def test_every_report_states_the_latency_per_output(method, scene_name):
    scene = load_scene(scene_name)
    r = redesign(scene, DesignParams(method=method), zone_shape=(8, 6))
    out = build_report(scene, r)["latency"]["outputs"]
    assert [o["output"] for o in out] == [d.name for d in scene.device.drivers]
    for o in out:
        assert o["ms"] == pytest.approx(1e3 * o["samples"] / FS, abs=1e-3)
        assert o["samples"] == pytest.approx(o["modelling_delay_samples"]
                                             + o["bulk_fir_delay_samples"], abs=0.011)
        assert abs(o["bulk_fir_delay_samples"]) < r.design.params.n_taps / 4


def test_the_virtualizer_zone_scores_itd_and_ild_error_against_the_reference_pair():
    scene = load_scene("design-stereo-2")
    r = redesign(scene, DesignParams(method="virtualizer"), zone_shape=(12, 9))
    z = r.zone
    assert z.kind == "virtualization" and z.criterion.startswith("ILD error ≤ 2 dB")
    assert z.itd_error_us.shape == z.value_db.shape == (9, 12)
    # Any head on the grid, recomputed through the exact plant (the map uses the tables).
    i, j = np.argwhere(np.isfinite(z.value_db))[len(z.value_db) // 2]
    head = np.array([z.x_m[j], z.y_m[i], scene.listeners[0].position_m[2]])
    dev = np.asarray(scene.device.position_m)
    yaw = np.degrees(np.arctan2(dev[1] - head[1], dev[0] - head[0]))
    grid = band_grid(third_octave_centres(*z.band_hz), 2)
    f_itd = third_octave_centres(*ITD_BAND_HZ)
    f = np.concatenate([grid.freqs_hz, f_itd])
    m = at_ear(scene, r.design.filters, f, head[None], yaw)[:, 0]  # (F, ear, input)
    ref = np.transpose(reference_pair_ears(scene, 0, f), (0, 2, 1))
    nb = grid.freqs_hz.size
    ild, itd = [], []
    for k in range(2):
        def band_ild(x, k=k):
            return band_db(np.abs(x[:nb, k, k]) ** 2, np.abs(x[:nb, 1 - k, k]) ** 2, grid)

        ild.append(np.sqrt(np.mean((band_ild(m) - band_ild(ref)) ** 2)))
        itd.append(1e6 * abs(interaural_delay_s(m[nb:, 0, k], m[nb:, 1, k], f_itd)
                             - interaural_delay_s(ref[nb:, 0, k], ref[nb:, 1, k], f_itd)))
    assert z.value_db[i, j] == pytest.approx(max(ild), abs=0.1)
    assert z.itd_error_us[i, j] == pytest.approx(max(itd), abs=2.0)
    inside = (np.nan_to_num(z.value_db, nan=99) <= 2.0) & (
        np.nan_to_num(z.itd_error_us, nan=1e9) <= ZONE_ITD_ERROR_US)
    cell = (z.x_m[1] - z.x_m[0]) * (z.y_m[1] - z.y_m[0])
    assert z.area_m2 == pytest.approx(np.count_nonzero(inside) * cell)
