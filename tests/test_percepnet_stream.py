"""Streaming == offline, and the 40 ms latency measured by cross-correlation."""

import numpy as np
import pytest
from conftest import shared_file

from dsp.percepnet.audio_io import load_mono, mix_at_snr
from dsp.percepnet.enhance import process
from dsp.percepnet.evaluate import measure_delay
from dsp.percepnet.features import latency_samples
from dsp.percepnet.model import PercepNetModel, load_model, weight_path
from dsp.percepnet.stream import PercepNetStream, StreamOptions

FS = 16000


def _unit_model() -> PercepNetModel:
    """A model whose outputs are g = 1, r = 0 whatever the input (weights all zero)."""
    nf, nb, c, h, hg, hr = 56, 27, 16, 8, 8, 4
    z = np.zeros
    w = {"in_mean": z(nf), "in_std": np.ones(nf), "fc_w": z((c, nf)), "fc_b": z(c),
         "conv1_w": z((c, c, 5)), "conv1_b": z(c), "conv2_w": z((c, c, 3)), "conv2_b": z(c),
         "fcg_w": z((nb, c + 2 * h + hg)), "fcg_b": np.full(nb, 40.0),
         "fcr_w": z((nb, hr)), "fcr_b": np.full(nb, -40.0)}
    grus = (("gru1", c, h), ("gru2", h, h), ("grug", c + h, hg), ("grur", c + h, hr))
    for name, n_in, n_h in grus:
        w |= {f"{name}_wih": z((3 * n_h, n_in)), f"{name}_whh": z((3 * n_h, n_h)),
              f"{name}_bih": z(3 * n_h), f"{name}_bhh": z(3 * n_h)}
    return PercepNetModel(w, {"fs_hz": FS})


def _stream(model, x, options=None):
    s = PercepNetStream(model, options)
    h = s.block_size
    n_blocks = -(-(len(x) + s.latency_samples) // h)
    xp = np.zeros(n_blocks * h)
    xp[: len(x)] = x
    return np.concatenate([s.process(xp[i * h:(i + 1) * h]) for i in range(n_blocks)]), s


def test_latency_is_40ms_by_cross_correlation():
    x = np.random.default_rng(0).standard_normal(FS)
    out, s = _stream(_unit_model(), x, StreamOptions(use_postfilter=False))
    assert s.latency_samples == latency_samples(FS) == 640  # 30 ms look-ahead + 10 ms overlap
    assert measure_delay(x, out, 2000) == 640
    # unit gains and no comb: the chain is a pure 40 ms delay (perfect reconstruction)
    assert np.max(np.abs(out[640:640 + len(x)] - x)) < 1e-9


def _mixture(seconds=2.0):
    clean, _ = load_mono(shared_file("speech/librispeech_test-other/3080/3080-5032-0000.flac"), FS)
    noise, _ = load_mono(shared_file("noise/blanket_coffee-shop.flac"), FS)
    clean = clean[FS // 2: FS // 2 + int(seconds * FS)]
    return clean, mix_at_snr(clean, noise[-len(clean):], 5.0)


@pytest.mark.parametrize("opts", [StreamOptions(), StreamOptions(use_comb=False),
                                  StreamOptions(use_postfilter=False, postfilter_gate=True),
                                  StreamOptions(postfilter_strength=1.0, postfilter_gate=True)])
def test_streaming_equals_offline(opts):
    if not weight_path("float16").is_file():
        pytest.skip("weights not built")
    model = load_model("float16")
    _, noisy = _mixture()
    out, s = _stream(model, noisy, opts)
    off, _, _ = process(noisy, model, opts.use_comb, opts.use_postfilter, opts.postfilter_gate,
                        strength=opts.postfilter_strength)
    L = s.latency_samples
    assert np.max(np.abs(out[L:L + len(noisy)] - off)) < 1e-5
    assert np.max(np.abs(off)) > 1e-3  # not trivially zero


def test_bad_postfilter_strength_is_refused_at_construction():
    with pytest.raises(ValueError, match="postfilter strength"):
        PercepNetStream(_unit_model(), StreamOptions(postfilter_strength=-1.0))


def test_trained_model_latency_by_cross_correlation():
    if not weight_path("float16").is_file():
        pytest.skip("weights not built")
    _, noisy = _mixture()
    out, s = _stream(load_model("float16"), noisy)
    assert measure_delay(noisy, out, 2000) == s.latency_samples
