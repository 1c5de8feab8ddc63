"""The DRED packet container: exact layout, round trips, and no crash on arbitrary bytes."""

import numpy as np
import pytest

from dsp.dred.packet import (
    MAX_DRED_BYTES,
    MAX_OPUS_BYTES,
    VERSION,
    Packet,
    PacketError,
    pack_packet,
    unpack_packet,
)


def test_layout_is_the_documented_one():
    opus, dred = bytes(range(1, 61)), bytes(range(200, 210))
    data = pack_packet(opus, dred)
    assert data == bytes([VERSION, 60]) + opus + bytes([10]) + dred
    p = unpack_packet(data)
    assert (p.opus, p.dred, p.size) == (opus, dred, len(data))
    assert p.split_bytes() == (60, 10, 3)


@pytest.mark.parametrize("n_opus,n_dred,overhead", [
    (1, 0, 3), (127, 127, 3), (128, 0, 4), (128, 128, 5), (MAX_OPUS_BYTES, MAX_DRED_BYTES, 5)])
def test_varint_boundaries(n_opus, n_dred, overhead):
    opus, dred = b"\x55" * n_opus, b"\xaa" * n_dred
    data = pack_packet(opus, dred)
    assert len(data) == n_opus + n_dred + overhead
    p = unpack_packet(data)
    assert p == Packet(opus, dred, len(data))
    assert p.overhead == overhead


def test_two_byte_varint_is_little_endian_leb128():
    data = pack_packet(b"\x01" * 300)
    assert data[1:3] == bytes([0x80 | (300 & 0x7F), 300 >> 7])


@pytest.mark.parametrize("data,match", [
    (b"", "empty"),
    (b"\x02\x01\x00\x00", "version"),
    (b"\x01", "Opus length missing"),
    (b"\x01\x00\x00", "Opus length 0"),
    (b"\x01\x05abc", "truncated: Opus"),
    (b"\x01\x01a", "DRED length missing"),
    (b"\x01\x01a\x03xy", "truncated: DRED"),
    (b"\x01\x01a\x00z", "trailing"),
    (b"\x01\x80\x00", "minimally"),
    (b"\x01\x80\x80\x01", "longer than 2"),
    (b"\x01\x81", "varint cut"),
    (b"\x01\xff\x7f", "outside"),
    (b"\x01\x01a\xdd\x0b" + b"x" * 1501, "above"),
])
def test_malformed_packets_are_rejected_specifically(data, match):
    with pytest.raises(PacketError, match=match):
        unpack_packet(data)


def test_pack_rejects_out_of_range_parts():
    with pytest.raises(PacketError, match="Opus frame"):
        pack_packet(b"")
    with pytest.raises(PacketError, match="Opus frame"):
        pack_packet(b"x" * (MAX_OPUS_BYTES + 1))
    with pytest.raises(PacketError, match="DRED payload"):
        pack_packet(b"x", b"y" * (MAX_DRED_BYTES + 1))
    with pytest.raises(PacketError, match="bytes"):
        unpack_packet("not bytes")
    assert issubclass(PacketError, ValueError)


def test_random_and_mutated_packets_never_crash():
    """100 000 inputs: random bytes, and valid packets with bytes flipped, cut or appended.

    Each either raises PacketError or parses to a packet that re-packs to the same bytes
    (so a parse is never a silent misreading).
    """
    rng = np.random.default_rng(7)
    valid = [pack_packet(rng.bytes(int(rng.integers(1, 200))), rng.bytes(int(rng.integers(0, 150))))
             for _ in range(64)]
    parsed = rejected = 0
    for i in range(100_000):
        kind = i % 4
        if kind == 0:
            data = rng.bytes(int(rng.integers(0, 40)))
        else:
            base = bytearray(valid[i % len(valid)])
            if kind == 1:
                for pos in rng.integers(0, len(base), int(rng.integers(1, 4))):
                    base[pos] = int(rng.integers(0, 256))
            elif kind == 2:
                del base[int(rng.integers(0, len(base))):]
            else:
                base += rng.bytes(int(rng.integers(1, 4)))
            data = bytes(base)
        try:
            p = unpack_packet(data)
        except PacketError:
            rejected += 1
            continue
        parsed += 1
        assert pack_packet(p.opus, p.dred) == data
        assert sum(p.split_bytes()) == len(data)
    # both outcomes are exercised (mutations of length bytes are rejected, payload flips parse)
    assert parsed > 5_000 and rejected > 40_000
