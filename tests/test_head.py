"""Rigid-sphere head model against closed forms and published values."""

import numpy as np
import pytest

import sim.head
from sim.constants import DEFAULT_HEAD_RADIUS_M as A
from sim.constants import SPEED_OF_SOUND_M_S as C
from sim.head import ear_directions, ear_incidence, head_transfer, sphere_hrtf

# Fock's surface-field function for a hard convex body at the shadow boundary, |g(0)|:
# the high-frequency limit of a rigid sphere at grazing incidence (theta = 90 deg).
FOCK_HARD_G0 = 1.3994


def db(h):
    return 20.0 * np.log10(np.abs(h))


def freq_for_mu(mu):
    return mu * C / (2.0 * np.pi * A)


def test_far_field_on_axis_matches_duda_martens():
    f = [50, 500, 1000, 2000, 4000, 8000, 16000]
    expected = [0.0, 2.2, 3.7, 5.1, 5.7, 5.9, 6.0]
    np.testing.assert_allclose(db(sphere_hrtf(f, 0.0)), expected, atol=0.3)


def test_pressure_doubling_on_ipsilateral_axis_at_high_frequency():
    assert db(sphere_hrtf(freq_for_mu(200.0), 0.0))[0] == pytest.approx(20 * np.log10(2), abs=0.1)


def test_grazing_incidence_low_frequency_and_fock_limit():
    # Low frequency: slight dip (Duda & Martens); high frequency: Fock's hard-surface value,
    # approached as mu**(-2/3).
    assert db(sphere_hrtf(500.0, np.pi / 2))[0] == pytest.approx(-0.4, abs=0.3)
    hf = db(sphere_hrtf(freq_for_mu(np.array([50.0, 100.0, 200.0])), np.pi / 2))
    assert np.all(np.diff(hf) > 0)
    assert hf[-1] == pytest.approx(20 * np.log10(FOCK_HARD_G0), abs=0.1)


def test_bright_spot_behind_the_sphere():
    assert db(sphere_hrtf(1000.0, np.pi))[0] == pytest.approx(0.9, abs=0.2)


def test_far_field_is_unity_at_dc_and_continuous():
    h = sphere_hrtf([0.0, 1e-3, 1.0], np.linspace(0, np.pi, 7))
    np.testing.assert_allclose(h, 1.0, atol=1e-2)
    assert np.all(h[:, 0] == 1.0)


def static_limit(theta, rho):
    """Incompressible (f -> 0) near-field limit sum (2m+1)/(m+1) P_m(cos theta) rho**-m."""
    t, x = 1.0 / rho, np.cos(theta)
    r = np.sqrt(1.0 - 2.0 * x * t + t * t)
    return 2.0 / r - np.log((t - x + r) / (1.0 - x)) / t


def test_finite_range_near_field_boost_and_static_limit():
    assert db(sphere_hrtf(50.0, 0.0, 0.5))[0] == pytest.approx(2.4, abs=0.3)
    theta = np.array([1e-3, np.pi / 2, 2.0, np.pi - 1e-3])
    h = sphere_hrtf([0.0, 1.0, 10.0], theta, 0.5)
    expected = static_limit(theta, 0.5 / A)
    np.testing.assert_allclose(h[:, 0], expected, rtol=1e-9)
    np.testing.assert_allclose(np.abs(h[:, 1]), expected, rtol=1e-5)


def test_finite_range_far_away_equals_far_field():
    f = np.geomspace(50, 16000, 40)
    theta = np.linspace(0, np.pi, 9)[:, None]
    far = sphere_hrtf(f, theta)
    # What remains at 100 m is the wavefront curvature across the head, ~ k a^2 / (2 r).
    err_100 = np.abs(sphere_hrtf(f, theta, 100.0) / far - 1.0)
    err_1000 = np.abs(sphere_hrtf(f, theta, 1000.0) / far - 1.0)
    assert err_100.max() < 0.03
    assert err_1000.max() < 0.15 * err_100.max()
    np.testing.assert_allclose(sphere_hrtf(f, theta, np.inf), sphere_hrtf(f, theta), rtol=0)


def test_broadcasting_and_summation_paths_agree(monkeypatch):
    f = np.linspace(0, 20000, 33)
    theta = np.linspace(0, np.pi, 5)[:, None]
    dist = np.array([0.2, 0.5, 3.0])
    near, far = sphere_hrtf(f, theta, dist), sphere_hrtf(f, theta)
    assert near.shape == (5, 3, 33) and far.shape == (5, 1, 33)
    np.testing.assert_allclose(near[3, 1], sphere_hrtf(f, theta[3, 0], 0.5), rtol=1e-12)
    monkeypatch.setattr(sim.head, "_MAX_STACKED", 0)  # order-by-order accumulation instead
    np.testing.assert_allclose(sphere_hrtf(f, theta, dist), near, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(sphere_hrtf(f, theta), far, rtol=1e-10, atol=1e-14)


def test_overflowing_orders_at_very_low_frequency(monkeypatch):
    # At 0.05 Hz the Hankel values of the higher orders overflow (mu*rho ~ 1e-4): they must
    # drop out in both summation paths (their true terms are ~rho**-m, negligible here), so
    # the response stays finite and on the static limit.
    f = np.array([0.0, 0.05, 1.0, 2000.0])
    theta = np.array([1e-3, 1.0, np.pi / 2, np.pi - 1e-3])
    stacked = sphere_hrtf(f, theta, 1.5 * A)
    assert np.all(np.isfinite(stacked))
    np.testing.assert_allclose(np.abs(stacked[:, 1]), static_limit(theta, 1.5), rtol=1e-6)
    monkeypatch.setattr(sim.head, "_MAX_STACKED", 0)
    np.testing.assert_allclose(sphere_hrtf(f, theta, 1.5 * A), stacked, rtol=1e-10, atol=1e-14)


def test_source_inside_head_is_rejected():
    with pytest.raises(ValueError):
        sphere_hrtf(100.0, 0.0, 0.05)


def test_ear_directions_frame():
    np.testing.assert_allclose(
        ear_directions(90.0, (90.0, -90.0)), [[-1, 0, 0], [1, 0, 0]], atol=1e-15
    )
    left, right = ear_directions(0.0)
    assert left[1] > 0 and right[1] < 0 and left[0] < 0  # ears default 10 deg behind the axis
    np.testing.assert_allclose(np.linalg.norm(ear_directions(37.0), axis=-1), 1.0)


def test_ear_incidence():
    inc, dist = ear_incidence([1.0, 2.0, 0.5], 0.0, [[1.0, 4.0, 0.5], [3.0, 2.0, 0.5]], (90, -90))
    np.testing.assert_allclose(dist, [2.0, 2.0])
    np.testing.assert_allclose(inc, [[0.0, np.pi], [np.pi / 2, np.pi / 2]], atol=1e-7)


def interaural(src, ears, f):
    h = head_transfer(f, np.zeros(3), 0.0, np.asarray(src, float), ear_angles_deg=ears)
    return h[0], h[1]


def test_low_frequency_itd_is_three_a_over_c():
    f = np.array([100.0, 200.0, 400.0])
    left, right = interaural([0.0, 10.0, 0.0], (90.0, -90.0), f)
    itd = -np.angle(right * np.conj(left)) / (2 * np.pi * f)  # right lags: positive
    np.testing.assert_allclose(itd, 3 * A / C, rtol=0.03)


def test_high_frequency_itd_near_woodworth():
    f = np.linspace(3000.0, 8000.0, 201)
    left, right = interaural([0.0, 10.0, 0.0], (90.0, -90.0), f)
    ipd = np.unwrap(np.angle(right * np.conj(left)))
    itd = -np.polyfit(2 * np.pi * f, ipd, 1)[0]
    woodworth = A / C * (np.pi / 2 + 1.0)
    assert itd == pytest.approx(woodworth, rel=0.10)


def test_ild_at_90_degrees():
    # Ears 10 deg behind the interaural axis (default) keep the contralateral ear out of the
    # Poisson bright spot that diametrically opposite ears would sit in.
    left, right = interaural([0.0, 10.0, 0.0], (100.0, -100.0), np.array([6000.0]))
    assert db(left / right)[0] > 10.0


def test_head_transfer_inverse_distance_law():
    f = np.array([20.0])
    near = head_transfer(f, np.zeros(3), 0.0, [10.0, 0.0, 0.0], ear_angles_deg=(90, -90))
    far = head_transfer(f, np.zeros(3), 0.0, [20.0, 0.0, 0.0], ear_angles_deg=(90, -90))
    np.testing.assert_allclose(np.abs(near) / np.abs(far), 2.0, rtol=0.005)


def test_head_transfer_delay_is_distance_over_c():
    r = 50.0
    # Low band: at grazing incidence the sphere adds a phase ~ mu**3, i.e. a delay ~ f**2.
    f = np.arange(5.0, 60.0, 0.25)
    h = head_transfer(f, [1.0, 1.0, 1.2], 0.0, [1.0 + r, 1.0, 1.2], ear_angles_deg=(90, -90))
    for ear in h:
        delay = -np.polyfit(2 * np.pi * f, np.unwrap(np.angle(ear)), 1)[0]
        assert delay == pytest.approx(r / C, abs=2e-6)


@pytest.mark.parametrize("yaw", [0.0, 33.0])
def test_mirror_symmetry_swaps_ears(yaw):
    rng = np.random.default_rng(1)
    head = np.array([2.0, 1.5, 1.2])
    src = head + rng.uniform(-3, 3, (20, 3))
    src = src[np.linalg.norm(src - head, axis=-1) > 0.3]
    n = np.array([-np.sin(np.deg2rad(yaw)), np.cos(np.deg2rad(yaw)), 0.0])  # median-plane normal
    mirrored = src - 2.0 * ((src - head) @ n)[:, None] * n
    f = np.linspace(0, 24000, 65)
    h = head_transfer(f, head, yaw, src)
    hm = head_transfer(f, head, yaw, mirrored)
    np.testing.assert_allclose(hm[:, ::-1], h, rtol=0, atol=1e-12 * np.abs(h).max())
