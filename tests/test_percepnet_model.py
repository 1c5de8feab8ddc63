"""Numpy inference against the torch training model; int8 quantization; shipped weights."""

import sys
from pathlib import Path

import numpy as np
import pytest

from dsp.percepnet.features import n_features
from dsp.percepnet.model import ModelError, PercepNetModel, load_model, weight_path
from dsp.percepnet.quantize import dequantize, quantize_int8

REPO = Path(__file__).resolve().parents[1]


def test_numpy_model_matches_torch_and_step_matches_run():
    torch = pytest.importorskip("torch", reason="torch (the 'train' extra) is not installed")
    sys.path.insert(0, str(REPO))
    from training.percepnet.model_torch import PercepNetTorch

    torch.manual_seed(0)
    tm = PercepNetTorch(56, 27)
    with torch.no_grad():
        tm.in_mean.normal_()
        tm.in_std.uniform_(0.5, 2.0)
    m = PercepNetModel(tm.numpy_weights(), {"fs_hz": 16000})
    x = np.random.default_rng(0).standard_normal((40, 56)).astype(np.float32)
    with torch.no_grad():
        g_t, r_t = tm(torch.from_numpy(x[None]))
    g, r = m.run(x)
    assert np.max(np.abs(g - g_t[0].numpy())) < 1e-5
    assert np.max(np.abs(r - r_t[0].numpy())) < 1e-5
    st = m.new_state()
    steps = [m.step(st, xi) for xi in x]
    assert np.max(np.abs(np.array([s[0] for s in steps]) - g)) < 1e-5
    assert np.max(np.abs(np.array([s[1] for s in steps]) - r)) < 1e-5


def test_over_attenuation_term_charges_only_gains_below_target():
    torch = pytest.importorskip("torch", reason="torch (the 'train' extra) is not installed")
    sys.path.insert(0, str(REPO))
    from training.percepnet.model_torch import percepnet_loss

    # one frame, two bands, γ = 0.5: target gains 1 and 0.25, strengths exact (r term 0);
    # under-estimate ĝ = 0.25 in band 0 (d = 0.5), over-estimate ĝ = 1 in band 1 (d = −0.5)
    g = torch.tensor([[[1.0, 0.25]]])
    r = torch.full((1, 1, 2), 0.5)
    g_hat = torch.tensor([[[0.25, 1.0]]])
    sym = 2 * (0.5 ** 2 + 10.0 * 0.5 ** 4)
    base = percepnet_loss(g_hat, r, g, r, 0.5, 10.0)
    asym = percepnet_loss(g_hat, r, g, r, 0.5, 10.0, over_attenuation=3.0)
    assert float(base) == pytest.approx(sym, rel=1e-5)
    assert float(asym) == pytest.approx(sym + 3.0 * 0.5 ** 2, rel=1e-5)


def test_envelope_correlation_term_is_one_minus_pearson_correlation():
    torch = pytest.importorskip("torch", reason="torch (the 'train' extra) is not installed")
    sys.path.insert(0, str(REPO))
    from training.percepnet.model_torch import envelope_correlation_loss

    # one band, one 38-frame segment, flat noisy energy: the term is 1 − corr(g, ĝ) (Pearson),
    # independent of ĝ's scale (STOI normalises each segment), and frames 40 dB below the
    # loudest (g·√E: 20·log10(1e-3) = −60 dB) carry no weight
    t = np.arange(38)
    g = 0.5 + 0.4 * np.sin(2 * np.pi * t / 19)
    g_hat = 0.5 + 0.3 * np.sin(2 * np.pi * t / 19 + 0.8) + 0.1 * np.cos(2 * np.pi * t / 7)
    as_t = [torch.tensor(v, dtype=torch.float32).reshape(1, -1, 1) for v in (g, g_hat)]
    log_e = torch.zeros_like(as_t[0])
    corr = np.corrcoef(g, g_hat)[0, 1]
    for scale in (1.0, 0.2):
        loss = envelope_correlation_loss(as_t[1] * scale, as_t[0], log_e, slice(0, 1), step=38)
        assert float(loss) == pytest.approx(1 - corr, abs=1e-5)
    assert float(envelope_correlation_loss(as_t[0], as_t[0], log_e, slice(0, 1))) < 1e-6
    quiet = torch.cat([as_t[0], as_t[0] * 1e-3], dim=1)
    shifted = torch.cat([as_t[1], as_t[1].flip(1)], dim=1)
    loss = envelope_correlation_loss(shifted, quiet, torch.zeros_like(quiet), slice(0, 1), step=38)
    assert float(loss) == pytest.approx(1 - corr, abs=1e-5)


def test_int8_roundtrip_error_bound():
    rng = np.random.default_rng(1)
    w = {"a": rng.standard_normal((64, 32)).astype(np.float32), "b": rng.standard_normal(64)}
    q = quantize_int8(w)
    assert q["a__q"].dtype == np.int8 and q["b"].dtype == np.float32
    back = dequantize(q)
    step = np.abs(w["a"]).max(axis=1, keepdims=True) / 127
    assert np.all(np.abs(back["a"] - w["a"]) <= step / 2 + 1e-7)  # half a quantization step
    assert np.allclose(back["b"], w["b"].astype(np.float32))


@pytest.mark.parametrize("kind", ["float16", "int8"])
def test_shipped_weights_load(kind):
    path = weight_path(kind)
    if not path.is_file():
        pytest.skip(f"weights not built: {path}")
    m = load_model(kind)
    assert m.fs_hz == 16000 and m.n_bands == 27 and m.n_features == n_features(16000)
    assert 100_000 < m.n_params < 2_000_000
    g, r = m.run(np.zeros((10, m.n_features), np.float32))
    assert g.shape == (10, 27) and np.all((g >= 0) & (g <= 1)) and np.all((r >= 0) & (r <= 1))


def test_missing_weights_file_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="weights not found"):
        load_model(tmp_path / "nope.npz")
    with pytest.raises(ValueError, match="weights must be one of"):
        weight_path("float64")
