"""DRED RDO-VAE: shapes, causality, backward decoding order, torch parity, rate and quality."""

import numpy as np
import pytest
from conftest import shared_file

from dsp.dred import payload as P
from dsp.dred.features import compute_features
from dsp.dred.rdovae import DEFAULT_PATH, MAX_CHUNKS, RdoVae, RdoVaeError

HELDOUT = ("2033/2033-164914-0003.flac", "3005/3005-163389-0002.flac",
           "533/533-1066-0001.flac")


@pytest.fixture(scope="module")
def vae() -> RdoVae:
    return RdoVae.load()


@pytest.fixture(scope="module")
def heldout(vae) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(features, latents, states) of three held-out speakers at -26 dBov."""
    from training.dred.data import load_speech

    out = []
    for rel in HELDOUT:
        f = compute_features(load_speech(shared_file("speech/librispeech_test-other/" + rel)))
        out.append((f, *vae.encode(f)))
    return out


def _cep_db(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return 10 / np.log(10) * np.sqrt(2 * np.sum((a[:, :18] - b[:, :18]) ** 2, axis=1))


def test_encode_shapes_and_causality(vae):
    rng = np.random.default_rng(0)
    f = rng.standard_normal((121, 20)) * 2
    z, s = vae.encode(f)
    assert z.shape == (60, vae.latent_dim) and s.shape == (60, vae.state_dim)
    g = f.copy()
    g[71:] = rng.standard_normal((50, 20)) * 2  # frames >= 71 change: rows j with 2j+1 >= 71
    z2, s2 = vae.encode(g)
    np.testing.assert_array_equal(z2[:35], z[:35])
    np.testing.assert_array_equal(s2[:35], s[:35])
    assert not np.allclose(z2[35], z[35])


def test_decode_runs_backward_in_time(vae):
    rng = np.random.default_rng(1)
    z, s = vae.encode(rng.standard_normal((200, 20)))
    lat = z[99 - 2 * np.arange(MAX_CHUNKS)]
    y = vae.decode(s[99], lat)
    assert y.shape == (4 * MAX_CHUNKS, 20)
    # the newest k chunks decode identically whatever older chunks follow; they are the last rows
    for k in (1, 5, 13):
        np.testing.assert_allclose(vae.decode(s[99], lat[:k]), y[-4 * k:], rtol=1e-5, atol=1e-5)


def test_numpy_matches_torch(vae):
    torch = pytest.importorskip("torch")
    from training.dred.rdovae_torch import model_from_npz

    with np.load(DEFAULT_PATH) as w:
        model = model_from_npz({k: w[k] for k in w.files})
    rng = np.random.default_rng(2)
    f = (rng.standard_normal((160, 20)) * 2).astype(np.float32)
    z, s = vae.encode(f)
    with torch.no_grad():
        zt, st = model.encode(torch.from_numpy(f)[None])
        lat = zt[0, 79 - 2 * np.arange(20)]
        yt = model.decode(st[0, 79][None], lat[None])[0].numpy()
    np.testing.assert_allclose(z, zt[0].numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(s, st[0].numpy(), rtol=1e-4, atol=1e-4)
    y = vae.decode(s[79], z[79 - 2 * np.arange(20)])
    # torch gives chunks newest first, each chunk in time order
    np.testing.assert_allclose(y, yt[::-1].reshape(-1, 20), rtol=1e-4, atol=1e-3)


def test_bad_inputs_raise(vae, tmp_path):
    for bad in (np.zeros((10, 19)), np.zeros(20), np.full((10, 20), np.nan)):
        with pytest.raises(RdoVaeError):
            vae.encode(bad)
    with pytest.raises(RdoVaeError):
        vae.decode(np.zeros(vae.state_dim + 1), np.zeros((2, vae.latent_dim)))
    with pytest.raises(RdoVaeError):
        vae.decode(np.zeros(vae.state_dim), np.zeros((2, vae.latent_dim - 1)))
    with pytest.raises(RdoVaeError):
        vae.decode(np.zeros(vae.state_dim), np.full((2, vae.latent_dim), np.inf))
    with pytest.raises(RdoVaeError, match="not found"):
        RdoVae.load(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_bytes(b"not an npz")
    with pytest.raises(RdoVaeError):
        RdoVae.load(tmp_path / "junk.npz")
    with np.load(DEFAULT_PATH) as w:
        arrays = {k: w[k] for k in w.files}
    with pytest.raises(RdoVaeError, match="version"):
        RdoVae({**arrays, "version": np.array(99)})
    with pytest.raises(RdoVaeError, match="lack"):
        RdoVae({k: v for k, v in arrays.items() if k != "w_dec_out__bias"})


def test_rate_falls_with_level(vae, heldout):
    train_bits = vae.latent_tables.mean_bits
    lat = vae.latent_tables
    z = np.concatenate([h[1] for h in heldout])
    held = []
    from dsp.dred.laplace import dead_zone_quantize

    for q in range(16):
        sym = dead_zone_quantize(z, lat.scale[q], lat.dead_zone[q]) + 15
        held.append(-np.log2(lat.pmf[q][np.arange(vae.latent_dim), sym]).sum(axis=1).mean())
    for bits in (train_bits, np.array(held)):
        assert np.all(np.diff(bits) < 0.5)  # non-increasing up to noise
        assert bits[0] > 40 and bits[15] < 10
    # held-out speech costs about what the training statistics predict
    np.testing.assert_allclose(held, train_bits, rtol=0.25, atol=1.5)


def test_one_second_payload_fits_32_kbps(vae, heldout):
    codec = P.DredCodec(vae)
    sizes = []
    for _, z, s in heldout:
        for j in range(51, z.shape[0], 3):
            data = codec.pack(s[j], z[j - 2 * np.arange(MAX_CHUNKS)], P.DEFAULT_Q0, P.DEFAULT_DQ,
                              offset_frames=2)
            sizes.append(8 * len(data))
    assert np.mean(sizes) <= 640 and np.percentile(sizes, 95) <= 640
    expected = codec.expected_bits(P.DEFAULT_Q0, P.DEFAULT_DQ, MAX_CHUNKS)
    assert abs(np.mean(sizes) - expected) < 0.2 * expected


def test_fine_levels_reconstruct_much_better(vae, heldout):
    codec = P.DredCodec(vae)
    err = {}
    for q in (0, 8, 15):
        d = []
        for f, z, s in heldout:
            for j in range(51, z.shape[0], 25):
                steps = j - 2 * np.arange(MAX_CHUNKS)
                y = codec.features(codec.unpack(codec.pack(s[j], z[steps], q, 0)))
                d.append(_cep_db(y, f[2 * steps[-1] - 2: 2 * j + 2]))
        err[q] = np.mean(np.concatenate(d))
    # baseline: each file's mean feature vector (what a decoder knowing nothing would emit)
    base = np.mean(np.concatenate([_cep_db(np.broadcast_to(f.mean(0), f.shape), f)
                                   for f, _, _ in heldout]))
    assert err[0] < 0.5 * err[15]
    assert err[0] < err[8] < err[15] < base
