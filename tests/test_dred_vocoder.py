"""DRED vocoders: neural (dsp.dred.vocoder) and the LPC baseline (dsp.dred.lpc_vocoder)."""

import numpy as np
import pytest
import scipy.signal
from conftest import check_weights_file_errors, shared_file

from dsp.dred.features import (
    FRAME_SIZE,
    NB_BANDS,
    band_energies,
    cepstrum_to_band_energies,
    compute_features,
    frame_spectra,
)
from dsp.dred.lpc_vocoder import lpc_vocode
from dsp.dred.vocoder import (
    DEFAULT_WEIGHTS,
    LOOKAHEAD_FRAMES,
    N_FFT,
    Vocoder,
    VocoderError,
    energy_delay,
    min_phase,
    pulse_train,
    render,
    subframe_priors,
)

FS = 16000


@pytest.fixture(scope="module")
def voc() -> Vocoder:
    return Vocoder.load()


def _vowel(period: int, seconds: float = 1.0, level: float = 0.05) -> np.ndarray:
    """Steady synthetic vowel: impulse train of the given period through two formants."""
    x = np.zeros(int(seconds * FS))
    x[::period] = 1.0
    for f, bw in ((700.0, 80.0), (1200.0, 100.0)):
        r = np.exp(-np.pi * bw / FS)
        x = scipy.signal.lfilter([1.0], [1.0, -2 * r * np.cos(2 * np.pi * f / FS), r * r], x)
    return level * x / np.sqrt(np.mean(x**2))


def _bursts(kind: str, n: int = 24, seed: int = 5) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """``n`` bursts (0.1..0.25 s, random levels and positions, silence between) of white noise
    or of a vowel whose excitation is gated (so its formants ring on, as in speech), and the
    bursts' ``[start, stop)`` sample spans."""
    rng = np.random.default_rng(seed)
    spans, pos = [], 1200
    for _ in range(n):
        length = int(rng.integers(1600, 4000))
        spans.append((pos, pos + length))
        pos += length + int(rng.integers(1200, 2500))
    x = np.zeros(pos + 1200)
    for a, b in spans:
        if kind == "noise":
            burst = rng.standard_normal(b - a)
        else:
            burst = np.zeros(x.size - a)
            burst[: b - a: 97] = 1.0
            for f, bw in ((700.0, 80.0), (1200.0, 100.0), (2600.0, 150.0)):
                r = np.exp(-np.pi * bw / FS)
                burst = scipy.signal.lfilter(
                    [1.0], [1.0, -2 * r * np.cos(2 * np.pi * f / FS), r * r], burst)
        level = rng.uniform(0.02, 0.1) / np.sqrt(np.mean(burst[: b - a] ** 2))
        x[a:a + burst.size] += level * burst
    return x, spans


def _centroid_lag(x: np.ndarray, outputs: list[np.ndarray], spans) -> tuple[float, float]:
    """Mean and standard error (samples) over bursts of the energy-centroid offset of the
    outputs (power averaged over noise seeds) against ``x`` (late => positive)."""
    px, py = x**2, np.mean([y.astype(np.float64) ** 2 for y in outputs], axis=0)
    d = []
    for a, b in spans:
        n = np.arange(a - 800, b + 800)
        d.append(np.sum(n * py[n]) / np.sum(py[n]) - np.sum(n * px[n]) / np.sum(px[n]))
    return float(np.mean(d)), float(np.std(d) / np.sqrt(len(d)))


VOCODERS = {"neural": lambda v, f, seed=0: v.synthesize(f, seed),
            "lpc": lambda v, f, seed=0: lpc_vocode(f, seed)}


@pytest.mark.parametrize("name", sorted(VOCODERS))
def test_shape_dtype_finite_and_deterministic(voc, name):
    f = compute_features(_vowel(100, 0.5))
    y = VOCODERS[name](voc, f)
    assert y.shape == (f.shape[0] * FRAME_SIZE,) and y.dtype == np.float32
    assert np.all(np.isfinite(y)) and np.max(np.abs(y)) <= 1.0
    np.testing.assert_array_equal(y, VOCODERS[name](voc, f))
    assert not np.array_equal(y, VOCODERS[name](voc, f, seed=1))
    one = VOCODERS[name](voc, f[:1])
    assert one.shape == (FRAME_SIZE,) and np.all(np.isfinite(one))


def _analytic(_voc, f, seed=0):
    """The neural vocoder's synthesis path with the network off (priors only)."""
    return render(f, *subframe_priors(f), seed)


@pytest.mark.parametrize(("fn", "kind"), [(_analytic, "noise"), (_analytic, "vowel"),
                                          (VOCODERS["lpc"], "noise")],
                         ids=["network-off-noise", "network-off-vowel", "lpc-noise"])
def test_synthesis_path_has_no_delay(voc, fn, kind):
    # The vocoders transmit no phase, so what must line up is where the energy lands: burst
    # by burst, the centroid of the output power (mean over noise seeds) against the input's.
    # Frame placement, the min-phase filters' energy delay and the envelope read-ahead are all
    # in this path; a subframe misplacement shows as 80 samples, no read-ahead as 10..25.
    x, spans = _bursts(kind)
    f = compute_features(x)
    lag, stderr = _centroid_lag(x, [fn(voc, f, seed) for seed in range(6)], spans)
    assert abs(lag) < 5.0 and stderr < 3.0, (lag, stderr)


def _envelope_lag(x: np.ndarray, y: np.ndarray, max_lag: int = 200) -> float:
    """Lag (samples, y late => positive) of the peak of the cross-correlation of the 20 ms
    Hann-smoothed amplitude envelopes, parabolically refined."""
    k = np.hanning(320) / np.hanning(320).sum()
    a, b = (np.sqrt(np.convolve(s**2, k, "same")) for s in (x, y))
    c = scipy.signal.correlate(b - b.mean(), a - a.mean(), "full", method="fft")
    c = c[a.size - 1 - max_lag:a.size + max_lag]
    i = int(np.argmax(c))
    return i - max_lag + 0.5 * (c[i - 1] - c[i + 1]) / (c[i - 1] - 2 * c[i] + c[i + 1])


@pytest.mark.parametrize("name", sorted(VOCODERS))
def test_aligned_with_source_speech(voc, name):
    # first file of each heldout speaker; envelopes, not waveforms (no phase is transmitted).
    # Over all 60 heldout files (eval_vocoder.py): neural +8.9 +- 1.1 samples (it learned a
    # little decay after offsets), network-off path +3.6 +- 0.7, LPC +5.1 +- 0.7; a subframe
    # misplacement would read ~80.
    from training.dred.data import load_speech

    speakers = shared_file("speech/librispeech_test-other/2033/2033-164914-0000.flac").parents[1]
    lags = []
    for spk in sorted(p for p in speakers.iterdir() if p.is_dir()):
        x = load_speech(sorted(spk.glob("*.flac"))[0]).astype(np.float64)
        f = compute_features(x)
        lags.extend(_envelope_lag(x, VOCODERS[name](voc, f, seed)) for seed in range(2))
    assert len(lags) == 12 and abs(np.mean(lags)) < 10.0, lags


@pytest.mark.parametrize("name", sorted(VOCODERS))
@pytest.mark.parametrize("period", [64, 125])
def test_steady_vowel_pitch(voc, name, period):
    f = compute_features(_vowel(period))
    y = VOCODERS[name](voc, f)[4000:12000]
    ac = np.correlate(y, y, "full")[y.size - 1:]
    lag = 32 + int(np.argmax(ac[32:257]))
    assert abs(lag - period) <= 1, lag


@pytest.mark.parametrize("name", sorted(VOCODERS))
def test_frame_energy_tracks_band_energies(voc, name):
    rng = np.random.default_rng(0)
    # a vowel and noise whose levels ramp over 30 dB: level tracking, not just one gain
    x = np.concatenate([_vowel(90, 0.8), 0.05 * rng.standard_normal(FS // 2)])
    x *= np.logspace(-1.5, 0, x.size)
    f = compute_features(x)
    y = VOCODERS[name](voc, f)
    want = 10 * np.log10(cepstrum_to_band_energies(f[:, :NB_BANDS]).sum(axis=1))
    got = 10 * np.log10(band_energies(frame_spectra(y)).sum(axis=1))
    err = np.abs(got - want)[3:-3]
    assert np.median(err) < 1.5 and np.percentile(err, 90) < 3.0, (np.median(err),
                                                                    np.percentile(err, 90))


@pytest.mark.parametrize("name", sorted(VOCODERS))
def test_lookahead_is_respected(voc, name):
    f = compute_features(_vowel(100, 0.5))
    t = 20
    g = f.copy()
    g[t + LOOKAHEAD_FRAMES + 1:, :NB_BANDS] += 1.0  # change everything after the look-ahead
    a, b = VOCODERS[name](voc, f), VOCODERS[name](voc, g)
    np.testing.assert_array_equal(a[:(t + 1) * FRAME_SIZE], b[:(t + 1) * FRAME_SIZE])
    assert not np.allclose(a[(t + 2) * FRAME_SIZE:], b[(t + 2) * FRAME_SIZE:])


def test_pulse_train_matches_sum_of_cosines():
    f0 = np.linspace(90.0, 310.0, 4000)  # glide: K changes many times
    phi = np.cumsum(2 * np.pi * f0 / FS)
    ref = np.zeros_like(phi)
    for k in range(1, 90):
        amp = np.clip(7900.0 / f0 - (k - 1), 0.0, 1.0)  # whole partials, last one faded
        ref += amp * np.cos(k * phi)
    np.testing.assert_allclose(pulse_train(f0), ref * np.sqrt(f0 / 4000), atol=1e-6)


def test_min_phase_response_and_energy_delay_match_closed_form():
    w = 2 * np.pi * np.arange(N_FFT // 2 + 1) / N_FFT
    # two resonances: min-phase response and impulse response known in closed form
    a = np.convolve([1, -2 * 0.95 * np.cos(0.3), 0.95**2], [1, -2 * 0.9 * np.cos(1.1), 0.81])
    exact = 1.0 / np.polyval(a[::-1], np.exp(-1j * w))
    log_mag = np.log(np.abs(exact))
    np.testing.assert_allclose(min_phase(log_mag), exact, rtol=1e-5, atol=1e-5)
    h = scipy.signal.lfilter([1.0], a, np.eye(1, 4000)[0])
    centroid = np.sum(np.arange(h.size) * h**2) / np.sum(h**2)
    assert centroid > 5
    assert abs(energy_delay(log_mag) - centroid) < 0.1


def test_bad_input_raises(voc, tmp_path):
    good = compute_features(_vowel(100, 0.1))
    nan = good.copy()
    nan[3, 5] = np.nan
    cases = {"shape": good[:, :19], "1-D": good[0], "empty": good[:0], "NaN": nan}
    for fn in (voc.synthesize, lpc_vocode):
        for case, bad in cases.items():
            with pytest.raises(ValueError, match="features") as info:
                fn(bad)
            assert isinstance(info.value, VocoderError), case
    check_weights_file_errors(Vocoder.load, VocoderError, tmp_path, "corrupt")
    with np.load(DEFAULT_WEIGHTS) as z:
        weights = {k: z[k] for k in z.files if k != "meta"}
    weights["gru_whh"] = weights["gru_whh"][:, :-1]
    with pytest.raises(VocoderError, match=r"inconsistent shapes.*gru_whh"):
        Vocoder(weights)
    del weights["out_b"]
    with pytest.raises(VocoderError, match=r"lack.*out_b"):
        Vocoder(weights)


def _lsd(x: np.ndarray, y: np.ndarray) -> float:
    px, py = frame_spectra(x), frame_spectra(y)
    active = 10 * np.log10(px.mean(axis=1) + 1e-9) > 10 * np.log10(px.mean()) - 30
    d = 10 * np.log10(px + 1e-3) - 10 * np.log10(py + 1e-3)
    return float(np.mean(np.sqrt(np.mean(d**2, axis=1))[active]))


def test_neural_beats_lpc_baseline_on_heldout_speech(voc):
    from training.dred.data import load_speech

    x = load_speech(shared_file("speech/librispeech_test-other/2033/2033-164914-0001.flac"))
    x = x[: 4 * FS].astype(np.float64)
    f = compute_features(x)
    neural, lpc = _lsd(x, voc.synthesize(f)), _lsd(x, lpc_vocode(f))
    assert neural < lpc - 1.0, (neural, lpc)


def test_numpy_inference_matches_torch_training_graph(tmp_path):
    torch = pytest.importorskip("torch")
    from dsp.dred.vocoder import folded_cepstrum, source_spectra, sources, subframe_priors
    from training.dred.vocoder_torch import VocoderNet, export_weights, render

    torch.manual_seed(0)
    f = compute_features(_vowel(110, 0.4))
    net = VocoderNet(f.mean(axis=0), f.std(axis=0) + 1.0, conv=16, gru=24, dense=16, bands=8)
    torch.nn.init.normal_(net.out.weight, std=0.1)
    path = tmp_path / "v.npz"
    export_weights(net, path, {})
    with torch.no_grad():  # the npz holds float16: compare against the same rounded weights
        for t in (*net.parameters(), net.in_mean, net.in_std):
            t.copy_(t.half().float())
        ph, pn = subframe_priors(f)
        h, n = sources(f, 5)
        corr = net(torch.tensor(f[None], dtype=torch.float32))
        cep = [torch.tensor(folded_cepstrum(p)[None], dtype=torch.float32) for p in (ph, pn)]
        spec = [torch.tensor(source_spectra(s)[None], dtype=torch.complex64) for s in (h, n)]
        ref = render(cep[0] + corr[:, :, 0], cep[1] + corr[:, :, 1], *spec,
                     f.shape[0] * FRAME_SIZE)[0].numpy()
    y = Vocoder.load(path).synthesize(f, seed=5)
    np.testing.assert_allclose(y, ref, atol=2e-4 * np.max(np.abs(ref)))
