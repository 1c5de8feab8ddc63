"""Display overviews of a programme (dsp.programme_view): the upmix's L/R/C levels over time and
a log-frequency spectrogram."""

import numpy as np
import pytest

from dsp.programme_view import FLOOR_DB, lrc_levels, spectrogram
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


def test_spectrogram_finds_a_tone_when_and_where_it_is():
    x = np.concatenate([_tone(1000, 1.0), np.zeros(FS), _tone(4000, 1.0, amp=0.1)])
    spec = spectrogram(np.stack([x, x], 1), FS, max_columns=30)
    assert spec.level_db.shape == (160, 30)
    assert spec.freqs_hz[0] > 30 and spec.edges_hz[-1] == pytest.approx(FS / 2)
    assert np.all(np.diff(np.log(spec.freqs_hz)) == pytest.approx(np.log(spec.freqs_hz[1]
                                                                          / spec.freqs_hz[0])))
    first = spec.level_db[:, 5]
    last = spec.level_db[:, 25]
    f1 = spec.freqs_hz[np.argmax(first)]
    f2 = spec.freqs_hz[np.argmax(last)]
    assert f1 == pytest.approx(1000, rel=0.05) and f2 == pytest.approx(4000, rel=0.05)
    # dB re a full-scale sine: a 0.5 sine reads −6 dB, a 0.1 sine −20 dB (less the Hann
    # window's scalloping between bins, ≤ 1.5 dB).
    assert -7.6 < first.max() <= -6.0 + 0.05
    assert -21.6 < last.max() <= -20.0 + 0.05
    assert spec.level_db[:, 15].max() == FLOOR_DB  # the silent middle second
    assert spec.times_s[0] == pytest.approx(0.05) and spec.times_s[-1] == pytest.approx(2.95)


def test_spectrogram_cost_is_bounded_for_long_files():
    x = np.random.default_rng(1).standard_normal(FS * 120) * 0.1  # 2 min mono
    spec = spectrogram(x, FS, max_columns=200, frames_per_column=2)
    assert spec.level_db.shape == (160, 200)
    short = spectrogram(x[:100], FS)  # shorter than one FFT frame
    assert short.level_db.shape[1] == 1
