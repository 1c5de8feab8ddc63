"""Opus through the real libopus (bundled by the ``opuslib-next-bundled`` wheel), via ctypes.

Opus is never re-implemented here. We load the wheel's own ``libopus.so`` into a *separate*
``ctypes.CDLL`` handle so that our argtypes do not clash with the ones ``opuslib_next`` sets on
its function objects, and so that we can call the variadic ``*_ctl`` functions with any CTL
(``opuslib_next`` only wraps a subset).

Conventions: 16 kHz mono, 20 ms frames (320 samples), float32 PCM in [-1, 1].
A lost frame is decoded either from the *next* packet's LBRR (in-band FEC, ``decode_fec``) or
by the codec's own packet-loss concealment (``conceal``: decode with no data).
For hostile input, libopus's packet-header queries (:func:`packet_samples`,
:func:`packet_channels`, :func:`packet_bandwidth_hz`) check a frame before it reaches a decoder,
and :meth:`OpusDecoder.snapshot` / :meth:`OpusDecoder.restore` undo a decode found implausible.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 16000
FRAME_MS = 20
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000  # 320
MAX_PACKET_BYTES = 1500

# opus_defines.h request numbers (stable ABI since libopus 1.0; DRED ones since 1.5).
_OPUS_OK = 0
_APPLICATION_VOIP = 2048
_APPLICATION_AUDIO = 2049
_SET_BITRATE = 4002
_GET_BITRATE = 4003
_SET_VBR = 4006
_SET_BANDWIDTH = 4008
_SET_COMPLEXITY = 4010
_SET_INBAND_FEC = 4012
_SET_PACKET_LOSS_PERC = 4014
_SET_DTX = 4016
_SET_SIGNAL = 4024
_GET_LOOKAHEAD = 4027
_RESET_STATE = 4028
_GET_FINAL_RANGE = 4031
_SIGNAL_VOICE = 3001
_BANDWIDTH_WIDEBAND = 1103
# OPUS_BANDWIDTH_* (TOC bandwidth) -> audio bandwidth in Hz
_BANDWIDTH_HZ = {1101: 4000, 1102: 6000, 1103: 8000, 1104: 12000, 1105: 20000}

# Frame kinds reported by :func:`simulate_loss` (the receiver of #6 will add DRED and neural PLC).
KIND_REGULAR = 0
KIND_LBRR = 1
KIND_PLC = 2


class OpusError(RuntimeError):
    """A negative libopus return code, with libopus's own message."""


def _load() -> ctypes.CDLL:
    try:
        import opuslib_next.api as _api  # the wheel that bundles libopus
    except ImportError as exc:  # pragma: no cover - dependency declared in pyproject
        raise OpusError("opuslib-next-bundled is not installed (pip install it)") from exc
    lib = ctypes.CDLL(_api.libopus._name)  # same .so, our own function objects
    lib.opus_get_version_string.restype = ctypes.c_char_p
    lib.opus_strerror.restype = ctypes.c_char_p
    lib.opus_strerror.argtypes = (ctypes.c_int,)
    lib.opus_encoder_create.restype = ctypes.c_void_p
    lib.opus_encoder_create.argtypes = (
        ctypes.c_int32, ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_int))
    lib.opus_decoder_create.restype = ctypes.c_void_p
    lib.opus_decoder_create.argtypes = (
        ctypes.c_int32, ctypes.c_int, ctypes.POINTER(ctypes.c_int))
    lib.opus_encoder_destroy.argtypes = (ctypes.c_void_p,)
    lib.opus_decoder_destroy.argtypes = (ctypes.c_void_p,)
    lib.opus_encode_float.restype = ctypes.c_int32
    lib.opus_encode_float.argtypes = (
        ctypes.c_void_p, ctypes.POINTER(ctypes.c_float), ctypes.c_int,
        ctypes.c_char_p, ctypes.c_int32)
    lib.opus_decode_float.restype = ctypes.c_int
    lib.opus_decode_float.argtypes = (
        ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int32,
        ctypes.POINTER(ctypes.c_float), ctypes.c_int, ctypes.c_int)
    lib.opus_packet_has_lbrr.restype = ctypes.c_int
    lib.opus_packet_has_lbrr.argtypes = (ctypes.c_char_p, ctypes.c_int32)
    lib.opus_packet_get_nb_samples.restype = ctypes.c_int
    lib.opus_packet_get_nb_samples.argtypes = (ctypes.c_char_p, ctypes.c_int32, ctypes.c_int32)
    lib.opus_packet_get_nb_channels.restype = ctypes.c_int
    lib.opus_packet_get_nb_channels.argtypes = (ctypes.c_char_p,)
    lib.opus_packet_get_bandwidth.restype = ctypes.c_int
    lib.opus_packet_get_bandwidth.argtypes = (ctypes.c_char_p,)
    lib.opus_decoder_get_size.restype = ctypes.c_int
    lib.opus_decoder_get_size.argtypes = (ctypes.c_int,)
    # The *_ctl functions are variadic: no argtypes, every argument passed explicitly typed.
    lib.opus_encoder_ctl.restype = ctypes.c_int
    lib.opus_decoder_ctl.restype = ctypes.c_int
    return lib


_LIB = _load()


def libopus_version() -> str:
    """The bundled libopus version string (e.g. ``'libopus 1.5.2'``; may read ``unknown``)."""
    return _LIB.opus_get_version_string().decode()


def _check(code: int, what: str) -> int:
    if code < 0:
        raise OpusError(f"{what}: {_LIB.opus_strerror(code).decode()} ({code})")
    return code


def packet_has_lbrr(packet: bytes) -> bool:
    """Whether an Opus packet carries LBRR (in-band FEC) data for the previous frame."""
    if not packet:
        return False
    return _check(_LIB.opus_packet_has_lbrr(packet, len(packet)), "opus_packet_has_lbrr") == 1


def packet_samples(packet: bytes, sample_rate: int = SAMPLE_RATE) -> int:
    """Samples per channel the packet decodes to at ``sample_rate`` (from its TOC and frame
    count); :class:`OpusError` for an empty packet or one whose header libopus rejects."""
    if not packet:
        raise OpusError("opus_packet_get_nb_samples: empty packet")
    return _check(_LIB.opus_packet_get_nb_samples(packet, len(packet), sample_rate),
                  "opus_packet_get_nb_samples")


def packet_channels(packet: bytes) -> int:
    """Channels the packet's TOC signals (1 or 2); :class:`OpusError` for an empty packet."""
    if not packet:
        raise OpusError("opus_packet_get_nb_channels: empty packet")
    return _check(_LIB.opus_packet_get_nb_channels(packet), "opus_packet_get_nb_channels")


def packet_bandwidth_hz(packet: bytes) -> int:
    """Audio bandwidth the packet's TOC signals, in Hz (4000 narrowband .. 20000 fullband);
    :class:`OpusError` for an empty packet."""
    if not packet:
        raise OpusError("opus_packet_get_bandwidth: empty packet")
    code = _check(_LIB.opus_packet_get_bandwidth(packet), "opus_packet_get_bandwidth")
    return _BANDWIDTH_HZ[code]


class OpusEncoder:
    """libopus encoder, 16 kHz mono, one 20 ms frame per packet.

    Args:
        bitrate: target bitrate in bit/s (all payload, LBRR included: LBRR bits come out of it).
        complexity: 0..10.
        fec: enable LBRR in-band FEC (SILK mode only; libopus decides per frame).
        packet_loss_perc: expected loss in percent, 0..100; LBRR is only produced when > 0.
        vbr: variable bitrate (libopus default); False for CBR.
        application: ``'voip'`` (speech-tuned, the DRED reference setting) or ``'audio'``.
    """

    def __init__(self, bitrate: int = 24000, complexity: int = 10, fec: bool = False,
                 packet_loss_perc: int = 0, vbr: bool = True, application: str = "voip",
                 sample_rate: int = SAMPLE_RATE) -> None:
        app = {"voip": _APPLICATION_VOIP, "audio": _APPLICATION_AUDIO}[application]
        err = ctypes.c_int(0)
        self._st = _LIB.opus_encoder_create(sample_rate, 1, app, ctypes.byref(err))
        _check(err.value, "opus_encoder_create")
        if not self._st:
            raise OpusError("opus_encoder_create returned NULL")
        self.sample_rate = sample_rate
        self.frame_samples = sample_rate * FRAME_MS // 1000
        self._buf = ctypes.create_string_buffer(MAX_PACKET_BYTES)
        self._ctl(_SET_SIGNAL, _SIGNAL_VOICE)
        self.set_bitrate(bitrate)
        self.set_complexity(complexity)
        self._ctl(_SET_VBR, int(vbr))
        self.set_fec(fec, packet_loss_perc)

    def _ctl(self, request: int, value: int) -> None:
        _check(_LIB.opus_encoder_ctl(ctypes.c_void_p(self._st), ctypes.c_int(request),
                                     ctypes.c_int32(value)), f"opus_encoder_ctl({request})")

    def _get(self, request: int) -> int:
        out = ctypes.c_int32(0)
        _check(_LIB.opus_encoder_ctl(ctypes.c_void_p(self._st), ctypes.c_int(request),
                                     ctypes.byref(out)), f"opus_encoder_ctl({request})")
        return int(out.value)

    def set_bitrate(self, bitrate: int) -> None:
        """Target bitrate in bit/s."""
        self._ctl(_SET_BITRATE, int(bitrate))

    def set_complexity(self, complexity: int) -> None:
        """Encoder complexity 0..10."""
        self._ctl(_SET_COMPLEXITY, int(complexity))

    def set_fec(self, fec: bool, packet_loss_perc: int) -> None:
        """LBRR on/off and the expected loss (percent) that sizes it."""
        self._ctl(_SET_INBAND_FEC, int(bool(fec)))
        self._ctl(_SET_PACKET_LOSS_PERC, int(packet_loss_perc))

    @property
    def bitrate(self) -> int:
        """The bitrate libopus is targeting, bit/s."""
        return self._get(_GET_BITRATE)

    @property
    def lookahead(self) -> int:
        """Encoder look-ahead in samples: decoded audio lags the input by this much."""
        return self._get(_GET_LOOKAHEAD)

    @property
    def final_range(self) -> int:
        """Range-coder final state of the last packet (libopus's own bit-exactness check)."""
        return self._get(_GET_FINAL_RANGE) & 0xFFFFFFFF

    def encode(self, frame: np.ndarray) -> bytes:
        """Encode one frame, shape ``(frame_samples,)`` float in [-1, 1], to one packet."""
        pcm = np.ascontiguousarray(frame, dtype=np.float32)
        if pcm.shape != (self.frame_samples,):
            raise ValueError(f"frame must have shape ({self.frame_samples},), got {pcm.shape}")
        n = _LIB.opus_encode_float(
            ctypes.c_void_p(self._st), pcm.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
            self.frame_samples, self._buf, MAX_PACKET_BYTES)
        _check(n, "opus_encode_float")
        return self._buf.raw[:n]

    def encode_signal(self, x: np.ndarray) -> list[bytes]:
        """Encode a whole signal ``(n,)``, zero-padded to whole frames plus the look-ahead.

        The extra padding flushes the look-ahead, so after :meth:`OpusDecoder.decode_packets`
        and dropping ``lookahead`` samples the output lines up with ``x`` sample for sample.
        """
        x = np.asarray(x, dtype=np.float32)
        total = x.size + self.lookahead
        n_frames = -(-total // self.frame_samples)
        padded = np.zeros(n_frames * self.frame_samples, np.float32)
        padded[: x.size] = x
        return [self.encode(f) for f in padded.reshape(n_frames, self.frame_samples)]

    def close(self) -> None:
        """Free the libopus state (also done on garbage collection)."""
        if getattr(self, "_st", None):
            _LIB.opus_encoder_destroy(ctypes.c_void_p(self._st))
            self._st = None

    __del__ = close


class OpusDecoder:
    """libopus decoder, 16 kHz mono, 20 ms frames.

    Args:
        complexity: decoder complexity 0..10. libopus >= 1.5 uses deep PLC at >= 5 only when
            built with its DNN models; the bundled build may not be, and then this only
            selects classic PLC (measured in tests, not assumed).
    """

    def __init__(self, sample_rate: int = SAMPLE_RATE, complexity: int = 0) -> None:
        err = ctypes.c_int(0)
        self._st = _LIB.opus_decoder_create(sample_rate, 1, ctypes.byref(err))
        _check(err.value, "opus_decoder_create")
        if not self._st:
            raise OpusError("opus_decoder_create returned NULL")
        self.sample_rate = sample_rate
        self.frame_samples = sample_rate * FRAME_MS // 1000
        # Room for the largest Opus frame (120 ms) so odd packets cannot overflow our buffer.
        self._pcm = np.zeros(sample_rate * 120 // 1000, np.float32)
        self._size = _check(_LIB.opus_decoder_get_size(1), "opus_decoder_get_size")
        self._ctl(_SET_COMPLEXITY, int(complexity))

    def _ctl(self, request: int, value: int) -> None:
        _check(_LIB.opus_decoder_ctl(ctypes.c_void_p(self._st), ctypes.c_int(request),
                                     ctypes.c_int32(value)), f"opus_decoder_ctl({request})")

    def _decode(self, data: bytes | None, frame_size: int, fec: bool) -> np.ndarray:
        n = _LIB.opus_decode_float(
            ctypes.c_void_p(self._st), data, len(data) if data else 0,
            self._pcm.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), frame_size, int(fec))
        _check(n, "opus_decode_float")
        return self._pcm[:n].copy()

    def decode(self, packet: bytes) -> np.ndarray:
        """Decode a received packet to ``(frame_samples,)`` float32."""
        return self._decode(packet, self._pcm.size, False)

    def decode_fec(self, next_packet: bytes) -> np.ndarray:
        """Recover the *lost* frame preceding ``next_packet`` from its LBRR.

        Call before :meth:`decode` of ``next_packet``. Where the packet has no LBRR, libopus
        falls back to PLC for this frame (check :func:`packet_has_lbrr` to know which).
        """
        return self._decode(next_packet, self.frame_samples, True)

    def conceal(self) -> np.ndarray:
        """The codec's own PLC for one lost 20 ms frame (decode with no data)."""
        return self._decode(None, self.frame_samples, False)

    def snapshot(self) -> bytes:
        """A copy of the whole decoder state, for :meth:`restore`.

        libopus keeps a decoder in one contiguous block of ``opus_decoder_get_size`` bytes
        (its parts are found by offsets, pointers only reach static tables), so a byte copy
        restored into the same decoder is exactly the state at the time of the copy.
        """
        return ctypes.string_at(self._st, self._size)

    def restore(self, state: bytes) -> None:
        """Return to a :meth:`snapshot` of this decoder (undoes every call made since)."""
        if len(state) != self._size:
            raise OpusError(f"decoder snapshot of {len(state)} bytes, expected {self._size}")
        ctypes.memmove(self._st, state, self._size)

    def reset(self) -> None:
        """Reset the decoder state (OPUS_RESET_STATE)."""
        _check(_LIB.opus_decoder_ctl(ctypes.c_void_p(self._st), ctypes.c_int(_RESET_STATE)),
               "opus_decoder_ctl(RESET)")

    def close(self) -> None:
        """Free the libopus state (also done on garbage collection)."""
        if getattr(self, "_st", None):
            _LIB.opus_decoder_destroy(ctypes.c_void_p(self._st))
            self._st = None

    __del__ = close


@dataclass
class LossResult:
    """Output of :func:`simulate_loss`.

    Attributes:
        audio: decoded signal ``(n_frames * frame_samples,)`` float32, delayed by the
            encoder look-ahead relative to the input.
        kinds: ``(n_frames,)`` int8, :data:`KIND_REGULAR` / :data:`KIND_LBRR` / :data:`KIND_PLC`.
    """

    audio: np.ndarray
    kinds: np.ndarray


def simulate_loss(packets: Sequence[bytes], lost: np.ndarray, use_fec: bool = True,
                  complexity: int = 0) -> LossResult:
    """Decode a packet stream over a loss pattern (``lost[i]`` True = packet i missing).

    A lost frame whose successor arrived and carries LBRR is decoded from that LBRR when
    ``use_fec``; every other lost frame is concealed by libopus's PLC. This is the
    Opus-only baseline the DRED receiver must beat.
    """
    lost = np.asarray(lost, dtype=bool)
    if lost.shape != (len(packets),):
        raise ValueError("lost must have one flag per packet")
    dec = OpusDecoder(complexity=complexity)
    out: list[np.ndarray] = []
    kinds = np.zeros(len(packets), np.int8)
    for i, pkt in enumerate(packets):
        if not lost[i]:
            out.append(dec.decode(pkt))
            continue
        nxt = packets[i + 1] if i + 1 < len(packets) and not lost[i + 1] else None
        if use_fec and nxt is not None and packet_has_lbrr(nxt):
            out.append(dec.decode_fec(nxt))
            kinds[i] = KIND_LBRR
        else:
            out.append(dec.conceal())
            kinds[i] = KIND_PLC
    return LossResult(np.concatenate(out) if out else np.zeros(0, np.float32), kinds)


def payload_kbps(packets: Sequence[bytes], frame_ms: float = FRAME_MS) -> float:
    """Mean payload rate in kb/s (no IP/UDP/RTP headers), as the issue's CLI reports it."""
    if not packets:
        return 0.0
    return 8.0 * sum(len(p) for p in packets) / (len(packets) * frame_ms)
