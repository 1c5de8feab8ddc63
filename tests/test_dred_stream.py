"""The DRED chain packet by packet (issue #14): streaming features equal the offline ones, the
streaming receiver equals `receive()` when no gap outlasts its buffer, and the streaming sender's
redundancy is decoded into DRED frames."""

from dataclasses import replace

import numpy as np
import pytest

from dsp.dred.features import compute_features
from dsp.dred.features_stream import LATENCY_FRAMES, FeatureStream
from dsp.dred.receiver import DRED, PLC, REGULAR, receive
from dsp.dred.receiver_stream import KEPT_PACKETS, TRIM_PACKETS, ReceiverStream
from dsp.dred.sender import DredSettings, load_models
from dsp.dred.sender_stream import STREAM_OFFSET_FRAMES, SenderStream
from dsp.dred.window import SlidingArray
from dsp.signals import speech_like

FS = 16000


@pytest.fixture(scope="module")
def speech():
    return (0.3 * speech_like(FS, 4.0, seed=3)).astype(np.float32)


@pytest.fixture(scope="module")
def sent(speech):
    vae, codec = load_models()
    tx = SenderStream(DredSettings(), vae, codec)
    n = -(-(speech.size + tx.lookahead) // 320)
    x = np.zeros(n * 320, np.float32)
    x[:speech.size] = speech
    return tx, [tx.push(x[k * 320:(k + 1) * 320]) for k in range(n)], codec


def test_streaming_features_equal_the_offline_ones(speech):
    x = speech[:speech.size // 160 * 160]
    fs = FeatureStream()
    got = np.concatenate([fs.push(x[i:i + 160]) for i in range(0, x.size, 160)])
    ref = compute_features(x)
    assert got.shape == (ref.shape[0] - LATENCY_FRAMES, 20)
    np.testing.assert_allclose(got, ref[:got.shape[0]], atol=1e-9)


def test_streaming_sender_carries_redundancy_the_codec_reads(sent):
    _, packets, codec = sent
    from dsp.dred.packet import unpack_packet

    chunks = np.array([p.chunks for p in packets])
    assert chunks.max() == DredSettings().n_chunks  # full depth once the history is there
    payload = codec.unpack(unpack_packet(packets[60].data).dred)
    assert payload.offset_frames == STREAM_OFFSET_FRAMES and payload.n_chunks == chunks[60]
    assert all(p.opus > 0 and p.overhead > 0 for p in packets)


def _stream(packets, mask, lookahead, depth, codec, settings):
    rx = ReceiverStream(settings, lookahead, depth, codec=codec)
    out = [rx.push(None if lost else p) for p, lost in zip(packets, mask, strict=True)]
    out = [o for o in out if o is not None] + rx.flush()
    return np.concatenate([o[0] for o in out]), np.array([o[1] for o in out])


def test_streaming_receiver_equals_receive_when_gaps_fit_the_buffer(sent, speech):
    tx, packets, codec = sent
    data = [p.data for p in packets]
    mask = np.zeros(len(data), bool)  # bursts of 1..6 packets, 10..23 packets apart
    rng = np.random.default_rng(4)
    k = 10
    while k < len(data):
        mask[k:k + rng.integers(1, 7)] = True
        k += int(rng.integers(10, 24))
    s = DredSettings()
    ref = receive(data, mask, speech.size, s, lookahead=tx.lookahead, codec=codec)
    y, labels = _stream(data, mask, tx.lookahead, 60, codec, s)
    np.testing.assert_array_equal(labels, ref.labels)
    np.testing.assert_allclose(y[tx.lookahead:tx.lookahead + speech.size], ref.audio, atol=1e-6)
    assert (labels == DRED).sum() > 0


def test_a_long_loss_free_stretch_is_analysed_as_it_plays(sent):
    tx, packets, codec = sent
    data = [p.data for p in packets]
    mask = np.zeros(len(data), bool)
    mask[180:183] = True
    rx = ReceiverStream(DredSettings(), tx.lookahead, 10, codec=codec)
    for k in range(170):
        rx.push(data[k])
    assert rx.core.observed >= 2 * 150 - 4  # caught up at packet 150, before any gap
    for k in range(170, len(data)):
        rx.push(None if mask[k] else data[k])
    assert np.all(rx.core.labels[180:183] != REGULAR)


def test_a_gap_longer_than_the_buffer_is_concealed_without_waiting(sent):
    tx, packets, codec = sent
    data = [p.data for p in packets]
    mask = np.zeros(len(data), bool)
    mask[50:70] = True  # 400 ms gap, 100 ms buffer
    y, labels = _stream(data, mask, tx.lookahead, 5, codec, DredSettings())
    assert np.all(np.isfinite(y)) and np.max(np.abs(y)) <= 1.0
    assert np.all(labels[50:66] == PLC)  # due before the next packet arrived: no DRED
    assert labels[70] == REGULAR and y.size == len(data) * 320


class _Untrimmed(ReceiverStream):
    """The stream keeping its whole decoded timeline (the reference for trimming)."""

    def _trim(self) -> None:
        pass


def test_a_long_stream_keeps_bounded_memory_and_the_same_output(sent):
    """90 s of packets (the 4 s clip tiled) with bursts of 1..12 lost packets (some
    outlasting the 100 ms buffer), a few corrupt ones and neural PLC / DRED switched off and on:
    the trimmed stream plays exactly what the untrimmed one does, in a bounded window."""
    tx, packets, codec = sent
    # 90 s: 90 trims (one per TRIM_PACKETS) with the window checked after every packet, each
    # setting switch a few hundred gaps in; the bound is a constant, so 3 minutes (the former
    # length, twice the time) showed nothing more.
    n = 4500
    data = [packets[k % len(packets)].data for k in range(n)]
    rng = np.random.default_rng(7)
    mask = np.zeros(n, bool)
    k = 20
    while k < n:
        mask[k:k + rng.integers(1, 13)] = True
        k += int(rng.integers(15, 60))
    for k in rng.choice(n, 20, replace=False):
        data[k] = b"\x07garbage"
    s, depth = DredSettings(), 5
    switches = {1500: replace(s, neural_plc=False), 2250: replace(s, dred=False),
                3000: s}
    trimmed = ReceiverStream(s, tx.lookahead, depth, codec=codec)
    full = _Untrimmed(s, tx.lookahead, depth, codec=codec)
    kept = 0
    for k in range(n):
        if k in switches:
            trimmed.update(switches[k])
            full.update(switches[k])
        packet = None if mask[k] else data[k]
        a, b = trimmed.push(packet), full.push(packet)
        if a is None:
            assert b is None
            continue
        assert a[1] == b[1], k
        np.testing.assert_allclose(a[0], b[0], atol=1e-9, rtol=0)
        core = trimmed.core
        kept = max(kept, core.n - core.labels.start)
        assert core.out.data.size <= (core.labels.data.size + 1) * 320
    assert trimmed.core.labels.start > n - 200  # it did trim, up to the end
    assert kept <= depth + KEPT_PACKETS, kept
    assert trimmed.core.parts.data.size <= depth + KEPT_PACKETS + TRIM_PACKETS
    assert full.core.labels.start == 0 and full.core.out.size >= n * 320
    labels = full.core.labels[0:n]
    assert (labels == DRED).sum() > 100 and (labels == PLC).sum() > 100


def test_a_sliding_array_is_addressed_by_absolute_position():
    a = SlidingArray(np.float64, spare=4)
    a.grow(10)
    a[0:10] = np.arange(10)
    a.trim(6)
    assert a.start == 6 and a.size >= 10 and a.data.size <= 4 + 4
    assert a[7] == 7 and list(a[6:9]) == [6, 7, 8]
    a[8:10] += 1
    assert list(a[8:10]) == [9, 10]
    with pytest.raises(IndexError, match="trimmed"):
        a[5:7]
    with pytest.raises(IndexError, match="trimmed"):
        a[5] = 1.0
