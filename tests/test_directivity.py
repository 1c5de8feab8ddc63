"""Directivity models against closed forms and published values."""

import numpy as np
import pytest

from sim.directivity import MeasuredPattern, angle_off_axis, cardioid_gain, piston_gain


def db(g):
    return 20.0 * np.log10(np.abs(g))


def test_angle_off_axis():
    axis = [2.0, 0.0, 0.0]
    d = [[1, 0, 0], [0, 3, 0], [-1, 0, 0], [1, 1, 0], [1, 1e-9, 0]]
    np.testing.assert_allclose(angle_off_axis(axis, d), [0, np.pi / 2, np.pi, np.pi / 4, 1e-9])


@pytest.mark.parametrize(
    ("p", "values"),
    [
        (1.0, [1.0, 1.0, 1.0]),
        (0.5, [1.0, 0.5, 0.0]),
        (0.25, [1.0, 0.25, -0.5]),
        (0.0, [1.0, 0.0, -1.0]),
    ],
)
def test_cardioid_family(p, values):
    np.testing.assert_allclose(
        cardioid_gain([0, np.pi / 2, np.pi], p, gain=2.0), 2.0 * np.array(values), atol=1e-15
    )


def test_piston_matches_beranek_values_for_a_2_inch_driver():
    g = piston_gain([4000.0, 8000.0], np.deg2rad([30.0, 60.0, 90.0]), 0.025, 343.0)
    np.testing.assert_allclose(db(g[:, 0]), [-0.9, -2.9, -3.9], atol=0.15)
    np.testing.assert_allclose(db(g[:, 1]), [-3.9, -15.3, -28.5], atol=0.15)


def test_piston_first_null_at_j1_zero():
    ka = 10.0
    f = ka * 343.0 / (2 * np.pi * 0.05)
    theta = np.arcsin(3.8317059702 / ka)
    assert abs(piston_gain([f], theta, 0.05, 343.0)[0]) < 1e-6


def test_piston_rear_is_continuous_omni_at_low_and_rear_db_at_high_frequency():
    eps = 1e-9
    f = np.geomspace(50.0, 50000.0, 30)
    g = piston_gain(f, [np.pi / 2 - eps, np.pi / 2 + eps], 0.04)
    np.testing.assert_allclose(g[0], g[1], atol=1e-6)
    low = piston_gain([20.0], np.linspace(0, np.pi, 13), 0.04)
    np.testing.assert_allclose(low, 1.0, atol=1e-3)
    ka = 100.0
    high = piston_gain([ka * 343.0 / (2 * np.pi * 0.04)], np.pi, 0.04, rear_db=-18.0)
    assert db(high)[0] == pytest.approx(-18.0, abs=0.05)


def fibonacci_sphere(n):
    k = np.arange(n) + 0.5
    z = 1 - 2 * k / n
    phi = np.pi * (1 + 5**0.5) * k
    r = np.sqrt(1 - z * z)
    return np.stack([r * np.cos(phi), r * np.sin(phi), z], axis=-1)


def test_measured_pattern_on_and_between_directions_and_linear_frequency_interpolation():
    d = fibonacci_sphere(200)
    grid = np.linspace(0.0, 1000.0, 11)
    # Responses linear in frequency, so linear interpolation must reproduce them exactly.
    tf = (1.0 + d[:, :1]) * (1.0 + 1j * grid / 1000.0)
    pat = MeasuredPattern(d * 3.0, tf, grid, 48000.0)
    query = d[[5, 17, 150]] * 2.0  # on measured directions, not unit length
    f = np.array([0.0, 55.0, 999.0, 2000.0])
    g = pat.gain(f, query)
    expect = (1.0 + d[[5, 17, 150], :1]) * (1.0 + 1j * np.minimum(f, 1000.0) / 1000.0)
    np.testing.assert_allclose(g, expect, rtol=1e-12)
    assert pat.gain(f, query.reshape(3, 1, 3)).shape == (3, 1, 4)
    # Between directions the level lies between the 3 nearest ones' (a weighted dB mean) and
    # the phase, equal for all, is kept.
    off = d[[5, 17, 150]] + 0.05
    _, idx = pat._tree.query(off / np.linalg.norm(off, axis=1, keepdims=True), k=3)
    near = np.abs(tf[idx, 5])
    between = pat.gain([500.0], off)[:, 0]
    assert np.all((np.abs(between) >= near.min(1) - 1e-12)
                  & (np.abs(between) <= near.max(1) + 1e-12))
    np.testing.assert_allclose(np.angle(between), np.angle(1 + 0.5j), atol=1e-12)


def test_measured_pattern_from_irs_removes_on_axis_bulk_delay():
    fs = 48000.0
    d = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])
    irs = np.zeros((3, 256))
    irs[0, 37] = 1.0
    irs[1, 40] = 0.5
    irs[2, 45] = 0.1
    pat = MeasuredPattern.from_irs(d, irs, fs)
    f = np.array([187.5, 5062.5, 15000.0])  # on the rfft grid: no interpolation error
    g = pat.gain(f, d)
    np.testing.assert_allclose(g[0], 1.0, atol=1e-12)
    np.testing.assert_allclose(g[1], 0.5 * np.exp(-2j * np.pi * f * 3 / fs), atol=1e-12)
    np.testing.assert_allclose(g[2], 0.1 * np.exp(-2j * np.pi * f * 8 / fs), atol=1e-12)
