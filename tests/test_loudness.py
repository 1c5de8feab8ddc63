"""BS.1770-4 loudness against the standard's published filter coefficients and the EBU Tech 3341
minimum-requirements test signals (expected −23.0 ± 0.1 LUFS)."""

import numpy as np
import pytest

from dsp.loudness import (
    PUBLISHED_48K,
    LoudnessError,
    integrated_loudness,
    k_weighting,
    match_gain_db,
)


def _sine(dbfs, seconds, fs, f=1000.0):
    t = np.arange(round(seconds * fs)) / fs
    return 10 ** (dbfs / 20) * np.sin(2 * np.pi * f * t)


def _stereo(*parts):
    x = np.concatenate(parts)
    return np.stack([x, x], axis=1)


def test_k_weighting_at_48k_matches_the_published_coefficients():
    (b1, a1), (b2, a2) = k_weighting(48000)
    np.testing.assert_allclose(b1, PUBLISHED_48K["shelf_b"], atol=1e-8)
    np.testing.assert_allclose(a1, PUBLISHED_48K["shelf_a"], atol=1e-8)
    np.testing.assert_allclose(b2, PUBLISHED_48K["highpass_b"], atol=1e-12)
    np.testing.assert_allclose(a2, PUBLISHED_48K["highpass_a"], atol=1e-8)


@pytest.mark.parametrize("fs", [48000, 44100])
@pytest.mark.parametrize("case,parts", [
    # EBU Tech 3341 (2016) §3, test cases 1–5: stereo 1 kHz sines.
    ("1", [(-23, 20)]),
    ("3", [(-36, 10), (-23, 60), (-36, 10)]),
    ("4", [(-72, 10), (-36, 10), (-23, 60), (-36, 10), (-72, 10)]),
    ("5", [(-26, 20), (-20, 20.1), (-26, 20)]),
])
def test_ebu_3341_cases_read_minus_23_lufs(fs, case, parts):
    x = _stereo(*(_sine(db, s, fs) for db, s in parts))
    assert integrated_loudness(x, fs) == pytest.approx(-23.0, abs=0.1), case


def test_ebu_3341_case_2_reads_minus_33():
    assert integrated_loudness(_stereo(_sine(-33, 20, 48000)), 48000) == pytest.approx(
        -33.0, abs=0.1)


def test_full_scale_sine_in_one_channel_reads_minus_3_01():
    # BS.1770-4 §2.1: a 0 dBFS 1 kHz sine in the left channel alone reads −3.01 LKFS.
    x = _sine(0, 5, 48000)
    assert integrated_loudness(np.stack([x, 0 * x], 1), 48000) == pytest.approx(-3.01, abs=0.02)


def test_gain_to_target_and_silence():
    x = _stereo(_sine(-30, 5, 48000))
    assert match_gain_db(x, 48000, -23.0) == pytest.approx(7.0, abs=0.1)
    assert integrated_loudness(np.zeros((48000, 2)), 48000) == -np.inf
    with pytest.raises(LoudnessError, match="400 ms"):
        integrated_loudness(np.ones((1000, 2)), 48000)


def test_a_signal_shorter_than_one_block_is_measured_zero_padded_when_asked():
    x = _stereo(_sine(-20, 0.25, 48000))
    with pytest.raises(LoudnessError, match="400 ms"):
        integrated_loudness(x, 48000)
    padded = np.concatenate([x, np.zeros((19200 - len(x), 2))])
    assert integrated_loudness(x, 48000, pad_short=True) == integrated_loudness(padded, 48000)
    # Its energy over 400 ms: 250 ms of the tone reads 10·log10(0.25 / 0.4) dB below the tone.
    full = integrated_loudness(_stereo(_sine(-20, 5, 48000)), 48000)
    assert integrated_loudness(x, 48000, pad_short=True) == pytest.approx(
        full + 10 * np.log10(0.25 / 0.4), abs=0.05)
    long = _stereo(_sine(-20, 2, 48000))
    assert integrated_loudness(long, 48000, pad_short=True) == integrated_loudness(long, 48000)
