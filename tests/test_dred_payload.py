"""DRED payload: header layout, bit-exact round trip, size limits, fuzzing of unpack."""

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp.dred import payload as P
from dsp.dred.features import compute_features
from dsp.dred.rdovae import MAX_CHUNKS, RdoVae


@pytest.fixture(scope="module")
def vae() -> RdoVae:
    return RdoVae.load()


@pytest.fixture(scope="module")
def codec(vae) -> P.DredCodec:
    return P.DredCodec(vae)


def _speech_like(seconds: float = 4.0, seed: int = 5) -> np.ndarray:
    """Deterministic voiced/unvoiced test signal at 16 kHz: gliding harmonics, noise bursts."""
    rng = np.random.default_rng(seed)
    fs = 16000
    t = np.arange(int(seconds * fs)) / fs
    f0 = 110 + 60 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / fs
    voiced = sum(np.sin(k * phase) / k for k in range(1, 30))
    gate = (np.sin(2 * np.pi * 1.3 * t) > -0.3).astype(float)
    x = gate * voiced + (1 - gate) * 0.3 * rng.standard_normal(t.size)
    return (0.05 * x * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)


@pytest.fixture(scope="module")
def coded(vae) -> tuple[np.ndarray, np.ndarray]:
    """Latents and states of a speech-like signal."""
    return vae.encode(compute_features(_speech_like()))


def _packet(coded, j: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    z, s = coded
    return s[j], z[j - 2 * np.arange(n)]


def test_quality_levels_follow_libopus_rule():
    # dQtab[3] = 4: q(i) = q0 + (4 i + 8) // 16
    np.testing.assert_array_equal(P.quality_levels(6, 3, 15, 8), [6, 6, 7, 7, 7, 7, 8, 8])
    np.testing.assert_array_equal(P.quality_levels(10, 7, 12, 4), [10, 11, 12, 12])
    np.testing.assert_array_equal(P.quality_levels(3, 0, 15, 26), np.full(26, 3))
    with pytest.raises(P.PayloadError):
        P.quality_levels(5, 1, 4, 3)


def test_header_layout(codec, coded):
    s, z = _packet(coded, 60, 7)
    data = codec.pack(s, z, q0=5, dq=2, qmax=13, offset_frames=2)
    h = int.from_bytes(data[:3], "big")
    assert h == (1 << 21) | (5 << 17) | (2 << 14) | (13 << 10) | (2 << 6) | (6 << 1)
    p = codec.unpack(data)
    assert (p.q0, p.dq, p.qmax, p.offset_frames, p.n_chunks) == (5, 2, 13, 2, 7)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_pack_unpack_bit_exact(codec, vae, data):
    n = data.draw(st.integers(1, MAX_CHUNKS))
    q0 = data.draw(st.integers(0, 15))
    qmax = data.draw(st.integers(q0, 15))
    dq = data.draw(st.integers(0, 7))
    off = data.draw(st.integers(0, 15))
    amp = data.draw(st.sampled_from([0.1, 1.0, 5.0, 100.0]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    z = amp * rng.standard_normal((n, vae.latent_dim))
    s = amp * rng.standard_normal(vae.state_dim)
    blob = codec.pack(s, z, q0, dq, qmax, off)
    p = codec.unpack(blob)
    s_sym, z_sym = codec.quantize(s, z, q0, dq, qmax)
    assert (p.q0, p.dq, p.qmax, p.offset_frames) == (q0, dq, qmax, off)
    np.testing.assert_array_equal(p.state, s_sym)
    np.testing.assert_array_equal(p.latents, z_sym)
    f = codec.features(p)
    assert f.shape == (4 * n, 20) and np.all(np.isfinite(f))


def test_max_bits_keeps_the_most_chunks_that_fit(codec, coded):
    s, z = _packet(coded, 120, MAX_CHUNKS)
    full = codec.pack(s, z, 4, 3)
    for budget in (60, 120, 200, 8 * len(full) - 40):
        data = codec.pack(s, z, 4, 3, max_bits=budget)
        n = codec.unpack(data).n_chunks if data else 0
        assert 8 * len(data) <= budget
        if n < MAX_CHUNKS:  # one more chunk would not have fitted
            assert 8 * len(codec.pack(s, z[: n + 1], 4, 3)) > budget
        if n:  # kept chunks are the newest ones, coded exactly as without a limit
            np.testing.assert_array_equal(codec.unpack(data).latents,
                                          codec.unpack(codec.pack(s, z[:n], 4, 3)).latents)
    assert codec.pack(s, z, 4, 3, max_bits=8) == b""
    assert codec.pack(s, z[:0], 4, 3) == b""


def test_rate_model_and_quality_choice(codec):
    bits = codec.chunk_bits()
    assert bits.shape == (16,)
    cost = [codec.expected_bits(q, 3, 26) for q in range(16)]
    assert np.all(np.diff(cost) < 0)
    q = codec.choose_quality(cost[7] + 1, 26, 3)
    assert q == 7
    assert codec.choose_quality(1.0, 26, 3) == 15


@pytest.mark.parametrize("bad", [b"", b"\x20\x00", bytes([0xE0, 0, 0, 1]),  # version 7
                                 bytes([0x20, 0x00, 0x3F, 1]),  # n_chunks field 31
                                 bytes([0x2A, 0x00, 0x01, 1]),  # reserved bit
                                 bytes([0x3E, 0x00, 0x00, 1])])  # q0 = 15 > qmax = 0
def test_unpack_rejects_bad_headers(codec, bad):
    with pytest.raises(P.PayloadError):
        codec.unpack(bad)


def test_pack_rejects_bad_requests(codec, coded):
    s, z = _packet(coded, 60, 3)
    for kwargs in ({"q0": 16, "dq": 0}, {"q0": 3, "dq": 8}, {"q0": 5, "dq": 1, "qmax": 4},
                   {"q0": 1, "dq": 1, "offset_frames": 16}, {"q0": 2.0, "dq": 1}):
        with pytest.raises(P.PayloadError):
            codec.pack(s, z, **kwargs)
    with pytest.raises(P.PayloadError):
        codec.pack(s[:-1], z, 3, 3)
    with pytest.raises(P.PayloadError):
        codec.pack(s, np.full_like(z, np.nan), 3, 3)
    with pytest.raises(P.PayloadError):
        codec.pack(s, np.zeros((MAX_CHUNKS + 1, z.shape[1])), 3, 3)
    with pytest.raises(P.PayloadError):
        codec.unpack("not bytes")


def _check(codec, p: P.DredPayload, decode: bool) -> None:
    assert 1 <= p.n_chunks <= MAX_CHUNKS
    assert np.abs(p.latents).max(initial=0) <= 15 and np.abs(p.state).max() <= 15
    if decode:
        f = codec.features(p)
        assert f.shape == (4 * p.n_chunks, 20) and np.all(np.isfinite(f))


def test_fuzz_unpack(codec, coded):
    """100 000 random strings and 100 000 mutated real payloads: PayloadError or a valid
    payload, never another exception or a hang; a sample of the accepted ones is decoded."""
    rng = np.random.default_rng(11)
    t0 = time.process_time()  # CPU time: the box is shared, wall time is not comparable
    accepted = 0
    for k in range(100_000):
        blob = rng.bytes(int(rng.integers(0, 120)))
        try:
            p = codec.unpack(blob)
        except P.PayloadError:
            continue
        accepted += 1
        _check(codec, p, decode=accepted % 50 == 1 or k < 100)
    real = []
    for j in range(60, coded[0].shape[0], 7):
        n = int(rng.integers(1, min(MAX_CHUNKS, j // 2) + 1))
        q0 = int(rng.integers(0, 16))
        real.append(codec.pack(*_packet(coded, j, n), q0, int(rng.integers(0, 8)),
                               int(rng.integers(q0, 16)), int(rng.integers(0, 16))))
    n_ok = 0
    for k in range(100_000):
        b = bytearray(real[k % len(real)])
        kind = k % 4
        if kind == 0:  # flip 1..8 bits
            for pos in rng.integers(0, 8 * len(b), int(rng.integers(1, 9))):
                b[pos // 8] ^= 1 << (pos % 8)
        elif kind == 1:  # truncate
            del b[int(rng.integers(0, len(b))):]
        elif kind == 2:  # extend
            b += rng.bytes(int(rng.integers(1, 40)))
        else:  # flip body bits only (the header stays valid: deepest path)
            for pos in rng.integers(24, 8 * len(b), int(rng.integers(1, 4))):
                b[pos // 8] ^= 1 << (pos % 8)
        try:
            p = codec.unpack(bytes(b))
        except P.PayloadError:
            continue
        n_ok += 1
        _check(codec, p, decode=n_ok % 200 == 1)
    elapsed = time.process_time() - t0
    print(f"fuzz: 200000 unpacks in {elapsed:.1f} s CPU ({accepted} random, {n_ok} mutated "
          "accepted)")
    assert n_ok > 10_000  # the mutations mostly reach the range decoder
    assert elapsed < 40  # generous: about 9 s of CPU on the development machine


def test_extreme_symbols_decode_finite(codec, vae):
    for v in (15, -15):
        for q0 in (0, 15):
            p = P.DredPayload(q0, 0, 15, 0, np.full(vae.state_dim, v),
                              np.full((MAX_CHUNKS, vae.latent_dim), v))
            assert np.all(np.isfinite(codec.features(p)))
    with pytest.raises(P.PayloadError):
        codec.features(P.DredPayload(0, 0, 15, 0, np.full(vae.state_dim, 16),
                                     np.zeros((1, vae.latent_dim), np.int64)))
