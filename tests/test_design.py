"""Design engine: acceptance numbers (free field, 48 kHz, 1024 taps) and closed-form checks.

Cancellation is measured independently of the design: the realized FIRs are evaluated with
`sim.freefield.ear_transfer_at` (exact series) on 1/3-octave band grids.
"""

from dataclasses import replace

import numpy as np
import pytest

from dsp.analysis import cancellation, cancellation_probe
from dsp.design import design, redesign
from dsp.fir import realize
from dsp.params import DesignError, DesignParams
from dsp.plant import lateral_unit
from dsp.regularization import AtEarEnergy, Tikhonov, beta_for_gain, bisect_beta, thin_svd
from dsp.report import beam_metrics, virtualizer_metrics
from sim.scene_io import load_scene


@pytest.fixture(scope="module")
def stereo2():
    return load_scene("design-stereo-2")


@pytest.fixture(scope="module")
def soundbar():
    return load_scene("design-soundbar-8")


@pytest.fixture(scope="module")
def ctc(stereo2):
    return design(stereo2, DesignParams(method="ctc", max_effort_db=18.0))


def _band(c, lo, hi):
    m = (c.band_hz >= lo) & (c.band_hz <= hi)
    return c.left[m], c.right[m]


# --- closed forms -----------------------------------------------------------------------------

def test_tikhonov_gain_obeys_the_eigen_channel_law():
    # σ/(σ² + β) ≤ 1/(2√β) (spatial.md §B1), and the bisected β meets a requested cap.
    rng = np.random.default_rng(1)
    g = rng.standard_normal((64, 2, 2)) + 1j * rng.standard_normal((64, 2, 2))
    t = Tikhonov(g, np.broadcast_to(np.eye(2), (64, 2, 2)))
    beta = np.full(64, 0.01)
    assert np.all(t.spectral_gain(beta) <= 1 / (2 * np.sqrt(0.01)) + 1e-9)
    b = beta_for_gain(t, np.full(64, 2.0))
    assert np.all(t.gain(b) <= 2.0 + 1e-6)
    exact = np.linalg.inv(g)
    np.testing.assert_allclose(t.filters(np.zeros(64)), exact, rtol=1e-8, atol=1e-10)


def test_fir_realizes_a_pure_delay_exactly():
    n_fft, n = 2048, 1024
    f = np.fft.rfftfreq(n_fft)
    fir, err = realize(np.exp(-2j * np.pi * f * 512), n_fft, n)
    expect = np.zeros(n)
    expect[512] = 1.0
    np.testing.assert_allclose(fir, expect, atol=1e-12)
    assert err < -200


def test_closed_form_two_row_svd_matches_lapack():
    rng = np.random.default_rng(3)
    for d in (2, 3, 8):
        g = rng.standard_normal((200, 2, d)) + 1j * rng.standard_normal((200, 2, d))
        g[:50, 1] = 0.999 * g[:50, 0] + 1e-3 * g[:50, 1]  # ill-conditioned (κ ~ 1e3)
        g[50:60, 1] = (0.3 - 0.2j) * g[50:60, 0]  # rank 1: σ₂ ~ 0 and the product still holds
        g[60:70] = np.eye(2, d) * 2.5  # GGᴴ a multiple of I: any basis will do
        u, s, vh = thin_svd(g)
        s_ref = np.linalg.svd(g, compute_uv=False)
        assert np.all(np.abs(s - s_ref) <= 1e-13 * s_ref[:, :1])
        np.testing.assert_allclose(u @ (s[..., None] * vh), g, atol=1e-13)
        np.testing.assert_allclose(np.conj(np.swapaxes(u, 1, 2)) @ u, np.broadcast_to(
            np.eye(2), (200, 2, 2)), atol=1e-14)
        ok = np.r_[0:50, 60:200]  # full rank: orthonormal rows (to ~ε·κ²)
        vv = vh[ok] @ np.conj(np.swapaxes(vh[ok], 1, 2))
        np.testing.assert_allclose(vv, np.broadcast_to(np.eye(2), vv.shape), atol=1e-9)


def test_at_ear_energy_forms_equal_the_direct_products():
    rng = np.random.default_rng(4)
    p = 3
    g = rng.standard_normal((40, 2 * p, 4)) + 1j * rng.standard_normal((40, 2 * p, 4))
    eye = np.tile(np.eye(2), (p, 1))
    t = Tikhonov(g, np.broadcast_to(eye, (40, 2 * p, 2)))
    left, right = np.arange(0, 2 * p, 2), np.arange(1, 2 * p, 2)
    energy = AtEarEnergy(t, [[left, right], [right, left]])
    for beta in (np.full(40, 1e-3), rng.uniform(0.01, 10.0, 40)):
        m = np.abs(t.at_ear(beta)) ** 2  # (F, 2P, 2)
        expect = [[m[:, left, 0].sum(1), m[:, right, 1].sum(1)],
                  [m[:, right, 0].sum(1), m[:, left, 1].sum(1)]]
        np.testing.assert_allclose(energy(beta), expect, rtol=1e-12)


def test_bisection_brackets_a_known_crossing():
    rng = np.random.default_rng(5)
    lo, hi = np.full(100, 1e-12), np.full(100, 1e3)
    star = np.exp(rng.uniform(np.log(1e-11), np.log(1e2), 100))
    beta = bisect_beta(lambda b: b >= star, lo, hi)
    assert np.all(beta >= star) and np.all(beta <= star * (1 + 1e-10))
    np.testing.assert_array_equal(bisect_beta(lambda b: b >= 0.0, lo, hi), lo)  # holds at lo
    np.testing.assert_allclose(bisect_beta(lambda b: b > 1e9, lo, hi), hi)  # never holds


def test_cached_plants_give_the_same_design_as_fresh_ones(stereo2):
    from dsp import analysis, inverse

    p = DesignParams(max_effort_db=15.0)
    moved = stereo2.with_listener(0, position_m=(1.8, 0.04, 0.0))
    for scene in (stereo2, moved):  # a cache hit for the first, a miss for the second
        design(scene, DesignParams())
        warm = redesign(scene, p, with_cancellation=False)
        inverse._inversion.cache_clear()
        analysis._zone_plant.cache_clear()
        cold = redesign(scene, p, with_cancellation=False)
        np.testing.assert_array_equal(warm.design.filters.fir, cold.design.filters.fir)
        np.testing.assert_array_equal(warm.zone.value_db, cold.zone.value_db)
    a = design(stereo2, p).filters.fir
    assert np.max(np.abs(a - design(moved, p).filters.fir)) > 1e-3 * np.max(np.abs(a))


def test_fir_response_is_the_dtft():
    from dsp.fir import fir_response

    h = np.random.default_rng(6).standard_normal((2, 3, 64))
    np.testing.assert_allclose(fir_response(h, 48000, np.fft.rfftfreq(128, 1 / 48000)),
                               np.fft.rfft(h, 128), rtol=0, atol=1e-12)


# --- acceptance ---------------------------------------------------------------------------------

def test_ctc_sweet_spot_20db_400hz_to_8khz_within_18db_effort(stereo2, ctc):
    c = cancellation(stereo2, ctc.filters)
    left, right = _band(c, 400, 8000)
    assert left.min() >= 20.0 and right.min() >= 20.0, (left, right)
    assert ctc.max_effort_db <= 18.0 + 1e-6
    assert ctc.fir_error_db < -20.0


def test_ctc_lateral_ceiling_for_two_drivers_is_below_12db_at_5cm(stereo2):
    """Why the ±5 cm point below cannot pass: over *every* possible pair of driver weights
    (brute force over the complex ratio), the worse side of ±5 cm gets < 12 dB at 4-6 kHz."""
    from sim.freefield import ear_transfer_at

    li = stereo2.listeners[0]
    heads = np.asarray(li.position_m) + np.array([0.05, -0.05])[:, None] * lateral_unit(li)
    f = np.array([4000.0, 5000.0])
    h = ear_transfer_at(stereo2, f, heads, li.yaw_deg, li)  # (F, D, 2, ear)
    r = (np.geomspace(0.05, 20, 300)[:, None] * np.exp(1j * np.linspace(-np.pi, np.pi, 540))
         ).ravel()
    for i in range(f.size):
        worst = np.min([20 * np.log10(np.abs(h[i, 0, p, 0] + r * h[i, 1, p, 0])
                                      / np.abs(h[i, 0, p, 1] + r * h[i, 1, p, 1]))
                        for p in range(2)], axis=0)
        assert worst.max() < 12.0


def test_ctc_robust_design_gains_at_5cm(stereo2, ctc):
    robust = design(stereo2, DesignParams(method="ctc", robust_cm=5.0))
    a = cancellation_probe(stereo2, ctc.filters, 0.05)
    b = cancellation_probe(stereo2, robust.filters, 0.05)
    la, ra = _band(a, 1000, 6000)
    lb, rb = _band(b, 1000, 6000)
    assert np.mean(np.minimum(lb, rb)) > np.mean(np.minimum(la, ra)) + 0.5
    assert robust.max_effort_db <= 18.0 + 1e-6


@pytest.mark.xfail(strict=True, reason="physically out of reach for stereo-speaker-2 (see "
                   "test_ctc_lateral_ceiling_for_two_drivers_is_below_12db_at_5cm)")
def test_ctc_robust_12db_at_5cm_1_to_6khz(stereo2):
    robust = design(stereo2, DesignParams(method="ctc", robust_cm=5.0))
    left, right = _band(cancellation_probe(stereo2, robust.filters, 0.05), 1000, 6000)
    assert left.min() >= 12.0 and right.min() >= 12.0


@pytest.mark.parametrize("preset", ["design-echo-studio", "design-soundbar-8"])
def test_nullsteer_20db_500hz_to_6khz(preset):
    scene = load_scene(preset)
    d = design(scene, DesignParams(method="nullsteer", max_effort_db=18.0))
    left, right = _band(cancellation(scene, d.filters), 500, 6000)
    assert left.min() >= 20.0 and right.min() >= 20.0, (left, right)
    assert d.max_effort_db <= 18.0 + 1e-6


def test_beam_nulls_and_lobe_on_soundbar(soundbar):
    d = design(soundbar, DesignParams(method="beam"))
    m = beam_metrics(soundbar, d.filters)
    assert min(m["null_depth_db"]["minus90"]) >= 15.0
    assert min(m["null_depth_db"]["plus90"]) >= 15.0
    assert m["lobe_deviation_db"] <= 6.0
    # RTF form: the reference column is exactly 1 wherever the reference weight is above the
    # floor (`dsp.beam.relative_tf`), and the exported form realizes the weights.
    w = d.beam.weights
    strong = np.abs(w[:, d.beam.reference]) ** 2 >= 1e-2 * np.mean(np.abs(w) ** 2, axis=-1)
    assert strong.mean() > 0.9
    np.testing.assert_allclose(d.beam.rtf[strong, d.beam.reference], 1.0)
    assert d.filters.rtf.realization_error_db < -15.0


def test_beam_refuses_two_side_by_side_drivers(stereo2):
    with pytest.raises(DesignError, match="2 side-by-side drivers cannot null"):
        design(stereo2, DesignParams(method="beam"))


def test_virtualizer_matches_reference_pair(stereo2):
    d = design(stereo2, DesignParams(method="virtualizer"))
    m = virtualizer_metrics(stereo2, d.filters)
    assert m["itd_error_us"] <= 50.0
    for side in ("left", "right"):
        assert np.max(np.abs(m["ild_error_db"][side])) <= 2.0


def test_virtualization_fit_reproduces_sphere_itd(stereo2):
    # Rigid sphere, source at 30°: the ITD falls from the low-frequency limit (≈ 394 µs for
    # ears at ±100°, spatial.md §B5; Kuhn's 3a/c·sinθ) toward Woodworth's high-frequency
    # a/c·(θ + sinθ) = 261 µs; a 200-1500 Hz phase-delay estimate lies between the two.
    from dsp.virtualizer import fit_virtualization

    fit = fit_virtualization(stereo2, 0, 30.0, 2.5)
    f = np.linspace(200, 1500, 64)
    from dsp.virtualizer import interaural_delay_s

    itd = interaural_delay_s(np.ones(64), fit.left.response(f), f)
    a, c = 0.0875, 343.0
    woodworth = a / c * (np.pi / 6 + 0.5)
    assert woodworth < itd < 394e-6
    assert np.max(np.abs(fit.ild_error_db)) < 2.0


# --- bad parameters -----------------------------------------------------------------------------

def test_impossible_effort(stereo2):
    with pytest.raises(DesignError, match="max_effort_db = -10 dB is impossible"):
        design(stereo2, DesignParams(max_effort_db=-10.0))
    with pytest.raises(DesignError, match="impossible"):
        design(stereo2, DesignParams(max_effort_db=90.0))


def test_coincident_drivers(stereo2):
    d = stereo2.device
    drivers = (d.drivers[0], replace(d.drivers[1], position_m=d.drivers[0].position_m))
    with pytest.raises(DesignError, match="coincident"):
        design(stereo2.with_device(drivers=drivers), DesignParams())


def test_listener_inside_device(stereo2):
    with pytest.raises(DesignError, match="inside the device"):
        design(stereo2.with_listener(0, position_m=(0.05, 0.0, 0.0)), DesignParams())


def test_taps_too_short_for_delay(stereo2):
    with pytest.raises(DesignError, match="too short"):
        design(stereo2, DesignParams(n_taps=64))
    with pytest.raises(DesignError, match="taps = 256 is too short for the delay"):
        design(stereo2, DesignParams(n_taps=256, delay_samples=240))


def test_method_needs_the_right_driver_count(stereo2, soundbar):
    with pytest.raises(DesignError, match="ctc needs exactly 2 drivers"):
        design(soundbar, DesignParams(method="ctc"))
    with pytest.raises(DesignError, match="nullsteer needs more than 2"):
        design(stereo2, DesignParams(method="nullsteer"))


# --- the GUI's one call -------------------------------------------------------------------------

def test_redesign_returns_what_the_plots_need(stereo2):
    moved = stereo2.with_listener(0, position_m=(2.0, 0.03, 0.0))
    r = redesign(moved, DesignParams())
    assert r.azimuth.level_db.shape == (2, 513, 360)
    assert r.zone.value_db.shape == (40, 50)
    assert r.cancellation.left.shape == r.cancellation.band_hz.shape
    # The zone is centred on the (moved) listener: its cell is ≥ 20 dB.
    j = np.argmin(np.abs(r.zone.x_m - 2.0))
    i = np.argmin(np.abs(r.zone.y_m - 0.03))
    assert r.zone.value_db[i, j] > 15.0
    assert 0.0 < r.zone.area_m2 < 2.0
