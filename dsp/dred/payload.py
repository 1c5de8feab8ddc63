"""DRED payload: quantized, range-coded RDO-VAE state and latents of one packet.

Byte layout, ``FORMAT_VERSION = 1`` (big-endian):

    bytes 0..2   24-bit header, most significant bit first:
                 version (3 bits, = 1) | q0 (4) | dq (3) | qmax (4) | offset_frames (4) |
                 n_chunks - 1 (5 bits, 0..25) | reserved (1 bit, = 0)
    bytes 3..    range-coded body (:mod:`dsp.dred.range_coder`): the initial-state symbols
                 (``state_dim``, coded at level q0) then the latent symbols of each chunk
                 (``latent_dim`` each), newest chunk first, chunk i coded at level q(i).

Symbols are signed integers -15..15 (:func:`dsp.dred.laplace.dead_zone_quantize`), coded with
the quantized-Laplace tables ``(p0, r)`` of their level and dimension stored in the RDO-VAE
asset. Chunk i (0 = newest) uses ``q(i) = min(qmax, q0 + (DQ_TABLE[dq] * i + 8) // 16)``
(libopus's age coarsening). ``offset_frames`` (10 ms units) is how many feature frames before
the end of the packet's audio the newest chunk ends. An empty byte string means "no DRED".
The header rejects most malformed inputs before any range decoding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dsp.dred import range_coder
from dsp.dred.laplace import DEFAULT_MAX_ABS, dead_zone_quantize, dequantize
from dsp.dred.rdovae import MAX_CHUNKS, N_LEVELS, QuantTables, RdoVae

FORMAT_VERSION = 1
HEADER_BYTES = 3
HEADER_BITS = 8 * HEADER_BYTES
DQ_TABLE = (0, 2, 3, 4, 6, 8, 12, 16)
MAX_OFFSET_FRAMES = 15
DEFAULT_Q0 = 6
DEFAULT_DQ = 4
_MAX_Q = N_LEVELS - 1


class PayloadError(ValueError):
    """A DRED payload (or a request to build one) is malformed."""


@dataclass(frozen=True)
class DredPayload:
    """Decoded payload: header fields and integer symbols (``state`` ``(state_dim,)``,
    ``latents`` ``(n_chunks, latent_dim)`` newest first)."""

    q0: int
    dq: int
    qmax: int
    offset_frames: int
    state: np.ndarray
    latents: np.ndarray

    @property
    def n_chunks(self) -> int:
        return int(self.latents.shape[0])

    @property
    def levels(self) -> np.ndarray:
        """Quality level of each chunk ``(n_chunks,)``, newest first."""
        return quality_levels(self.q0, self.dq, self.qmax, self.n_chunks)


def _check_header(q0: int, dq: int, qmax: int, offset_frames: int, n_chunks: int) -> None:
    for v in (q0, dq, qmax, offset_frames, n_chunks):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
            raise PayloadError(f"header fields must be integers, got {v!r}")
    if not (0 <= q0 <= qmax <= _MAX_Q):
        raise PayloadError(f"need 0 <= q0 <= qmax <= {_MAX_Q}, got q0={q0}, qmax={qmax}")
    if not 0 <= dq < len(DQ_TABLE):
        raise PayloadError(f"dq must be in 0..{len(DQ_TABLE) - 1}, got {dq}")
    if not 0 <= offset_frames <= MAX_OFFSET_FRAMES:
        raise PayloadError(f"offset_frames must be in 0..{MAX_OFFSET_FRAMES}, got {offset_frames}")
    if not 0 <= n_chunks <= MAX_CHUNKS:
        raise PayloadError(f"n_chunks must be in 0..{MAX_CHUNKS}, got {n_chunks}")


def quality_levels(q0: int, dq: int, qmax: int, n_chunks: int) -> np.ndarray:
    """Level of each chunk ``(n_chunks,)`` int, newest first: coarser with age."""
    _check_header(q0, dq, qmax, 0, n_chunks)
    i = np.arange(n_chunks)
    return np.minimum(qmax, q0 + (DQ_TABLE[dq] * i + 8) // 16)


class DredCodec:
    """Pack/unpack DRED payloads with the quantizer and entropy tables of ``vae``."""

    def __init__(self, vae: RdoVae):
        self.vae = vae
        self._lat: QuantTables = vae.latent_tables
        self._st: QuantTables = vae.state_tables

    # -- encoder side ---------------------------------------------------------------------
    def quantize(self, state: np.ndarray, latents_newest_first: np.ndarray, q0: int, dq: int,
                 qmax: int = _MAX_Q) -> tuple[np.ndarray, np.ndarray]:
        """Integer symbols of a state ``(state_dim,)`` and latents ``(n, latent_dim)``."""
        s = np.asarray(state, dtype=np.float64)
        z = np.asarray(latents_newest_first, dtype=np.float64)
        if s.shape != (self.vae.state_dim,):
            raise PayloadError(f"state must have shape ({self.vae.state_dim},), got {s.shape}")
        if z.ndim != 2 or z.shape[1] != self.vae.latent_dim:
            raise PayloadError(f"latents must have shape (n_chunks, {self.vae.latent_dim}), "
                               f"got {z.shape}")
        if not (np.all(np.isfinite(s)) and np.all(np.isfinite(z))):
            raise PayloadError("state or latents contain NaN or inf")
        if z.shape[0] > MAX_CHUNKS:
            raise PayloadError(f"at most {MAX_CHUNKS} chunks, got {z.shape[0]}")
        q = quality_levels(q0, dq, qmax, z.shape[0])
        s_sym = dead_zone_quantize(s, self._st.scale[q0], self._st.dead_zone[q0])
        z_sym = dead_zone_quantize(z, self._lat.scale[q], self._lat.dead_zone[q])
        return s_sym, z_sym

    def _pmf(self, q0: int, levels: np.ndarray) -> np.ndarray:
        return np.concatenate([self._st.pmf[q0], self._lat.pmf[levels].reshape(
            -1, 2 * DEFAULT_MAX_ABS + 1)])

    def _encode(self, q0: int, dq: int, qmax: int, offset_frames: int, s_sym: np.ndarray,
                z_sym: np.ndarray) -> bytes:
        n = z_sym.shape[0]
        header = ((FORMAT_VERSION << 21) | (q0 << 17) | (dq << 14) | (qmax << 10)
                  | (offset_frames << 6) | ((n - 1) << 1))
        symbols = np.concatenate([s_sym, z_sym.reshape(-1)]) + DEFAULT_MAX_ABS
        body = range_coder.encode(symbols, self._pmf(q0, quality_levels(q0, dq, qmax, n)))
        return header.to_bytes(HEADER_BYTES, "big") + body

    def pack(self, state: np.ndarray, latents_newest_first: np.ndarray, q0: int, dq: int,
             qmax: int = _MAX_Q, offset_frames: int = 0, max_bits: int | None = None) -> bytes:
        """Quantize and code one payload; with ``max_bits``, keep the most (newest) chunks
        whose payload fits in ``max_bits`` bits. Returns ``b""`` when no chunk is kept."""
        _check_header(q0, dq, qmax, offset_frames, 0)
        q0, dq, qmax, offset_frames = int(q0), int(dq), int(qmax), int(offset_frames)
        s_sym, z_sym = self.quantize(state, latents_newest_first, q0, dq, qmax)
        n = z_sym.shape[0]
        if n == 0:
            return b""
        if max_bits is None:
            return self._encode(q0, dq, qmax, offset_frames, s_sym, z_sym)
        # start from the ideal-cost estimate (a lower bound up to rounding), then shrink
        q = quality_levels(q0, dq, qmax, n)
        pmf = self._pmf(q0, q)
        sym = np.concatenate([s_sym, z_sym.reshape(-1)]) + DEFAULT_MAX_ABS
        cost = -np.log2(pmf[np.arange(sym.size), sym])
        sd, ld = self.vae.state_dim, self.vae.latent_dim
        ideal = HEADER_BITS + cost[:sd].sum() + np.cumsum(cost[sd:].reshape(n, ld).sum(axis=1))
        n = int(np.searchsorted(ideal, max_bits, side="right"))
        while n > 0:
            data = self._encode(q0, dq, qmax, offset_frames, s_sym, z_sym[:n])
            if 8 * len(data) <= max_bits:
                return data
            n -= 1
        return b""

    # -- decoder side ---------------------------------------------------------------------
    def unpack(self, data: bytes) -> DredPayload:
        """Parse and range-decode a payload; :class:`PayloadError` on anything malformed."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise PayloadError(f"payload must be bytes, got {type(data).__name__}")
        data = bytes(data)
        if len(data) <= HEADER_BYTES:
            raise PayloadError(f"payload of {len(data)} bytes is too short")
        h = int.from_bytes(data[:HEADER_BYTES], "big")
        version = h >> 21
        if version != FORMAT_VERSION:
            raise PayloadError(f"unsupported DRED payload version {version}")
        if h & 1:
            raise PayloadError("reserved header bit is set")
        q0, dq, qmax = (h >> 17) & 15, (h >> 14) & 7, (h >> 10) & 15
        offset, n = (h >> 6) & 15, ((h >> 1) & 31) + 1
        try:
            _check_header(q0, dq, qmax, offset, n)
        except PayloadError as exc:
            raise PayloadError(f"bad DRED header: {exc}") from exc
        levels = quality_levels(q0, dq, qmax, n)
        try:
            idx = range_coder.decode(data[HEADER_BYTES:], self._pmf(q0, levels))
        except ValueError as exc:
            raise PayloadError(f"corrupt DRED body: {exc}") from exc
        sym = idx - DEFAULT_MAX_ABS
        sd = self.vae.state_dim
        return DredPayload(q0, dq, qmax, offset, sym[:sd].copy(),
                           sym[sd:].reshape(n, self.vae.latent_dim))

    def dequantize(self, payload: DredPayload) -> tuple[np.ndarray, np.ndarray]:
        """Real-valued state ``(state_dim,)`` and latents ``(n_chunks, latent_dim)``."""
        _check_header(payload.q0, payload.dq, payload.qmax, payload.offset_frames,
                      payload.n_chunks)
        s, z = np.asarray(payload.state), np.asarray(payload.latents)
        if s.shape != (self.vae.state_dim,) or z.ndim != 2 or z.shape[1] != self.vae.latent_dim:
            raise PayloadError("payload symbols do not match the model's dimensions")
        if np.any(np.abs(s) > DEFAULT_MAX_ABS) or np.any(np.abs(z) > DEFAULT_MAX_ABS):
            raise PayloadError(f"payload symbols outside -{DEFAULT_MAX_ABS}..{DEFAULT_MAX_ABS}")
        return (dequantize(s, self._st.scale[payload.q0]),
                dequantize(z, self._lat.scale[payload.levels]))

    def features(self, payload: DredPayload) -> np.ndarray:
        """Decoded features ``(4 * n_chunks, 20)``, time order (last 4 rows = newest chunk)."""
        s, z = self.dequantize(payload)
        return self.vae.decode(s, z)

    # -- rate model -----------------------------------------------------------------------
    def chunk_bits(self) -> np.ndarray:
        """Mean bits per 40 ms chunk at each level ``(16,)`` (training-set statistics)."""
        return self._lat.mean_bits.copy()

    def expected_bits(self, q0: int, dq: int, n_chunks: int, qmax: int = _MAX_Q) -> float:
        """Expected payload size (bits): header + state at q0 + chunks at their levels."""
        q = quality_levels(q0, dq, qmax, n_chunks)
        return float(HEADER_BITS + self._st.mean_bits[q0] + self._lat.mean_bits[q].sum())

    def choose_quality(self, budget_bits: float, n_chunks: int, dq: int) -> int:
        """Finest q0 whose expected payload fits ``budget_bits``; the coarsest level (15) when
        none does (the caller then trims chunks with ``pack(max_bits=...)``)."""
        for q0 in range(N_LEVELS):
            if self.expected_bits(q0, dq, n_chunks) <= budget_bits:
                return q0
        return _MAX_Q
