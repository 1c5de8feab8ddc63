"""Range coding with per-symbol probability tables, a thin wrapper over ``constriction``.

``constriction`` (Rust, PyPI) provides the range coder; it quantizes each float table to a
fixed-point distribution deterministically (``perfect=False``) and guarantees every symbol a
non-zero probability, so encode/decode are bit-exact inverses given the same tables.

Our byte format: the coder's 32-bit words, big-endian, cut after the last byte needed to
decode the message (the decoder pads with zeros; the encoder checks the cut decodes
identically). This recovers most of the flush/word-alignment waste, so short DRED payloads
pay about a byte over the ideal ``-log2 p``.
"""

from __future__ import annotations

import numpy as np

try:
    import constriction
except ImportError as exc:  # pragma: no cover - declared dependency
    raise ImportError("dsp.dred.range_coder needs the 'constriction' package") from exc

_MODEL = constriction.stream.model.Categorical(perfect=False)


def _check_pmf(pmf: np.ndarray, n: int) -> np.ndarray:
    p = np.ascontiguousarray(pmf, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] != n:
        raise ValueError(f"pmf must have shape ({n}, alphabet), got {p.shape}")
    if not np.all(np.isfinite(p)) or np.any(p < 0) or np.any(p.sum(axis=1) <= 0):
        raise ValueError("pmf rows must be finite, non-negative, with positive sum")
    return p


def encode(symbols: np.ndarray, pmf: np.ndarray) -> bytes:
    """Encode symbol indices ``(n,)`` (0 <= s < alphabet) with tables ``(n, alphabet)``."""
    s = np.ascontiguousarray(symbols, dtype=np.int32).reshape(-1)
    p = _check_pmf(pmf, s.size)
    if s.size and (s.min() < 0 or s.max() >= p.shape[1]):
        raise ValueError("symbol index outside the alphabet")
    enc = constriction.stream.queue.RangeEncoder()
    if s.size:
        enc.encode(s, _MODEL, p)
    words = np.asarray(enc.get_compressed(), dtype=np.uint32)
    data = words.astype(">u4").tobytes()
    return _shorten(data, s, p)


def _shorten(data: bytes, s: np.ndarray, p: np.ndarray) -> bytes:
    """Shortest byte string that still decodes to ``s`` (the flush writes whole words).

    Every number in the coder's final interval [low, low + range) decodes to the same
    message, and the decoder pads with zeros; so we round the coded number *up* to a multiple
    of 2**k and drop the trailing zero bytes. If rounding to 2**k stays inside the interval,
    so does any smaller k: a search over k from the ideal code length, each candidate verified by
    decoding, which keeps the round trip exact whatever the coder does internally.
    """
    if not data:
        return data
    nbits = 8 * len(data)
    x = int.from_bytes(data, "big")

    def candidate(k: int) -> bytes | None:
        y = -(-x // (1 << k)) << k
        if y >> nbits:
            return None  # carried out of the buffer
        b = y.to_bytes(len(data), "big").rstrip(b"\x00")
        try:
            return b if np.array_equal(decode(b, p), s) else None
        except ValueError:  # outside the interval the coder may call the data invalid
            return None

    # The final interval is about 2**-ideal wide: start the search there, so a couple of
    # verifying decodes suffice (each is a full decode; a blind binary search needs ~7).
    ideal = float(-np.log2(p[np.arange(s.size), s] / p.sum(axis=1)).sum())
    k = int(np.clip(nbits - np.ceil(ideal) - 2, 0, nbits))
    c = candidate(k)
    if c is None:
        while k > 0 and c is None:
            k -= 1
            c = candidate(k)
        return c if c is not None else data
    while k < nbits:
        nxt = candidate(k + 1)
        if nxt is None:
            break
        c, k = nxt, k + 1
    return c


def decode(data: bytes, pmf: np.ndarray) -> np.ndarray:
    """Decode ``pmf.shape[0]`` symbol indices from ``data`` (inverse of :func:`encode`).

    Arbitrary ``data`` never crashes or reads out of bounds: it decodes to *some* valid
    indices or raises ``ValueError``.
    """
    p = _check_pmf(pmf, np.shape(pmf)[0] if np.ndim(pmf) == 2 else -1)
    n = p.shape[0]
    if n == 0:
        return np.zeros(0, np.int64)
    padded = bytes(data) + b"\x00" * (-len(data) % 4)
    words = np.frombuffer(padded, dtype=">u4").astype(np.uint32)
    try:
        dec = constriction.stream.queue.RangeDecoder(words)
        out = dec.decode(_MODEL, p)
    except Exception as exc:  # constriction raises its own errors on corrupt input
        raise ValueError(f"corrupt range-coded data: {exc}") from exc
    return np.asarray(out, dtype=np.int64)


def encoded_bits(data: bytes) -> int:
    """Size of an encoded payload in bits (whole bytes)."""
    return 8 * len(data)


def signed_to_index(symbols: np.ndarray, max_abs: int) -> np.ndarray:
    """Signed symbols -max_abs..max_abs -> table indices 0..2*max_abs."""
    return np.asarray(symbols, dtype=np.int64) + max_abs


def index_to_signed(indices: np.ndarray, max_abs: int) -> np.ndarray:
    """Table indices -> signed symbols."""
    return np.asarray(indices, dtype=np.int64) - max_abs
