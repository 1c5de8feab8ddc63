"""Free-field engine against closed forms: delay d/c, 1/r, the sphere's ITD/ILD through the
whole scene pipeline, mirror symmetry, far-field patterns and the SOFA head."""

from dataclasses import replace

import numpy as np
import pytest
from conftest import shared_file

from sim.directivity import Piston
from sim.freefield import ear_transfer, ear_transfer_at, farfield_circle
from sim.scene import Device, Driver, Hrtf, Listener, Microphone, Source
from sim.scene_io import load_scene
from sim.transfer import T0_SAMPLES, simulate

FS = 48000
C = 343.0


def _scene_with(device=None, listeners=None, sources=None):
    s = load_scene("design-stereo-2")
    return replace(s, device=device or s.device, listeners=tuple(listeners or s.listeners),
                   sources=tuple(sources or ()))


def _omni_mic_device():
    return Device("probe", (0.0, 0.0, 0.0), 0.0,
                  drivers=(Driver("d", (0.0, 0.0, 0.0)),),
                  microphones=(Microphone("m", (0.0, 0.0, 0.0)),))


@pytest.mark.parametrize("distance", [0.7, 1.93, 3.1416, 6.25])
def test_delay_is_d_over_c_and_amplitude_is_one_over_r(distance):
    """Source → microphone IRs (the propagation path without head or directivity)."""
    src = Source("s", "noise", (distance, 0.37, -0.21))
    r = float(np.linalg.norm(src.position_m))
    result = simulate(_scene_with(_omni_mic_device(), sources=[src]), talkers=True)
    ir = result.ir_mic[0, 0]
    expected = T0_SAMPLES + r / C * FS
    assert abs(np.argmax(np.abs(ir)) - expected) <= 1.0
    spectrum = np.abs(np.fft.rfft(ir))
    f = np.fft.rfftfreq(ir.size, 1 / FS)
    band = (f > 100) & (f < 10000)
    assert np.allclose(spectrum[band], 1.0 / r, rtol=0.005)


def test_ear_level_follows_one_over_r():
    """Ears at ±90°, source straight ahead: the sphere's near-field term is < 0.2 % at ≥ 2 m,
    so the low-frequency ear level must scale as 1/r."""
    s = _scene_with()
    li = replace(s.listeners[0], ear_angles_deg=(90.0, -90.0))
    f = np.array([100.0, 200.0])
    heads = np.array([[2.0, 0.0, 0.0], [4.0, 0.0, 0.0]])
    one = replace(s, device=replace(s.device, drivers=s.device.drivers[:1]))
    on_axis = heads + np.array(one.device.drivers[0].position_m)
    h = ear_transfer_at(one, f, on_axis, 180.0, li)
    ratio = np.abs(h[:, 0, 1, :]) / np.abs(h[:, 0, 0, :])
    assert np.allclose(ratio, 0.5, rtol=0.005)


def _itd_s(h_left, h_right, f, band):
    """Interaural delay from the phase slope of the cross spectrum in a band (s);
    positive when the left ear leads."""
    sel = (f >= band[0]) & (f <= band[1])
    phase = np.unwrap(np.angle(h_right[sel] * np.conj(h_left[sel])))
    slope = np.polyfit(2 * np.pi * f[sel], phase, 1)[0]
    return -slope


def test_sphere_itd_and_ild_through_the_scene():
    """A driver 10 m to the left of a head with ears at ±90°: low-frequency ITD = 3a/c,
    high-frequency ITD near Woodworth a/c(θ + sin θ). With the default ears at ±100° the
    ILD at 6 kHz exceeds 10 dB (at exactly ±90° the far ear sits in the sphere's bright
    spot, which holds the 6 kHz ILD near 5.6 dB)."""
    a = 0.0875
    dev = Device("one", (0.0, 10.0, 0.0), -90.0, drivers=(Driver("d", (0.0, 0.0, 0.0)),))
    li = Listener("l", (0.0, 0.0, 0.0), yaw_deg=0.0, head_radius_m=a, ear_angles_deg=(90.0, -90.0))
    s = _scene_with(dev, [li])
    f = np.fft.rfftfreq(8192, 1 / FS)
    h = ear_transfer(s, f)[:, 0, 0, :]
    low = _itd_s(h[:, 0], h[:, 1], f, (50.0, 400.0))
    assert low == pytest.approx(3 * a / C, rel=0.03)
    high = _itd_s(h[:, 0], h[:, 1], f, (3000.0, 8000.0))
    woodworth = a / C * (np.pi / 2 + 1.0)
    assert high == pytest.approx(woodworth, rel=0.10)
    h = ear_transfer(_scene_with(dev, [replace(li, ear_angles_deg=(100.0, -100.0))]), f)
    k = np.argmin(np.abs(f - 6000.0))
    assert 20 * np.log10(np.abs(h[k, 0, 0, 0]) / np.abs(h[k, 0, 0, 1])) > 10.0


def test_pressure_doubling_on_the_ipsilateral_axis():
    dev = Device("one", (0.0, 50.0, 0.0), -90.0, drivers=(Driver("d", (0.0, 0.0, 0.0)),))
    li = Listener("l", (0.0, 0.0, 0.0), ear_angles_deg=(90.0, -90.0))
    f = np.array([12000.0, 16000.0])
    h = ear_transfer(_scene_with(dev, [li]), f)[:, 0, 0, 0] * 50.0  # undo 1/r
    assert np.allclose(20 * np.log10(np.abs(h)), 6.0, atol=0.3)


def test_mirror_symmetric_scene_gives_mirror_symmetric_ears():
    result = simulate(load_scene("design-stereo-2"))
    ir = result.ir[:, 0]  # (driver, ear, taps)
    assert np.max(np.abs(ir[0, 0] - ir[1, 1])) < 1e-9
    assert np.max(np.abs(ir[0, 1] - ir[1, 0])) < 1e-9
    assert np.max(np.abs(ir)) > 0.1


def test_vectorized_positions_match_per_listener():
    s = load_scene("design-soundbar-8")
    f = np.linspace(0, 24000, 257)
    heads = np.array([[2.0, 0.0, 0.0], [1.5, 0.8, 0.1], [3.0, -1.0, 0.0]])
    many = ear_transfer_at(s, f, heads, 180.0)
    for i, p in enumerate(heads):
        one = ear_transfer(replace(s, listeners=(replace(s.listeners[0], position_m=tuple(p)),)), f)
        assert np.allclose(many[:, :, i], one[:, :, 0], rtol=1e-12, atol=1e-15)


def test_far_field_circle_phase_and_piston_pattern():
    radius = 0.025
    piston = Piston(radius_m=radius)
    driver = Driver("p", (0.1, 0.0, 0.0), directivity=piston)
    dev = Device("one", (0.0, 0.0, 0.0), 30.0, drivers=(driver,))
    f = np.array([1000.0, 8000.0])
    h = farfield_circle(dev, f, np.array([0.0, 30.0, 60.0, 90.0]))
    # A driver 10 cm in front of the origin leads it by 0.1/c on axis.
    assert np.allclose(np.angle(h[:, 0, 0]), np.angle(np.exp(2j * np.pi * f * 0.1 / C)), atol=1e-9)
    level = 20 * np.log10(np.abs(h[1, 0]))
    assert level == pytest.approx([0.0, -3.9, -15.3, -28.5], abs=0.3)  # spatial.md D3, ka = 3.66


def test_far_field_circle_reuses_patterns_only_for_the_same_type_and_axis():
    # Patterns are cached per driver type and orientation: two identical pistons aimed apart,
    # and the same device after one of them moved, must match a from-scratch computation.
    import sim.freefield

    piston = Piston(radius_m=0.03)
    a = Driver("a", (0.0, 0.1, 0.0), (20.0, 0.0), piston)
    b = Driver("b", (0.0, -0.1, 0.0), (-20.0, 0.0), piston)
    dev = Device("pair", (1.0, 0.5, 0.0), 15.0, drivers=(a, b))
    moved = replace(dev, drivers=(a, replace(b, position_m=(0.05, -0.12, 0.0))))
    f, az = np.fft.rfftfreq(256, 1 / FS), np.arange(0.0, 360.0, 5.0)
    warm = [farfield_circle(d, f, az) for d in (dev, moved)]
    for d, h in zip((dev, moved), warm, strict=True):
        sim.freefield._circle_pattern.cache_clear()
        np.testing.assert_array_equal(h, farfield_circle(d, f, az))
    for k, drv in enumerate(dev.drivers):
        alone = farfield_circle(replace(dev, drivers=(drv,)), f, az)[:, 0]
        np.testing.assert_allclose(warm[0][:, k], alone, rtol=1e-12)


def test_far_field_circle_shapes_for_a_preset():
    dev = load_scene("design-soundbar-8").device
    h = farfield_circle(dev, np.fft.rfftfreq(1024, 1 / FS), np.arange(360))
    assert h.shape == (513, 8, 360) and np.all(np.isfinite(h))
    # Identical drivers on the line: equal magnitude everywhere.
    assert np.allclose(np.abs(h[:, 0]), np.abs(h[:, 7]))


def test_sofa_head_itd_at_plus_minus_90():
    path = shared_file("hrtf/FHK_HRIR_L2354.sofa")
    s = load_scene("design-stereo-2")
    li = Listener("kemar", (0.0, 0.0, 0.0), yaw_deg=0.0, hrtf=Hrtf("sofa", str(path)))
    f = np.fft.rfftfreq(4096, 1 / FS)
    for side, sign in ((90.0, 1.0), (-90.0, -1.0)):
        pos = (0.0, 3.0 * np.sin(np.radians(side)), 0.0)
        dev = Device("one", pos, side + 180.0, drivers=(Driver("d", (0.0, 0.0, 0.0)),))
        h = ear_transfer(replace(s, device=dev, listeners=(li,)), f)[:, 0, 0, :]
        itd = sign * _itd_s(h[:, 0], h[:, 1], f, (100.0, 1500.0))
        assert 600e-6 <= itd <= 800e-6, itd
