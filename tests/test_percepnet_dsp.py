"""PercepNet DSP checked against closed forms: window, bands, comb, pitch, postfilter, r target."""

import numpy as np
import pytest

from dsp.percepnet.bands import band_centres_bins, band_matrix, interp_gains, n_bands
from dsp.percepnet.comb import (
    comb_frames,
    comb_weights,
    mix_comb,
    strength_target,
    white_noise_gain,
)
from dsp.percepnet.pitch import pitch_range, track_pitch
from dsp.percepnet.postfilter import BETA, check_strength, loudness_gain, postfilter, warp
from dsp.percepnet.stft import analyze, hop_size, synthesize, vorbis_window


@pytest.mark.parametrize("fs", [16000, 48000])
def test_window_power_complementary_and_perfect_reconstruction(fs):
    h = hop_size(fs)
    w = vorbis_window(2 * h)
    assert np.allclose(w[:h] ** 2 + w[h:] ** 2, 1.0, atol=1e-15)
    x = np.random.default_rng(0).standard_normal(fs // 3 + 17)
    y = synthesize(analyze(x, fs), fs, len(x))
    assert np.max(np.abs(y - x)) < 1e-12


def test_rate_not_multiple_of_100_is_refused():
    with pytest.raises(ValueError, match="multiple of 100"):
        hop_size(22050)


def test_band_layout_follows_rate():
    assert n_bands(48000) == 34 and n_bands(16000) == 27
    c48, c16 = band_centres_bins(48000), band_centres_bins(16000)
    assert np.array_equal(c48[: len(c16)], c16)  # 16 kHz layout = lower part of the 48 kHz one
    assert np.all(np.diff(c48) >= 2)  # at least 100 Hz (2 bins of 50 Hz)
    assert c48[-1] * 50 <= 20000
    for fs in (16000, 48000):
        m = band_matrix(fs)
        assert m.shape == (n_bands(fs), fs // 100 + 1)
        assert np.allclose(m.sum(axis=0), 1.0)  # unit band gains are unit bin gains
        assert np.allclose(interp_gains(np.ones(n_bands(fs)), fs), 1.0)


def test_comb_white_noise_gain_closed_form_and_measured():
    w = comb_weights(3)
    assert np.isclose(w.sum(), 1.0)
    assert np.isclose(white_noise_gain(3), 12 / 64)  # 0.1875 = −7.3 dB
    assert np.isclose(white_noise_gain(5), 0.125)
    fs = 16000
    x = np.random.default_rng(1).standard_normal(fs * 4)
    period = np.full(390, 97)
    p = comb_frames(x, fs, period)[20:-20]
    ref = analyze(x, fs, 390)
    ratio = np.sum(p ** 2) / np.sum(np.abs(np.fft.irfft(ref[20:-20], 320, axis=-1)) ** 2)
    assert ratio == pytest.approx(0.1875, rel=0.05)


def test_comb_passes_a_signal_of_its_period():
    fs, t_per = 16000, 100
    rng = np.random.default_rng(2)
    one = rng.standard_normal(t_per)
    x = np.tile(one, 60)  # 6000 samples = 37.5 frames
    p = comb_frames(x, fs, np.full(38, t_per))
    direct = np.fft.irfft(analyze(x, fs, 38), 320, axis=-1)
    assert np.allclose(p[3:34], direct[3:34], atol=1e-12)  # interior: passes unchanged
    assert not np.allclose(p[36], direct[36], atol=1e-3)  # near the end it sees the zeros


def test_mix_comb_keeps_band_energy():
    fs = 16000
    rng = np.random.default_rng(3)
    y = rng.standard_normal((5, 161)) + 1j * rng.standard_normal((5, 161))
    p = rng.standard_normal((5, 161)) + 1j * rng.standard_normal((5, 161))
    r = rng.uniform(0, 1, (5, n_bands(fs)))
    from dsp.percepnet.bands import band_energy

    z = mix_comb(y, p, r, fs)
    # renormalised per band (through overlapping triangles, so not exact per band)
    assert np.allclose(band_energy(z, fs).sum(-1), band_energy(y, fs).sum(-1), rtol=0.1)
    unnorm = (1 - interp_gains(r, fs)) * y + interp_gains(r, fs) * p
    err_norm = np.abs(np.log(band_energy(z, fs) / band_energy(y, fs))).mean()
    err_raw = np.abs(np.log(band_energy(unnorm, fs) / band_energy(y, fs))).mean()
    assert err_norm < 0.5 * err_raw
    assert np.allclose(mix_comb(y, p, np.zeros_like(r), fs), y)


def test_strength_target_properties():
    q = np.linspace(-0.2, 1.0, 61)
    qx, qy = np.meshgrid(q, q, indexing="ij")
    r, g_att = strength_target(qx, qy)
    assert np.all(np.isfinite(r)) and np.all(np.isfinite(g_att))
    assert np.all((r >= 0) & (r <= 1)) and np.all((g_att > 0) & (g_att <= 1))
    # clean no more periodic than the noisy signal: no comb, no attenuation
    r0, g0 = strength_target(np.array([0.3, 0.5]), np.array([0.5, 0.5]))
    assert np.allclose(r0, 0.0) and np.allclose(g0, 1.0)
    # more periodic clean speech → more comb; unreachable coherence → r = 1 and attenuation
    r1, _ = strength_target(np.array([0.6, 0.7, 0.8]), np.array([0.5, 0.5, 0.5]))
    assert np.all(np.diff(r1) > 0)
    kappa = white_noise_gain()
    qy = 0.3
    q_hat = qy / np.sqrt((1 - kappa) * qy ** 2 + kappa)
    r2, g2 = strength_target(np.array([min(q_hat + 0.1, 0.99)]), np.array([qy]))
    assert r2[0] == 1.0 and g2[0] < 1.0


def test_postfilter_peak_gain_and_identity():
    ratio = np.logspace(-1, 3, 20001)
    gdb = 20 * np.log10(loudness_gain(ratio, BETA))
    assert gdb.max() == pytest.approx(10 * np.log10((1 + BETA) / (2 * np.sqrt(BETA))), abs=1e-4)
    assert gdb.max() == pytest.approx(5.57, abs=0.01)  # "+5.6 dB at β = 0.02"
    assert ratio[np.argmax(gdb)] == pytest.approx(1 / np.sqrt(BETA), rel=1e-3)
    e = np.random.default_rng(4).uniform(0.1, 1, 27)
    assert np.allclose(postfilter(np.ones(27), e), 1.0)
    g = np.linspace(0.05, 1, 27)
    out = postfilter(g, e)
    assert np.all(out[:5] < g[:5])  # low gains pushed down
    gated = postfilter(np.full(27, 0.999), e, gate=True)  # high SNR: gate leaves gains alone
    assert np.allclose(gated, 0.999)


def test_postfilter_strength_closed_forms():
    g = np.linspace(0.02, 1.0, 50)
    # warp in dB: s·20·log10 sin(πg/2) below the gain itself
    for s in (0.25, 0.5, 1.0):
        extra_db = 20 * np.log10(warp(g, s) / g)
        assert np.allclose(extra_db, s * 20 * np.log10(np.sin(np.pi * g / 2)), atol=1e-12)
    assert 20 * np.log10(warp(np.array(0.5), 1.0) / 0.5) == pytest.approx(-3.0103, abs=1e-4)
    e = np.random.default_rng(5).uniform(0.01, 1, (4, 27))
    gains = np.random.default_rng(6).uniform(0.0, 1.0, (4, 27))
    # strength 0: no warp, E0 = E1, G = 1 — the postfilter is the identity
    assert np.allclose(postfilter(gains, e, strength=0.0), gains, atol=1e-9)
    # any strength: min(G·g_w, 1) with G from the energies after the gains (g², not g)
    for s in (0.5, 1.0):
        gw = gains * np.sin(np.pi * gains / 2) ** s
        ratio = (gains ** 2 * e).sum(-1, keepdims=True) / (gw ** 2 * e).sum(-1, keepdims=True)
        want = np.minimum(np.sqrt((1 + BETA) * ratio / (1 + BETA * ratio ** 2)) * gw, 1.0)
        assert np.allclose(postfilter(gains, e, strength=s), want, rtol=1e-9)
    # G < 1 exactly when E0/E1 > 1/β ((βR − 1)(R − 1) > 0 for R > 1)
    r = np.array([0.5 / BETA, 0.99 / BETA, 1.01 / BETA, 2 / BETA])
    assert np.array_equal(loudness_gain(r) < 1.0, r > 1 / BETA)


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf")])
def test_postfilter_strength_rejects_bad_values(bad):
    with pytest.raises(ValueError, match="postfilter strength must be a finite number >= 0"):
        check_strength(bad)
    with pytest.raises(ValueError, match="postfilter strength"):
        postfilter(np.full(27, 0.5), np.ones(27), strength=bad)


def _harmonic(f0, fs, dur, weights):
    t = np.arange(int(dur * fs)) / fs
    return sum(a * np.sin(2 * np.pi * f0 * (h + 1) * t) for h, a in enumerate(weights))


@pytest.mark.parametrize("f0", [120.0, 180.0, 250.0, 400.0])
def test_pitch_tracks_harmonic_tone(f0):
    fs = 16000
    x = _harmonic(f0, fs, 0.6, [1, 0.8, 0.6, 0.5, 0.4, 0.3])
    x += 0.05 * np.random.default_rng(5).standard_normal(len(x))
    tr = track_pitch(x, fs, 55)
    assert np.median(np.abs(tr.period[5:50] - fs / f0)) <= 1.0  # no octave errors
    assert np.median(tr.corr[5:50]) > 0.9


def test_pitch_octave_error_removed_with_strong_second_harmonic():
    fs = 16000
    x = _harmonic(200.0, fs, 0.6, [0.3, 1.0, 0.2, 0.5])  # weak fundamental
    tr = track_pitch(x, fs, 55)
    assert np.median(tr.period[5:50]) == pytest.approx(80, abs=1)
    pr = pitch_range(fs)
    assert pr.t_min == 32 and pr.t_max == 160  # 500 Hz … 100 Hz


def test_viterbi_distance_transform_equals_brute_force():
    from dsp.percepnet.pitch import JUMP_COST, ViterbiTracker

    pr = pitch_range(16000)
    vt = ViterbiTracker(pr)
    lp = np.log2(pr.periods.astype(float))
    cost = -JUMP_COST * np.abs(lp[None, :] - lp[:, None])  # C[from, to]
    rng = np.random.default_rng(6)
    for _ in range(20):
        delta = rng.uniform(-2, 0, len(lp))
        best, arg = vt._best_from(delta)
        cand = delta[:, None] + cost
        assert np.allclose(best, cand.max(axis=0))
        assert np.allclose(cand[arg, np.arange(len(lp))], cand.max(axis=0))


def test_chain_runs_at_48k_with_70_features():
    from dsp.percepnet.features import analyze_frames, model_inputs, n_features
    from dsp.percepnet.metrics import si_sdr
    from dsp.percepnet.oracle import oracle_ladder

    fs = 48000
    assert n_features(fs) == 70 and n_features(16000) == 56
    clean = _harmonic(160.0, fs, 0.5, [1, 0.7, 0.5, 0.4, 0.3, 0.2, 0.1])
    noisy = clean + 0.3 * np.random.default_rng(7).standard_normal(len(clean))
    fa = analyze_frames(noisy, fs)
    assert model_inputs(fa).shape == (fa.n_frames + 3, 70)
    assert np.median(np.abs(fa.pitch.period[5:45] - fs / 160.0)) <= 2
    lad = oracle_ladder(noisy, clean, fs)
    base = si_sdr(clean, noisy)
    assert si_sdr(clean, lad["band"]) > base + 3
    assert si_sdr(clean, lad["band+comb"]) > si_sdr(clean, lad["band"])
