"""Analysis maps: the tabulated zone plant against the exact series, and the room path."""

import numpy as np

from dsp.analysis import cancellation, room_cancellation
from dsp.design import design
from dsp.params import DesignParams
from dsp.plant_table import ear_transfer_grid
from sim.freefield import ear_transfer_at
from sim.scene_io import load_scene
from sim.transfer import simulate


def test_tabulated_plant_matches_exact_series_to_8khz():
    for preset in ("design-stereo-2", "design-echo-studio"):
        s = load_scene(preset)
        li = s.listeners[0]
        rng = np.random.default_rng(0)
        heads = np.c_[rng.uniform(0.4, 4.5, 30), rng.uniform(-2, 2, 30), np.zeros(30)]
        yaw = np.degrees(np.arctan2(-heads[:, 1], -heads[:, 0]))
        f = np.geomspace(100, 8000, 12)
        ex = ear_transfer_at(s, f, heads, yaw, li)
        ap = ear_transfer_grid(s, f, heads, yaw, li)
        ref = np.sqrt(np.mean(np.abs(ex) ** 2, axis=1, keepdims=True))
        assert 20 * np.log10(np.max(np.abs(ap - ex) / ref)) < -40


def test_tabulated_plant_error_bound_to_16khz():
    # The bound `dsp.plant_table` states: ≤ −40 dB up to 16 kHz, ≤ −50 dB up to 8 kHz (re the
    # rms over drivers of the exact ear response), heads ≥ 0.4 m from the drivers.
    rng = np.random.default_rng(7)
    heads = np.c_[rng.uniform(0.4, 4.5, 200), rng.uniform(-2, 2, 200), rng.uniform(-0.3, 0.3, 200)]
    yaw = np.degrees(np.arctan2(-heads[:, 1], -heads[:, 0])) + rng.uniform(-30, 30, 200)
    f = np.r_[np.geomspace(100, 8000, 12), 10000, 12500, 16000]
    for preset in ("design-stereo-2", "design-echo-studio", "design-soundbar-8"):
        s = load_scene(preset)
        li = s.listeners[0]
        ex = ear_transfer_at(s, f, heads, yaw, li)
        err = np.abs(ear_transfer_grid(s, f, heads, yaw, li) - ex)
        db = 20 * np.log10(err / np.sqrt(np.mean(np.abs(ex) ** 2, axis=1, keepdims=True)))
        worst = db.max(axis=(1, 2, 3))
        assert worst.max() < -40, (preset, worst)
        assert worst[f <= 8000].max() < -50, (preset, worst)


def test_room_path_on_free_field_irs_reproduces_free_field_cancellation():
    s = load_scene("design-stereo-2")
    d = design(s, DesignParams())
    ff = cancellation(s, d.filters)
    rc = room_cancellation(s, d.filters, transfer=simulate(s, "freefield"), window_ms=20.0)
    m = (ff.band_hz >= 400) & (ff.band_hz <= 8000)
    # Same physics through IRs (truncated, sampled): within a few dB of the spectral path.
    assert np.all(rc.full.left[m] > 20.0)
    assert np.max(np.abs(rc.full.left[m] - ff.left[m])) < 6.0
