"""Hostile input to the DRED receiver (issue #12): corrupt streams never raise, never play more
than 0 dBFS, never produce NaN/inf and always have the right length; a rejected frame leaves no
trace in the decoder; concealment is bounded.

The stream fuzz runs the trained models on real speech (LibriSpeech test-other from the shared
data; ``dsp.signals.speech_like`` where that is absent) with seeded mutations of one packet per
stream, placed right after a loss (LBRR on, the default) or elsewhere.
"""

import time

import numpy as np
import pytest
from conftest import SHARED_DATA

from dsp.dred import opus
from dsp.dred.chain import simulate
from dsp.dred.evaluate import load_cut, normalize
from dsp.dred.features import FRAME_SIZE
from dsp.dred.loss import parse_loss
from dsp.dred.opus import FRAME_SAMPLES, OpusDecoder, OpusEncoder
from dsp.dred.packet import pack_packet, unpack_packet
from dsp.dred.plc import FADE_DB_PER_FRAME, HORIZON_FRAMES, prediction_gain
from dsp.dred.receiver import (
    EVENTS,
    LBRR,
    OPUS_PLC,
    PEAK_HEADROOM,
    REGULAR,
    correlation,
    load_codec,
    load_predictor,
    load_vocoder,
    receive,
)
from dsp.dred.sender import DredSettings, encode_stream
from dsp.signals import speech_like

FS = 16000
SPEECH = SHARED_DATA / "speech" / "librispeech_test-other"
KINDS = ("bit_flips", "truncation", "toc", "length_lie", "random_bytes", "dred_extra",
         "dred_missing")
PLACEMENTS = ("after_loss", "elsewhere")
STREAMS_PER_CASE = 46  # 7 kinds x 2 placements x 46 = 644 corrupt streams
# Cases no check can flag: DRED is parsed only after a loss, and bytes appended to a DRED payload
# are never read (the range decoder stops when the payload's symbols are complete).
UNFLAGGABLE = {("dred_extra", "after_loss"), ("dred_extra", "elsewhere"),
               ("dred_missing", "elsewhere")}
SECONDS = 1.2


@pytest.fixture(scope="module")
def models():
    return dict(codec=load_codec(), vocoder=load_vocoder(), predictor=load_predictor())


@pytest.fixture(scope="module")
def speech():
    """Four 1.2 s speech cuts at -26 dBov, the last scaled to peak at -0.1 dBFS."""
    files = sorted(SPEECH.glob("*/*.flac"))[:4]
    if len(files) == 4:
        cuts = [load_cut(f, SECONDS) for f in files]
    else:  # no shared data: speech-like signals keep the fuzz running on a bare machine
        cuts = [normalize(speech_like(FS, SECONDS, seed)) for seed in range(4)]
    cuts[-1] = (cuts[-1] * 10 ** (-0.1 / 20) / np.abs(cuts[-1]).max()).astype(np.float32)
    return cuts


@pytest.fixture(scope="module")
def streams(speech, models):
    """The default chain (LBRR on, neural PLC) with 200 ms of DRED: enough for the gaps here,
    and a fifth of the default's payload decoding time per gap."""
    s = DredSettings(dred_ms=200)
    return s, [encode_stream(x, s, codec=models["codec"]) for x in speech]


def mutate(kind: str, data: bytes, rng: np.random.Generator) -> bytes:
    """One container ``data`` damaged the way ``kind`` names."""
    p = unpack_packet(data)
    if kind == "bit_flips":
        out = bytearray(data)
        for pos in rng.integers(0, 8 * len(out), int(rng.integers(1, 9))):
            out[pos // 8] ^= 1 << (pos % 8)
        return bytes(out)
    if kind == "truncation":
        if rng.random() < 0.5:  # the container itself cut short
            return data[:int(rng.integers(0, len(data)))]
        return pack_packet(p.opus[:int(rng.integers(1, len(p.opus)))], p.dred)
    if kind == "toc":
        return pack_packet(bytes([int(rng.integers(0, 256))]) + p.opus[1:], p.dred)
    if kind == "length_lie":  # the Opus length varint claims a different size
        out = bytearray(data)
        out[1] = (out[1] & 0x80) | ((out[1] + int(rng.choice([-5, -3, -1, 1, 2, 7]))) & 0x7F)
        return bytes(out)
    if kind == "random_bytes":
        if rng.random() < 0.5:
            return rng.bytes(int(rng.integers(0, 200)))
        opus_frame, dred = rng.bytes(int(rng.integers(1, 160))), rng.bytes(int(rng.integers(80)))
        return pack_packet(opus_frame, dred)
    if kind == "dred_extra":
        return pack_packet(p.opus, p.dred + rng.bytes(int(rng.integers(1, 40))))
    assert kind == "dred_missing"
    return pack_packet(p.opus, p.dred[:int(rng.integers(0, max(len(p.dred), 1)))])


def hostile_case(kind: str, placement: str, count: int, streams, models):
    """``count`` receptions of streams with packet b mutated: right after a loss of 1..5
    packets, or elsewhere (in every other stream followed by a loss of 1..3 packets, so that
    concealment starts from the state the mutated frame left). Yields (Reception, n_samples)."""
    settings, base = streams
    rng = np.random.default_rng([KINDS.index(kind), PLACEMENTS.index(placement)])
    for i in range(count):
        st = base[i % len(base)]
        b = int(rng.integers(6, st.n_packets - 4))
        lost = np.zeros(st.n_packets, bool)
        if placement == "after_loss":
            lost[b - int(rng.integers(1, 6)):b] = True
        elif i % 2:
            lost[b + 1:b + 1 + int(rng.integers(1, 4))] = True
        packets = list(st.packets)
        packets[b] = mutate(kind, packets[b], rng)
        rx = receive(packets, lost, st.n_samples, settings, lookahead=st.lookahead, **models)
        yield rx, st.n_samples


@pytest.mark.parametrize("placement", PLACEMENTS)
@pytest.mark.parametrize("kind", KINDS)
def test_corrupt_streams_never_raise_clip_or_go_non_finite(kind, placement, streams, models):
    peaks, detected, t0 = [], 0, time.perf_counter()
    for rx, n_samples in hostile_case(kind, placement, STREAMS_PER_CASE, streams, models):
        assert rx.audio.shape == (n_samples,) and rx.audio.dtype == np.float32
        assert np.all(np.isfinite(rx.audio))
        peaks.append(float(np.max(np.abs(rx.audio))))
        assert set(rx.events) == set(EVENTS) and rx.events["nonfinite_samples"] == 0
        assert sum(rx.counters().values()) == rx.labels.size
        detected += bool(rx.corrupt)
    assert max(peaks) <= 1.0, (kind, placement, 20 * np.log10(max(peaks)))
    # the mutations reach the receiver's checks (not every one can: Opus has no checksum)
    assert detected > 0 or (kind, placement) in UNFLAGGABLE, (kind, placement)
    print(f"{kind}/{placement}: {STREAMS_PER_CASE} streams, peak "
          f"{20 * np.log10(max(peaks)):.1f} dBFS, {detected} flagged, "
          f"{time.perf_counter() - t0:.1f} s")


def test_corrupt_packet_after_a_loss_with_lbrr_is_concealed(streams, models):
    """The issue's crash: an unparseable Opus frame right after a loss, LBRR on."""
    settings, base = streams
    st = base[0]
    b = 30
    lost = np.zeros(st.n_packets, bool)
    lost[b - 2:b] = True
    packets = list(st.packets)
    p = unpack_packet(packets[b])
    assert opus.packet_has_lbrr(p.opus)
    packets[b] = pack_packet(b"\x4b", p.dred)  # code 3 without its frame-count byte
    with pytest.raises(opus.OpusError):
        opus.packet_has_lbrr(b"\x4b")
    rx = receive(packets, lost, st.n_samples, settings, lookahead=st.lookahead, **models)
    assert rx.corrupt == [b] and rx.events["corrupt_frames"] == 1
    assert LBRR not in rx.labels[b - 2:b] and rx.labels[b] == OPUS_PLC
    assert np.max(np.abs(rx.audio)) <= 1.0 and np.all(np.isfinite(rx.audio))


def _loud_celt_frame(st, b: int) -> bytes:
    """A wideband 20 ms CELT frame of seeded garbage that the decoder, primed with packets
    0..b-1, decodes above the headroom (the state pollution of issue #12)."""
    rng = np.random.default_rng(12)
    for _ in range(500):
        frame = b"\xb8" + rng.bytes(int(rng.integers(20, 120)))
        dec = OpusDecoder()
        for data in st.packets[:b]:
            dec.decode(unpack_packet(data).opus)
        if np.max(np.abs(dec.decode(frame))) > PEAK_HEADROOM:
            return frame
    raise AssertionError("no loud garbage frame found")


def test_a_rejected_frame_leaves_no_trace(streams, models):
    """A frame decoded and then rejected for its level, a frame rejected from its header (TOC
    0xb4: 10 ms stereo, the issue's +123 dBFS case) and a frame libopus cannot parse all leave
    the decoder as it was: the outputs are identical, the frame concealed, the rest clean."""
    settings, base = streams
    st = base[1]
    b = 25
    lost = np.zeros(st.n_packets, bool)
    clean = receive(st.packets, lost, st.n_samples, settings, lookahead=st.lookahead, **models)
    p = unpack_packet(st.packets[b])
    outputs = []
    for frame in (_loud_celt_frame(st, b), b"\xb4" + p.opus[1:], b"\x03"):
        packets = list(st.packets)
        packets[b] = pack_packet(frame, p.dred)
        rx = receive(packets, lost, st.n_samples, settings, lookahead=st.lookahead, **models)
        assert rx.corrupt == [b] and rx.events["corrupt_frames"] == 1
        assert rx.labels[b] == OPUS_PLC and np.all(np.delete(rx.labels, b) == REGULAR)
        assert rx.events["clipped_samples"] == 0
        assert np.max(np.abs(rx.audio)) <= 10 ** (1 / 20) * np.max(np.abs(clean.audio))
        outputs.append(rx.audio)
    np.testing.assert_array_equal(outputs[0], outputs[1])
    np.testing.assert_array_equal(outputs[0], outputs[2])
    before = slice(0, FRAME_SAMPLES * b - st.lookahead)
    np.testing.assert_array_equal(outputs[0][before], clean.audio[before])


def test_sender_frames_pass_the_receiver_checks_at_full_scale():
    """What the receiver's plausibility rules assume of the chain's sender, on hostile but
    legal input (full-scale noise, square wave, clipped speech) over its bitrate range: every
    frame is 20 ms, mono, at most wideband, and decodes to at most full scale."""
    t = np.arange(FS) / FS
    rng = np.random.default_rng(0)
    signals = {"noise": np.clip(rng.standard_normal(FS), -1, 1),
               "square": np.sign(np.sin(2 * np.pi * 200 * t)),
               "clipped speech": np.clip(40 * speech_like(FS, 1.0, 1), -1, 1)}
    for bitrate in (6000, 24000, 510000):
        for name, x in signals.items():
            s = DredSettings(bitrate=bitrate, dred_ms=0, dred=False)
            st = encode_stream(x.astype(np.float32), s)
            dec = OpusDecoder()
            for data in st.packets:
                frame = unpack_packet(data).opus
                assert opus.packet_samples(frame) == FRAME_SAMPLES, (bitrate, name)
                assert opus.packet_channels(frame) == 1, (bitrate, name)
                assert opus.packet_bandwidth_hz(frame) <= FS // 2, (bitrate, name)
                assert np.max(np.abs(dec.decode(frame))) <= 1.0, (bitrate, name)


def test_decoder_snapshot_restores_the_exact_state(streams):
    """Decoding garbage between a snapshot and its restore changes nothing afterwards."""
    _, base = streams
    frames = [unpack_packet(d).opus for d in base[2].packets]
    ref = OpusDecoder()
    expected = [ref.decode(f) for f in frames]
    dec = OpusDecoder()
    rng = np.random.default_rng(1)
    for k, f in enumerate(frames):
        state = dec.snapshot()
        for _ in range(3):
            try:
                dec.decode(b"\xb8" + rng.bytes(60))
            except opus.OpusError:
                pass
            dec.conceal()
        dec.restore(state)
        np.testing.assert_array_equal(dec.decode(f), expected[k])
    with pytest.raises(opus.OpusError, match="snapshot"):
        dec.restore(b"\x00" * 10)


def test_packet_header_queries():
    enc = OpusEncoder()
    frame = enc.encode(np.zeros(FRAME_SAMPLES, np.float32))
    assert opus.packet_samples(frame) == FRAME_SAMPLES
    assert opus.packet_samples(frame, 48000) == 960
    assert opus.packet_channels(frame) == 1 and opus.packet_bandwidth_hz(frame) <= 8000
    assert opus.packet_channels(b"\xb4") == 2 and opus.packet_samples(b"\xb4") == 160
    assert opus.packet_bandwidth_hz(b"\xf8") == 20000  # CELT fullband
    for call in (opus.packet_samples, opus.packet_channels, opus.packet_bandwidth_hz):
        with pytest.raises(opus.OpusError):
            call(b"")
    with pytest.raises(opus.OpusError):
        opus.packet_samples(b"\x03")  # code 3 without its frame count


class _PoisonedFirstDecoder(OpusDecoder):
    """The receiver's first decoder conceals with NaN (a state an accepted frame has broken);
    decoders made after it are sound."""

    made = 0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        type(self).made += 1
        self.poisoned = type(self).made == 1

    def conceal(self):
        pcm = super().conceal()
        return np.full_like(pcm, np.nan) if self.poisoned else pcm


def test_implausible_concealment_resets_and_reprimes_the_decoder(streams, models, monkeypatch):
    """A decoder whose concealment is implausible is replaced by a fresh one re-primed with the
    last accepted frames: its concealment continues the voice (a fresh decoder without them
    would conceal with silence)."""
    import dsp.dred.receiver as receiver

    # libopus PLC is what is played for a lost frame
    settings = DredSettings(lbrr=False, dred=False, dred_ms=0, neural_plc=False)
    _, base = streams
    st = base[0]
    lost = np.zeros(st.n_packets, bool)
    clean = receive(st.packets, lost, st.n_samples, settings, lookahead=st.lookahead, **models)
    frame_rms = np.sqrt(np.mean(np.pad(clean.audio, (st.lookahead, 0))[
        :FRAME_SAMPLES * (st.n_packets - 1)].reshape(-1, FRAME_SAMPLES) ** 2, axis=1))
    b = int(np.argmax(frame_rms[10:-10])) + 10  # a loud frame: there is a voice to continue
    lost[b] = True
    reference = receive(st.packets, lost, st.n_samples, settings, lookahead=st.lookahead,
                        **models)
    seg = slice(FRAME_SAMPLES * b - st.lookahead, FRAME_SAMPLES * (b + 1) - st.lookahead)
    results, frames = {}, receiver.REPRIME_FRAMES
    for reprime in (frames, 0):
        _PoisonedFirstDecoder.made = 0
        monkeypatch.setattr(receiver, "OpusDecoder", _PoisonedFirstDecoder)
        monkeypatch.setattr(receiver, "REPRIME_FRAMES", reprime)
        rx = receive(st.packets, lost, st.n_samples, settings, lookahead=st.lookahead, **models)
        assert rx.events["decoder_resets"] == 1 and np.all(np.isfinite(rx.audio))
        results[reprime] = rx.audio[seg]
    assert correlation(results[frames], reference.audio[seg]) > 0.5
    assert np.sqrt(np.mean(results[0] ** 2)) < 0.1 * np.sqrt(np.mean(reference.audio[seg] ** 2))


def test_neural_plc_fades_beyond_its_training_horizon(speech, models, monkeypatch):
    """A 1.2 s gap with no redundancy: the first 400 ms of prediction play as before, the rest
    fades at the set rate; without the fade the output would be the same up to the horizon."""
    import dsp.dred.receiver as receiver

    assert prediction_gain(np.array([0, HORIZON_FRAMES]))[1] == 1.0
    assert 20 * np.log10(prediction_gain(HORIZON_FRAMES + 10)) == pytest.approx(
        -10 * FADE_DB_PER_FRAME)
    settings = DredSettings(lbrr=False, dred=False, dred_ms=0)
    st = encode_stream(np.concatenate(speech), settings)
    lost = np.zeros(st.n_packets, bool)
    a, b = 40, 100  # 60 packets = 1.2 s
    lost[a:b] = True
    rx = receive(st.packets, lost, st.n_samples, settings, lookahead=st.lookahead, **models)
    monkeypatch.setattr(receiver, "prediction_gain", lambda run: np.ones(np.shape(run)))
    unfaded = receive(st.packets, lost, st.n_samples, settings, lookahead=st.lookahead,
                      **models)
    start = FRAME_SAMPLES * a - st.lookahead
    # the gain is interpolated from the centre of the last unfaded 10 ms frame on, and the
    # first predicted frame may start up to 10 ms before the gap
    horizon = start + (HORIZON_FRAMES - 2) * FRAME_SIZE
    np.testing.assert_array_equal(rx.audio[:horizon], unfaded.audio[:horizon])
    assert rx.events["faded_plc_frames"] > 0 and unfaded.events["faded_plc_frames"] == 0
    end = FRAME_SAMPLES * b - st.lookahead
    tail = slice(end - 3 * FRAME_SAMPLES, end - FRAME_SAMPLES)
    faded_db = 10 * np.log10(np.mean(rx.audio[tail] ** 2) / np.mean(unfaded.audio[tail] ** 2))
    assert faded_db < -20


def test_simulate_reports_the_receiver_events(speech, models):
    """`awb dred simulate --report` serializes ``DredRun.to_report``: the counters are in it."""
    run = simulate(speech[0], FS, DredSettings(dred_ms=200), parse_loss("ge:0.2,3"), seed=1,
                   **models)
    rep = run.to_report()
    assert rep["receiver_events"] == dict.fromkeys(EVENTS, 0)
    assert run.events == rep["receiver_events"]
