"""The programme's L/R/C levels over time for display (dsp.programme_view)."""

import numpy as np
import pytest

from dsp.programme_view import lrc_levels
from dsp.spectrum import FLOOR_DB
from dsp.upmix import UpmixParams, upmix
from sim.task import Cancelled, TaskState

FS = 48000


def _tone(f, seconds, amp=0.5):
    return amp * np.sin(2 * np.pi * f * np.arange(round(seconds * FS)) / FS)


def test_levels_follow_where_a_source_is_panned():
    # 1 s centred tone, then 1 s hard left, then 1 s hard right.
    s = _tone(500, 1.0)
    z = np.zeros_like(s)
    x = np.concatenate([np.stack([s, s], 1), np.stack([s, z], 1), np.stack([z, s], 1)])
    track = lrc_levels(x, FS, window_s=0.1)
    assert track.levels_db.shape == (3, 30) and track.window_s == pytest.approx(0.1)
    assert track.times_s[0] == pytest.approx(0.05) and track.times_s[-1] == pytest.approx(2.95)
    centre, left, right = (track.levels_db[:, k] for k in (5, 15, 25))
    # A centred source is all C at +3 dB (C = √2·S): RMS 0.5 → −6 dBFS; the sides are empty.
    assert centre[2] == pytest.approx(20 * np.log10(0.5), abs=0.5)
    assert centre[0] < -60 and centre[1] < -60
    assert left[0] == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=0.5)
    assert left[0] - max(left[1], left[2]) > 30
    assert right[1] - max(right[0], right[2]) > 30


def test_levels_are_those_of_the_offline_upmix():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((FS, 2)) * 0.1
    x[:, 1] += 0.5 * x[:, 0]
    p = UpmixParams(centre_width=0.02, ambience=0.3)
    track = lrc_levels(x, FS, p, window_s=0.05, chunk_windows=3)
    lrc = upmix(x, FS, p).aligned(len(x))
    win = round(0.05 * FS)
    want = 10 * np.log10(np.mean(lrc[:20 * win].reshape(20, win, 3) ** 2, axis=1)).T
    np.testing.assert_allclose(track.levels_db, want, atol=1e-9)


def test_levels_report_progress_and_cancel():
    seen = []
    state = TaskState(lambda f, m: seen.append(f))
    lrc_levels(np.zeros((FS, 2)), FS, state=state)
    assert seen[-1] == 1.0 and seen == sorted(seen)
    state = TaskState()
    state.cancel()
    with pytest.raises(Cancelled):
        lrc_levels(np.zeros((FS, 2)), FS, state=state)
    silent = lrc_levels(np.zeros((FS // 2, 2)), FS)
    assert np.all(silent.levels_db == FLOOR_DB)
