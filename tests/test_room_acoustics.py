"""Room acoustics: Sabine/Eyring estimates against hand computation, Schroeder decay times
against synthetic decays of known T60, and the living-room preset's estimate against its
simulated T30."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from dsp.room_acoustics import band_decay, decay_times, estimate_rt60, schroeder_db
from sim.room.cache import RirCache
from sim.scene import Room, Walls
from sim.scene_io import load_scene
from sim.transfer import simulate

BANDS = (125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0)


def _flat_room(alpha: float, air: bool = False, **kw) -> Room:
    walls = Walls(absorption=(alpha,) * 7, center_freqs_hz=BANDS)
    return Room(walls=walls, air_absorption=air, **kw)


def test_shoebox_sabine_eyring_by_hand():
    est = estimate_rt60(_flat_room(0.2), 343.0)
    assert est.bands_hz == BANDS
    # V = 5·4·2.7 = 54 m³, S = 2·(20 + 13.5 + 10.8) = 88.6 m², 24 ln10 = 55.262
    sabine = 55.262042 * 54.0 / (343.0 * 88.6 * 0.2)  # 0.49100 s
    eyring = 55.262042 * 54.0 / (343.0 * -88.6 * math.log(0.8))  # 0.44003 s
    np.testing.assert_allclose(est.sabine_s, sabine, rtol=1e-6)
    np.testing.assert_allclose(est.eyring_s, eyring, rtol=1e-6)
    assert 0.490 < sabine < 0.492 and 0.439 < eyring < 0.441


def test_air_absorption_shortens_the_high_bands():
    est = estimate_rt60(_flat_room(0.2, air=True), 343.0)
    # pyroomacoustics' 20 °C, 30-50 % table: m = 0.0058 /m at 4 kHz; 4 m V = 1.2528 m²
    sabine_4k = 55.262042 * 54.0 / (343.0 * (88.6 * 0.2 + 4 * 0.0058 * 54.0))
    assert est.sabine_s[5] == pytest.approx(sabine_4k, rel=1e-6)
    assert est.sabine_s[0] > est.sabine_s[5] > est.sabine_s[6]


def test_polygon_room_by_hand():
    # An L: 4 × 4 minus a 2 × 2 corner, 2.5 m high: floor 12 m², perimeter 16 m.
    floor = ((0.0, 0.0), (4.0, 0.0), (4.0, 2.0), (2.0, 2.0), (2.0, 4.0), (0.0, 4.0))
    room = _flat_room(0.3, kind="polygon", dimensions_m=None, floor_m=floor, height_m=2.5)
    est = estimate_rt60(room, 343.0)
    volume, area = 12.0 * 2.5, 2 * 12.0 + 16.0 * 2.5  # 30 m³, 64 m²
    assert est.sabine_s[3] == pytest.approx(55.262042 * volume / (343.0 * area * 0.3), rel=1e-6)
    assert est.eyring_s[3] == pytest.approx(
        55.262042 * volume / (343.0 * -area * math.log(0.7)), rel=1e-6)


def test_rt60_target_and_free_field():
    room = Room(walls=Walls(rt60_s=0.5), air_absorption=False)
    est = estimate_rt60(room, 343.0)
    np.testing.assert_allclose(est.sabine_s, 0.5, rtol=1e-6)  # the target is Sabine's
    assert all(e < 0.5 for e in est.eyring_s)
    assert estimate_rt60(Room(kind="anechoic", dimensions_m=None), 343.0) is None


def _decay(t60: float, fs: int = 48000, seconds: float = 2.0, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(fs * seconds)) / fs
    return rng.standard_normal(len(t)) * 10.0 ** (-3.0 * t / t60)


def test_schroeder_curve_of_an_exponential():
    fs, t60 = 48000, 0.5
    t = np.arange(fs) / fs
    curve = schroeder_db(10.0 ** (-3.0 * t / t60))
    # Energy decays 60 dB per T60: the backward integral has the same slope.
    assert curve[0] == 0.0
    assert curve[fs // 4] == pytest.approx(-30.0, abs=0.05)


@pytest.mark.parametrize("t60", [0.3, 0.8])
def test_decay_times_of_synthetic_exponential_decays(t60):
    irs = np.stack([_decay(t60, seed=s) for s in range(24)])
    d = decay_times(irs, 48000)
    assert d.bands_hz == BANDS
    for band, edt, t30 in zip(d.bands_hz, d.edt_s, d.t30_s, strict=True):
        assert t30 == pytest.approx(t60, rel=0.05 if band == 125.0 else 0.03), band
        # EDT fits the first 10 dB only (50 ms at T60 = 0.3 s): the band filter's build-up
        # lengthens it where the bandwidth-time product is small (ISO 3382-1 wants B·T > 16).
        assert edt == pytest.approx(t60, rel=0.05 if band >= 1000.0 else 0.25), band


def test_too_short_a_tail_gives_nan():
    ir = _decay(1.0, seconds=0.4)  # falls 24 dB, then stops: enough for EDT, not for T30
    edt, t30 = band_decay(ir, 48000, 1000.0)
    assert edt == pytest.approx(1.0, rel=0.1)
    assert math.isnan(t30)
    assert math.isnan(decay_times(np.zeros((2, 100)), 48000).t30_s[0])


def _t30_vs_estimate(scene):
    est = estimate_rt60(scene.room, scene.simulation.c_m_s)
    measured = decay_times(simulate(scene, "room", cache=RirCache()).ir, scene.simulation.fs_hz)
    rows = []
    for band, t30 in zip(measured.bands_hz, measured.t30_s, strict=True):
        if 250.0 <= band <= 4000.0:
            j = est.bands_hz.index(band)
            rows.append((band, est.sabine_s[j], est.eyring_s[j], t30))
    return rows


def test_living_room_sabine_estimate_matches_simulated_t30():
    """The preset's RT60 target is Sabine's; with specular walls (scattering 0) the field is not
    diffuse and the simulated T30 sits near Sabine (within 9 %), above Eyring."""
    rows = _t30_vs_estimate(load_scene("reference-pair-living-room"))
    assert len(rows) == 5
    for band, sabine, eyring, t30 in rows:
        assert abs(sabine / t30 - 1) < 0.15, (band, sabine, t30)
        assert eyring < t30, band


def test_diffuse_living_room_follows_eyring():
    """With scattering walls (diffuse field) the decay follows Eyring's formula, as theory says
    for uniform absorption."""
    scene = load_scene("reference-pair-living-room")
    walls = replace(scene.room.walls, scattering=0.5)
    rows = _t30_vs_estimate(replace(scene, room=replace(scene.room, walls=walls)))
    for band, _sabine, eyring, t30 in rows:
        assert abs(eyring / t30 - 1) < 0.05, (band, eyring, t30)
