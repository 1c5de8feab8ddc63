"""The DRED chain's packet container: one 20 ms Opus frame plus an optional DRED payload.

Layout (version 1), all lengths in bytes::

    +---------+-------------------+-------------+-------------------+--------------+
    | version | varint opus_len   | Opus frame  | varint dred_len   | DRED payload |
    | 1 byte  | 1..2 bytes        | opus_len    | 1..2 bytes        | dred_len     |
    +---------+-------------------+-------------+-------------------+--------------+

* ``version`` is :data:`VERSION` (1); any other value is rejected, so a future layout can
  never be misread as this one.
* varints are unsigned LEB128 (7 bits per byte, low group first, high bit = "more"), at most
  two bytes (values < 16384) and minimally encoded (no redundant 0x80 groups), so every
  packet has exactly one valid byte string.
* The Opus frame is a complete libopus packet (it may carry LBRR for the previous frame);
  1..:data:`MAX_OPUS_BYTES` bytes. The DRED payload (``dsp.dred.payload``) may be empty,
  0..:data:`MAX_DRED_BYTES` bytes.
* Nothing may follow the DRED payload.

The container costs 3 bytes per packet while the Opus frame is shorter than 128 bytes
(1.2 kb/s at 50 packets/s), 4 bytes above; the libopus equivalent (the Opus padding extension)
costs about 3 bytes too. No IP/UDP/RTP headers are counted anywhere in the chain.
"""

from __future__ import annotations

from dataclasses import dataclass

VERSION = 1
MAX_OPUS_BYTES = 1275  # RFC 6716: the largest single Opus frame
MAX_DRED_BYTES = 1500


class PacketError(ValueError):
    """A malformed container: truncated, wrong version, lengths out of range, trailing bytes."""


@dataclass(frozen=True)
class Packet:
    """One parsed container.

    Attributes:
        opus: the Opus frame (bytes, never empty).
        dred: the DRED payload (bytes, ``b""`` when the packet carries no redundancy).
        size: total container size in bytes.
    """

    opus: bytes
    dred: bytes
    size: int

    @property
    def overhead(self) -> int:
        """Container bytes that are neither Opus nor DRED (version byte and the two varints)."""
        return self.size - len(self.opus) - len(self.dred)

    def split_bytes(self) -> tuple[int, int, int]:
        """``(opus, dred, container overhead)`` in bytes; they sum to :attr:`size`."""
        return len(self.opus), len(self.dred), self.overhead


def _varint(value: int) -> bytes:
    if value < 0x80:
        return bytes((value,))
    return bytes((0x80 | (value & 0x7F), value >> 7))


def _read_varint(data: bytes, pos: int, what: str) -> tuple[int, int]:
    """Value and the position after it; PacketError for truncated/overlong/oversized varints."""
    if pos >= len(data):
        raise PacketError(f"truncated: {what} length missing at byte {pos}")
    b0 = data[pos]
    if b0 < 0x80:
        return b0, pos + 1
    if pos + 1 >= len(data):
        raise PacketError(f"truncated: {what} length varint cut at byte {pos + 1}")
    b1 = data[pos + 1]
    if b1 >= 0x80:
        raise PacketError(f"{what} length varint longer than 2 bytes at byte {pos}")
    if b1 == 0:
        raise PacketError(f"{what} length varint not minimally encoded at byte {pos}")
    return (b0 & 0x7F) | (b1 << 7), pos + 2


def pack_packet(opus: bytes, dred: bytes = b"") -> bytes:
    """One container from an Opus frame (1..1275 bytes) and a DRED payload (0..1500 bytes)."""
    opus, dred = bytes(opus), bytes(dred)
    if not 1 <= len(opus) <= MAX_OPUS_BYTES:
        raise PacketError(f"Opus frame must be 1..{MAX_OPUS_BYTES} bytes, got {len(opus)}")
    if len(dred) > MAX_DRED_BYTES:
        raise PacketError(f"DRED payload must be at most {MAX_DRED_BYTES} bytes, got {len(dred)}")
    return b"".join((bytes((VERSION,)), _varint(len(opus)), opus, _varint(len(dred)), dred))


def unpack_packet(data: bytes) -> Packet:
    """Parse a container; raises :class:`PacketError` for anything but an exact, valid packet."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise PacketError(f"packet must be bytes, got {type(data).__name__}")
    data = bytes(data)
    if not data:
        raise PacketError("empty packet")
    if data[0] != VERSION:
        raise PacketError(f"unsupported container version {data[0]} (expected {VERSION})")
    n_opus, pos = _read_varint(data, 1, "Opus")
    if not 1 <= n_opus <= MAX_OPUS_BYTES:
        raise PacketError(f"Opus length {n_opus} outside 1..{MAX_OPUS_BYTES}")
    if pos + n_opus > len(data):
        raise PacketError(f"truncated: Opus frame needs {n_opus} bytes, "
                          f"{len(data) - pos} left")
    opus = data[pos:pos + n_opus]
    n_dred, pos = _read_varint(data, pos + n_opus, "DRED")
    if n_dred > MAX_DRED_BYTES:
        raise PacketError(f"DRED length {n_dred} above {MAX_DRED_BYTES}")
    if pos + n_dred > len(data):
        raise PacketError(f"truncated: DRED payload needs {n_dred} bytes, {len(data) - pos} left")
    end = pos + n_dred
    if end != len(data):
        raise PacketError(f"{len(data) - end} trailing bytes after the DRED payload")
    return Packet(opus=opus, dred=data[pos:end], size=len(data))
