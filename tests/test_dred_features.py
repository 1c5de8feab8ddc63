"""LPCNet-style features: closed-form checks and the inverse path."""

import numpy as np
import pytest
import scipy.signal
import soundfile as sf
from conftest import shared_file

from dsp.dred import features as F

FS = 16000


def _voiced(f0: float, formant_hz: float, seconds: float = 1.0) -> np.ndarray:
    """A sawtooth glottal source at f0 through one strong formant resonance (bandwidth 80 Hz)."""
    cycles = np.arange(int(FS * seconds)) * f0 / FS  # n*f0 first: exact wraps, no 1-sample jitter
    saw = 2.0 * (cycles % 1.0) - 1.0
    rad = np.exp(-np.pi * 80.0 / FS)
    a = [1.0, -2 * rad * np.cos(2 * np.pi * formant_hz / FS), rad**2]
    y = scipy.signal.lfilter([1.0 - rad], a, saw)
    return 0.5 * y / np.max(np.abs(y))


@pytest.mark.parametrize("f0", [100.0, 150.0, 200.0, 333.0])
def test_voiced_pitch_period(f0):
    feats = F.compute_features(_voiced(f0, 700.0))
    assert feats.shape == (100, F.NB_FEATURES)
    period = F.pitch_period(feats)[5:-3]  # skip the zero-padded start and the flushed end
    # sub-sample period of an aliased sawtooth: parabolic refinement within 0.3 %
    np.testing.assert_allclose(period, FS / f0, rtol=3e-3)
    assert F.pitch_correlation(feats)[5:-3].min() > 0.9


def test_strong_formant_not_read_as_pitch():
    # 110 Hz voice whose 5th harmonic (550 Hz) sits on F1: raw-signal correlation peaks at the
    # formant's period (29 samples, outside the range) and its multiples; the residual does not
    period = F.pitch_period(F.compute_features(_voiced(110.0, 550.0)))[5:-3]
    np.testing.assert_allclose(period, FS / 110.0, rtol=3e-3)


def test_pulse_train_not_read_an_octave_low():
    x = np.zeros(FS)
    x[::125] = 1.0  # 128 Hz, rich in harmonics: lags 250 also correlate perfectly
    period = F.pitch_period(F.compute_features(x))[5:]
    np.testing.assert_allclose(period, 125.0, atol=0.05)


def test_white_noise_band_energies_closed_form():
    rng = np.random.default_rng(0)
    sigma = 0.1
    x = sigma * rng.standard_normal(FS * 20)
    power = F.frame_spectra(x)[2:-2]
    # E|X_k|^2 = sigma^2 * 32768^2 * sum(w^2) / N^2, sum(w^2) = N/2 (power-complementary window)
    per_bin = (sigma * F.INT16_SCALE) ** 2 * (F.WINDOW_SIZE / 2) / F.WINDOW_SIZE**2
    np.testing.assert_allclose(power[:, 1:160].mean(), per_bin, rtol=0.02)
    # Each interior band's triangle sums to (e[i+1] - e[i-1]) / 2 bins; the end bands, doubled,
    # to e[1] + 1 (bin 0 included) and e[17] - e[16] - 1 (Nyquist bin excluded), all x2/2.
    e = F.BAND_EDGES
    width = np.empty(F.NB_BANDS)
    width[1:-1] = (e[2:] - e[:-2]) / 2
    width[0] = 2 * ((e[1] - e[0]) + 1) / 2
    width[-1] = 2 * ((e[-1] - e[-2]) - 1) / 2
    energy = F.band_energies(power).mean(axis=0)
    # statistical tolerance: band 0 averages only 5 bins (DC real-valued, chi-square 1 dof)
    np.testing.assert_allclose(energy, per_bin * width, rtol=0.04)
    np.testing.assert_allclose(F.band_matrix().sum(axis=1), width)
    # and the envelope of those energies is flat at the per-bin power
    env = F.band_energies_to_envelope(energy)
    np.testing.assert_allclose(env, per_bin, rtol=0.04)
    # white noise has no pitch
    assert F.pitch_correlation(F.compute_features(x)).mean() < 0.3


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    x, _ = sf.read(shared_file("speech/librispeech_test-other/2033/2033-164914-0000.flac"))
    return x


def test_cepstrum_round_trip(speech):
    energy = F.band_energies(F.frame_spectra(speech))
    # without LPCNet's smoothing the DCT path is exact
    exact = F.cepstrum_to_band_energies(F.band_energies_to_cepstrum(energy, smooth=False))
    np.testing.assert_allclose(exact, energy, rtol=1e-9, atol=1e-9)
    # with it, only clamped bands move (measured 0.12 % of band values, max 0.63 decades)
    ly = np.log10(1e-2 + energy)
    back = F.cepstrum_to_log_energies(F.band_energies_to_cepstrum(energy))
    moved = np.abs(back - ly) > 1e-9
    assert moved.mean() < 0.01
    assert np.all(back >= ly - 1e-9)  # smoothing only raises floors, never lowers energy


def test_speech_features_and_lpc(speech):
    feats = F.compute_features(speech)
    assert feats.shape == (-(-speech.size // 160), 20)
    assert np.isfinite(feats).all()
    period = F.pitch_period(feats)
    assert period.min() >= F.PITCH_MIN_PERIOD - 0.5 and period.max() <= F.PITCH_MAX_PERIOD + 0.5
    voiced = F.pitch_correlation(feats) > 0.8
    # male talker: voiced frames mostly 80-200 Hz
    assert 0.7 < np.mean((period[voiced] > 80) & (period[voiced] < 200))
    a = F.features_to_lpc(feats)
    assert a.shape == (feats.shape[0], F.LPC_ORDER + 1) and np.isfinite(a).all()
    # LPC synthesis filters are stable (Levinson on a positive-definite autocorrelation)
    roots = np.abs(np.roots(a[feats.shape[0] // 2]))
    assert roots.max() < 1.0
