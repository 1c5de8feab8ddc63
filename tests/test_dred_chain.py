"""DRED sender / receiver / chain: decoder switching, alignment, seams, Opus state, errors.

Until trained weights exist these tests use small real implementations of the model
interfaces, defined here: a lossless "VAE" whose latent is the chunk's four feature frames, a
float16 payload codec, the classical LPC vocoder and a predictor that repeats the last frame.
The receiver logic does not depend on which models fill those roles.
"""

import struct
from dataclasses import dataclass

import numpy as np
import pytest
import scipy.signal
from conftest import REPO, cancel_latencies, shared_file

from dsp.dred.chain import simulate, to_mono16k
from dsp.dred.loss import parse_loss
from dsp.dred.lpc_vocoder import lpc_vocode
from dsp.dred.opus import FRAME_SAMPLES, packet_has_lbrr
from dsp.dred.packet import unpack_packet
from dsp.dred.receiver import (
    DRED,
    LBRR,
    OPUS_PLC,
    PLC,
    REGULAR,
    SOURCES,
    ReceiverError,
    best_lag,
    covered_packets,
    crossfade,
    receive,
)
from dsp.dred.sender import (
    DredSettings,
    InputError,
    SettingsError,
    encode_stream,
    history_steps,
    silent_steps,
)
from sim.task import Cancelled, TaskState

FS = 16000


# -- small real implementations of the model interfaces ---------------------------------------
class IdentityVae:
    """Latent of step j = feature frames 2j-2 .. 2j+1 (80 values); no state."""

    def encode(self, feats, state=None):
        n = feats.shape[0] // 2
        pairs = np.concatenate([np.zeros((2, 20)), feats[: 2 * n]]).reshape(n + 1, 40)
        return np.concatenate([pairs[:-1], pairs[1:]], axis=1), np.zeros((n, 1))


@dataclass
class RawPayload:
    q0: int
    dq: int
    qmax: int
    offset_frames: int
    latents: np.ndarray

    @property
    def n_chunks(self):
        return self.latents.shape[0]


class RawCodec:
    """Latents rounded to 1/4 in int8 (80 bytes a chunk) behind a 5-byte header; at most the 18
    newest chunks (a container holds 1500 bytes of DRED), ``max_bits`` keeps those that fit."""

    def pack(self, state, latents, q0, dq, qmax=15, offset_frames=0, max_bits=None):
        lat = np.clip(np.rint(4 * np.asarray(latents[:18])), -128, 127).astype(np.int8)
        if max_bits is not None:
            lat = lat[: max(0, (max_bits // 8 - 5) // 80)]
        if not len(lat):
            return b""
        return struct.pack("<BBBBB", q0, dq, qmax, offset_frames, len(lat)) + lat.tobytes()

    def unpack(self, data):
        q0, dq, qmax, off, n = struct.unpack("<BBBBB", data[:5])
        return RawPayload(q0, dq, qmax, off, np.frombuffer(data[5:], np.int8).reshape(n, 80))

    def features(self, payload):
        return payload.latents[::-1].astype(np.float64).reshape(-1, 20) / 4

    def chunk_bits(self):
        return np.full(16, 640.0)

    def choose_quality(self, budget_bits, n_chunks, dq):
        return 0


class LpcVocoder:
    def synthesize(self, features, seed=0):
        return lpc_vocode(features, seed)


class RepeatLast:
    def reset(self):
        self.last = np.zeros(20)

    def observe(self, frame):
        self.last = np.array(frame)

    def predict(self):
        return self.last.copy()


MODELS = dict(codec=RawCodec(), vocoder=LpcVocoder(), predictor=RepeatLast())


def synthetic_speech(seconds: float = 3.0, seed: int = 0) -> np.ndarray:
    """Voiced, speech-like test signal at -26 dBFS RMS: a 100..140 Hz pulse train through three
    formant resonators, amplitude-modulated at 2.5 Hz, plus a little noise."""
    n = int(seconds * FS)
    t = np.arange(n) / FS
    phase = np.cumsum((120 + 20 * np.sin(2 * np.pi * 0.7 * t)) / FS)
    noise = np.random.default_rng(seed).standard_normal(n)
    y = np.diff(np.floor(phase), prepend=0.0) + 0.02 * noise
    for fc, bw in ((700, 90), (1200, 110), (2600, 160)):
        r, th = np.exp(-np.pi * bw / FS), 2 * np.pi * fc / FS
        y = scipy.signal.lfilter([1 - r], [1, -2 * r * np.cos(th), r * r], y)
    y *= 0.55 + 0.45 * np.sin(2 * np.pi * 2.5 * t)
    return (y / np.sqrt(np.mean(y**2)) * 10 ** (-26 / 20)).astype(np.float32)


def heldout_speech() -> np.ndarray:
    from dsp.percepnet.audio_io import load_mono

    x, _ = load_mono(shared_file("speech/librispeech_test-other/2033/2033-164914-0005.flac"), FS)
    return (x / np.sqrt(np.mean(x**2)) * 10 ** (-26 / 20)).astype(np.float32)


@pytest.fixture(scope="module")
def voiced():
    x = synthetic_speech()
    s = DredSettings(dred_ms=200)  # 5 chunks: DRED reaches 10 packets back
    return x, s, encode_stream(x, s, vae=IdentityVae(), codec=RawCodec())


def run_rx(stream, lost, settings, **models):
    return receive(stream.packets, lost, stream.n_samples, settings, lookahead=stream.lookahead,
                   **(MODELS | models))


def lbrr_gap_starts(stream, length, count):
    """Gap starts a whose next packet (a + length) carries LBRR, spread over the stream."""
    ok = [a for a in range(5, stream.n_packets - length - 12, length + 12)
          if packet_has_lbrr(unpack_packet(stream.packets[a + length]).opus)]
    assert len(ok) >= count, "test signal should produce LBRR"
    return ok[:count]


# -- sender ------------------------------------------------------------------------------------
def test_history_steps_follow_the_packet_rule():
    assert list(history_steps(0, 25)) == []
    assert list(history_steps(1, 25)) == [0]
    assert list(history_steps(6, 25)) == [5, 3, 1]
    assert list(history_steps(100, 3)) == [99, 97, 95]


def test_stream_layout_and_reach(voiced):
    x, _, st = voiced
    assert st.n_packets == -(-(x.size + st.lookahead) // FRAME_SAMPLES)
    assert st.dred_chunks[0] == 0 and st.dred_chunks[1] == 1 and st.dred_chunks[4] == 2
    assert np.all(st.dred_chunks[10:] == 5)  # 200 ms once the signal is long enough
    for k, data in enumerate(st.packets):
        p = unpack_packet(data)
        assert p.split_bytes() == (st.opus_bytes[k], st.dred_bytes[k], st.overhead_bytes[k])
    kb = st.kbps()
    assert kb["total"] == pytest.approx(kb["opus"] + kb["dred"] + kb["container"])
    # version byte + one varint byte per part below 128 bytes, two from 128
    overhead = 1 + (st.opus_bytes >= 128) + 1 + (st.dred_bytes >= 128) + 1
    assert np.array_equal(st.overhead_bytes, overhead)
    assert kb["container"] == pytest.approx(8 * overhead.mean() / 20)
    # the payload of packet k decodes to frames 2k-1-4n+1 .. 2k-1 of the sender's features
    from dsp.dred.features import compute_features

    feats = compute_features(np.pad(x, (0, st.n_packets * FRAME_SAMPLES - x.size)))
    k = 40
    rows = RawCodec().features(RawCodec().unpack(unpack_packet(st.packets[k]).dred))
    np.testing.assert_allclose(rows, feats[2 * k - 20:2 * k], atol=0.125 + 1e-9)


def test_digital_silence_carries_no_dred():
    x = np.concatenate([np.zeros(FS), synthetic_speech(1.0)])
    st = encode_stream(x, DredSettings(dred_ms=200), vae=IdentityVae(), codec=RawCodec())
    # speech starts with packet 50; packet k's newest chunk ends at frame 2k - 1
    assert np.all(st.dred_bytes[:51] == 0)
    assert np.all(st.dred_chunks[51:] > 0)
    # the oldest all-silent chunks are dropped, the rest sent
    assert list(st.dred_chunks[51:56]) == [1, 1, 2, 2, 3]
    silent = silent_steps(x, 60)
    assert silent[:50].all() and not silent[51:].any()


def test_dred_budget_limits_every_packet(voiced):
    x, _, _ = voiced
    st = encode_stream(x, DredSettings(dred_ms=200, dred_kbps=40.0), vae=IdentityVae(),
                       codec=RawCodec())
    assert st.dred_bytes.max() * 8 <= 40.0 * 20
    assert st.dred_chunks.max() == 1  # one 85-byte payload fits 800 bits, two chunks do not
    assert np.all(st.dred_chunks[1:] == 1)


@pytest.mark.parametrize("field,value", [
    ("bitrate", 1000), ("complexity", 11), ("lbrr", 1), ("loss_perc", -1), ("dred_ms", 1100),
    ("dred_ms", float("nan")), ("dred_kbps", 0.0), ("dq", 8), ("neural_plc", "yes")])
def test_settings_errors_name_the_field(field, value):
    with pytest.raises(SettingsError, match=field) as e:
        DredSettings(**{field: value}).validate()
    assert e.value.field == field


def test_dred_ms_rounds_to_chunks():
    assert DredSettings(dred_ms=1000).n_chunks == 25
    assert DredSettings(dred_ms=1040).n_chunks == 26
    assert DredSettings(dred_ms=50).n_chunks == 1
    assert DredSettings(dred_ms=1000, dred=False).n_chunks == 0


# -- receiver switching ------------------------------------------------------------------------
def test_gap_of_five_with_lbrr_is_lbrr_then_dred(voiced):
    _, s, st = voiced
    lost = np.zeros(st.n_packets, bool)
    starts = lbrr_gap_starts(st, 5, 3)
    for a in starts:
        lost[a:a + 5] = True
    r = run_rx(st, lost, s)
    for a in starts:
        assert list(r.labels[a - 1:a + 6]) == [REGULAR, DRED, DRED, DRED, DRED, LBRR, REGULAR]
    assert r.counters() == {"regular": int((~lost).sum()), "lbrr": 3, "dred": 12, "plc": 0,
                            "opus_plc": 0}


def test_gap_beyond_reach_is_plc_for_the_oldest(voiced):
    _, s, st = voiced
    lost = np.zeros(st.n_packets, bool)
    a = lbrr_gap_starts(st, 15, 1)[0]
    lost[a:a + 15] = True
    labels = run_rx(st, lost, s).labels[a:a + 15]
    # 5 chunks = 10 packets: the last from LBRR, 9 from DRED, the 5 oldest from neural PLC
    assert list(labels) == [PLC] * 5 + [DRED] * 9 + [LBRR]
    no_neural = DredSettings(dred_ms=200, neural_plc=False)
    labels = run_rx(st, lost, no_neural).labels[a:a + 15]
    assert list(labels) == [OPUS_PLC] * 5 + [DRED] * 9 + [LBRR]


def test_without_lbrr_dred_covers_the_last_frame_and_without_dred_plc_does(voiced):
    x, _, _ = voiced
    s = DredSettings(dred_ms=200, lbrr=False)
    st = encode_stream(x, s, vae=IdentityVae(), codec=RawCodec())
    lost = np.zeros(st.n_packets, bool)
    lost[30:35] = True
    lost[60:72] = True
    lost[-3:] = True  # nothing arrives after: no redundancy at all
    lab = run_rx(st, lost, s).labels
    assert list(lab[30:35]) == [DRED] * 5
    assert list(lab[60:72]) == [PLC] * 2 + [DRED] * 10
    assert list(lab[-3:]) == [PLC] * 3
    off = DredSettings(lbrr=False, dred=False, neural_plc=False)
    assert set(run_rx(st, lost, off).labels[lost]) == {OPUS_PLC}


def test_first_packets_lost_are_recovered_from_the_start_of_the_signal(voiced):
    _, s, st = voiced
    lost = np.zeros(st.n_packets, bool)
    lost[:3] = True
    lab = run_rx(st, lost, s).labels[:3]
    assert set(lab[:2]) == {DRED} and lab[2] in (DRED, LBRR)


def test_coverage_is_by_half_a_frame_of_samples():
    # frames 8..19 = samples 1280..3200; packets k cover [320k - 104, 320k + 216)
    cov = covered_packets(8, 19, 2, 12, 104)
    assert list(np.flatnonzero(cov) + 2) == [4, 5, 6, 7, 8, 9]  # 10: only 104 of 320


# -- signal properties ---------------------------------------------------------------------------
def test_output_lines_up_with_the_input(voiced):
    x, s, st = voiced
    lost = np.zeros(st.n_packets, bool)
    lost[40:46] = True
    for mask in (np.zeros_like(lost), lost):
        y = run_rx(st, mask, s).audio
        assert y.shape == x.shape and y.dtype == np.float32
        c = scipy.signal.correlate(y, x, mode="full", method="fft")
        assert int(np.argmax(c)) - (x.size - 1) == 0


def test_crossfade_is_linear_for_equal_and_equal_power_for_unrelated_signals():
    rng = np.random.default_rng(0)
    a = rng.standard_normal(4000)
    np.testing.assert_allclose(crossfade(a, a, 1.0), a, atol=1e-12)
    b = rng.standard_normal(4000)
    mid = crossfade(a, b, 0.0)[1800:2200]
    assert np.mean(mid**2) == pytest.approx(1.0, rel=0.1)
    w = (np.arange(4000) + 0.5) / 4000
    np.testing.assert_allclose(crossfade(a, b, 0.3)[[0, -1]], ((1 - w) * a + w * b)[[0, -1]],
                               rtol=1e-3)


def test_best_lag_finds_a_shift():
    rng = np.random.default_rng(1)
    sig = rng.standard_normal(400)
    ref = sig[180:260]
    # signal window starting at max_lag - tau must equal ref: ref = sig[180:260] -> start 180
    assert best_lag(ref, sig[100:100 + 80 + 160], 80) == 80 - 80
    assert best_lag(ref, sig[130:130 + 240], 80) == 80 - 50
    assert best_lag(np.zeros(80), sig[:240], 80) == 0


def seam_click_ratios(y, seams, near=40, around=240):
    """Largest |second difference| within +-near samples of each seam over the largest one in
    the surrounding +-around samples (outside +-near): a click stands out, a fade does not."""
    d2 = np.abs(np.diff(y, 2))
    return np.array([d2[p - near:p + near].max()
                     / max(d2[p - around:p - near].max(), d2[p + near:p + around].max())
                     for p in seams if around <= p <= d2.size - around])


def test_no_clicks_at_gap_edges():
    x = heldout_speech()
    s = DredSettings(dred_ms=200)
    st = encode_stream(x, s, vae=IdentityVae(), codec=RawCodec())
    lost = np.zeros(st.n_packets, bool)
    rng = np.random.default_rng(1)
    for a in range(10, st.n_packets - 20, 17):
        lost[a:a + rng.integers(1, 12)] = True
    r = run_rx(st, lost, s)
    vocoded = np.isin(r.labels, (DRED, PLC))
    edges = np.flatnonzero(vocoded[1:] != vocoded[:-1]) + 1
    seams = FRAME_SAMPLES * edges - st.lookahead
    ratios = seam_click_ratios(r.audio, seams)
    assert ratios.size >= 10
    assert ratios.max() < 2.0, ratios


def test_opus_state_follows_after_a_gap():
    """Frames after a gap decode like the loss-free reference after a few frames.

    A decoder that skipped the lost frames instead of concealing them reaches only 14-15 dB
    three frames after these gaps (measured), so the 17 dB bound tells the two apart.
    """
    x = heldout_speech()
    s = DredSettings(dred_ms=200, lbrr=False)
    st = encode_stream(x, s, vae=IdentityVae(), codec=RawCodec())
    ref = run_rx(st, np.zeros(st.n_packets, bool), s).audio
    for a, g in ((40, 5), (120, 1), (80, 12)):
        lost = np.zeros(st.n_packets, bool)
        lost[a:a + g] = True
        y = run_rx(st, lost, s).audio
        b = a + g
        for j, min_snr in ((3, 17.0), (6, 30.0)):
            seg = slice(FRAME_SAMPLES * (b + j) - st.lookahead,
                        FRAME_SAMPLES * (b + j + 1) - st.lookahead)
            err = np.sum((y[seg] - ref[seg]) ** 2) + 1e-20
            assert 10 * np.log10(np.sum(ref[seg] ** 2) / err) > min_snr, (a, g, j)
        before = slice(0, FRAME_SAMPLES * a - st.lookahead)
        np.testing.assert_array_equal(y[before], ref[before])


def test_receiver_input_errors(voiced):
    _, s, st = voiced
    with pytest.raises(ReceiverError, match="bool array"):
        run_rx(st, np.zeros(st.n_packets - 1, bool), s)
    with pytest.raises(ReceiverError, match="bool array"):
        run_rx(st, np.zeros(st.n_packets, int), s)


def test_receiver_conceals_corrupt_packets(voiced):
    """A bad container, a bad Opus frame, a bad DRED payload: the stream goes on, the packet is
    concealed (or its DRED ignored), finite audio of the right length, the index reported."""
    _, s, st = voiced
    from dsp.dred.packet import pack_packet

    p = unpack_packet(st.packets[7])
    clean = receive(list(st.packets), np.zeros(st.n_packets, bool), st.n_samples, s,
                    lookahead=st.lookahead, **MODELS)
    cases = {
        "container": st.packets[7][:-1],
        "opus": pack_packet(b"\x03", p.dred),  # code 3 without its frame-count byte
        "duration": pack_packet(b"\x10" + bytes(20), p.dred),  # SILK 40 ms: wrong duration
    }
    for name, data in cases.items():
        bad = list(st.packets)
        bad[7] = data
        rx = receive(bad, np.zeros(st.n_packets, bool), st.n_samples, s,
                     lookahead=st.lookahead, **MODELS)
        assert rx.corrupt == [7], name
        assert rx.audio.shape == clean.audio.shape and np.all(np.isfinite(rx.audio)), name
        # a bad container is a lost packet (LBRR of packet 8 may recover it); a bad frame in a
        # good container is concealed in place
        assert rx.labels[7] != SOURCES.index("regular"), name
        early = slice(0, FRAME_SAMPLES * 7 - st.lookahead)
        np.testing.assert_array_equal(rx.audio[early], clean.audio[early])
    lost = np.zeros(st.n_packets, bool)
    lost[6] = True  # packet 7 then decodes DRED: a corrupt payload is ignored (PLC instead)
    bad = list(st.packets)
    bad[7] = pack_packet(p.opus, p.dred[:20])
    rx = receive(bad, lost, st.n_samples, s, lookahead=st.lookahead, **MODELS)
    assert rx.corrupt == [7] and rx.labels[6] != SOURCES.index("dred")
    assert np.all(np.isfinite(rx.audio))


def test_receiver_survives_mutated_streams(voiced):
    """Random byte flips, cuts and extensions in many packets at once never crash the receiver."""
    _, s, st = voiced
    rng = np.random.default_rng(3)
    for trial in range(6):
        bad = [bytearray(b) for b in st.packets]
        for k in rng.choice(st.n_packets, size=st.n_packets // 3, replace=False):
            kind = int(rng.integers(0, 3))
            if kind == 0:
                for pos in rng.integers(0, 8 * len(bad[k]), 4):
                    bad[k][pos // 8] ^= 1 << (pos % 8)
            elif kind == 1:
                del bad[k][int(rng.integers(0, len(bad[k]))):]
            else:
                bad[k] += rng.bytes(int(rng.integers(1, 30)))
        lost = rng.random(st.n_packets) < 0.2
        rx = receive([bytes(b) for b in bad], lost, st.n_samples, s, lookahead=st.lookahead,
                     **MODELS)
        assert rx.audio.shape == (st.n_samples,) and np.all(np.isfinite(rx.audio)), trial


# -- chain -------------------------------------------------------------------------------------
def test_simulate_resamples_mixes_and_reports():
    x = synthetic_speech(1.5)
    stereo = np.stack([x, x], axis=1)
    x48 = __import__("soxr").resample(stereo, FS, 48000)
    seen = []
    run = simulate(x48, 48000, DredSettings(dred_ms=120), parse_loss("ge:0.2,3"), seed=2,
                   state=TaskState(lambda f, m: seen.append((f, m))), vae=IdentityVae(), **MODELS)
    assert run.clean16.shape == run.decoded.shape and abs(run.clean16.size - x.size) <= 1
    fractions = [f for f, _ in seen]
    assert fractions[-1] == pytest.approx(1.0) and np.all(np.diff(fractions) >= 0)
    # one report per packet while encoding and per packet or gap while decoding
    assert sum(m == "encoding packets" for _, m in seen) == run.lost.size
    assert 0 < sum(m == "decoding" for _, m in seen) <= run.lost.size
    rep = run.to_report()
    import json

    json.dumps(rep)
    assert sum(rep["counters"].values()) == run.lost.size == run.sources.size
    assert rep["counters"]["regular"] == int((~run.lost).sum())
    assert rep["mean_dred_reach_ms"] == pytest.approx(120, abs=10)
    assert run.SOURCES == SOURCES and rep["kbps"]["total"] > rep["kbps"]["opus"] > 0


def test_simulate_cancels():
    calls = []

    def count(f, m):  # cancels from inside the fifth progress report
        calls.append(f)
        if len(calls) == 5:
            state.cancel()

    state = TaskState(count)
    with pytest.raises(Cancelled):
        simulate(synthetic_speech(1.0), FS, DredSettings(dred_ms=80), None, state=state,
                 vae=IdentityVae(), **MODELS)
    assert len(calls) == 5


@pytest.mark.skipif(not all((REPO / "assets" / "dred" / f).is_file()
                            for f in ("rdovae.npz", "vocoder.npz", "plc.npz")),
                    reason="DRED weights not trained yet (assets/dred/*.npz)")
def test_a_cancel_is_noticed_within_100_ms_with_the_trained_models():
    """Cancels in the feature analysis, the latent encoding, the packets and the decoding
    (vocoded gaps) of a 20 s run."""
    x = synthetic_speech(20.0)
    latencies = cancel_latencies(
        lambda state: simulate(x, FS, DredSettings(), parse_loss("ge:0.2,10"), state=state),
        (0.0, 0.15, 0.3, 0.6, 0.9))
    assert max(latencies) < 0.1, latencies


@pytest.mark.parametrize("audio,fs,match", [
    (np.zeros(0), FS, "empty"), (np.full(1000, np.nan), FS, "NaN"),
    (np.zeros(FS), FS, "silence"), (np.ones((10, 2, 2)), FS, "shape"),
    (np.ones(100), FS, "shorter"), (np.ones(FS), 100, "sample rate")])
def test_bad_audio_is_rejected(audio, fs, match):
    with pytest.raises(InputError, match=match):
        to_mono16k(audio, fs)


def test_explicit_mask_must_fit():
    with pytest.raises(InputError, match="one per 20 ms"):
        simulate(synthetic_speech(1.0), FS, DredSettings(dred=False, neural_plc=False),
                 np.zeros(3, bool))
