"""Uniformly partitioned FFT convolution (overlap-save), MIMO, with crossfaded filter swaps.

A filter bank fir (n_in, n_out, n_taps) is cut into P = ceil(n_taps / B) partitions of the block
length B; each call to `process` takes one block (B, n_in) and returns (B, n_out) with no latency
beyond the block itself:

    y_o = Σ_i fir[i, o] ∗ x_i.

Per block: one real FFT (length 2B) per input, one batched complex matrix product over the
frequency-domain delay line (FDL), one inverse FFT per output. The FDL is stored twice over
(2P slots) so that the P newest input spectra are always one contiguous window: the product is a
single `matmul` of (K, n_out, P·n_in) filter spectra with a (K, P·n_in) strided view, no copies.
That is Gardner/Wefers' UPOLS (Wefers, "Partitioned convolution algorithms for real-time
auralization", 2015, §4.2).

`set_filters` swaps filters while running: the spectra are prepared in the caller's thread and
the swap is picked up at the next block, where the old and the new filters both run over the
same FDL for `crossfade` samples and the outputs are mixed with a raised-cosine ramp. Because
the FDL holds the true input history, the new filter's output is exact from its first sample,
so the crossfade is a pure mix of two correct signals (no click, no transient).
"""

from __future__ import annotations

import numpy as np

BLOCK_RANGE = (16, 8192)


def fade_ramp(n: int, start: int, total: int) -> np.ndarray:
    """Raised-cosine ramp values (n,) at positions start .. start + n − 1 of a fade lasting
    `total` samples (0 → 1; 1 after the end)."""
    pos = (np.arange(start, start + n) + 1.0) / max(total, 1)
    return np.where(pos >= 1.0, 1.0, 0.5 - 0.5 * np.cos(np.pi * np.clip(pos, 0.0, 1.0)))


class PartitionedConvolver:
    """Streaming MIMO convolution of blocks of `block` samples.

    fir: (n_in, n_out, n_taps) float; block: B in 16 .. 8192 (64 .. 1024 for live use);
    crossfade: length in samples of a filter-swap crossfade (≥ 1; a fade spans as many blocks
    as it needs); max_taps: input history to keep for later, longer filters (a swap to a filter
    longer than the history kept is exact only once the history has filled, i.e. after
    max(new taps − old history, 0) samples).
    """

    def __init__(self, fir: np.ndarray, block: int, crossfade: int = 1024,
                 max_taps: int = 0):
        lo, hi = BLOCK_RANGE
        if not isinstance(block, (int, np.integer)) or not lo <= block <= hi:
            raise ValueError(f"block = {block} must be an integer in {BLOCK_RANGE[0]} .. "
                             f"{BLOCK_RANGE[1]} samples")
        self.block = int(block)
        self.crossfade = max(1, int(crossfade))
        fir = np.asarray(fir, dtype=float)
        if fir.ndim != 3 or fir.shape[2] < 1:
            raise ValueError(f"fir must be (n_in, n_out, n_taps), got {fir.shape}")
        self.n_in, self.n_out = fir.shape[:2]
        self._spec, self._parts = self._spectra(fir)
        self.n_taps = fir.shape[2]
        self._pending: tuple[np.ndarray, int, int] | None = None  # (spectra, P, taps)
        self._fade: tuple[np.ndarray, int, int, int] | None = None  # (spectra, done, P, taps)
        self._capacity = max(self._parts, -(-int(max_taps) // self.block))
        self.reset()

    # -- set-up ---------------------------------------------------------------------------

    def _spectra(self, fir: np.ndarray) -> tuple[np.ndarray, int]:
        """Filter spectra (K, n_out, P·n_in), column j = p·n_in + i, and P."""
        b = self.block
        n_in, n_out, taps = fir.shape
        parts = -(-taps // b)
        padded = np.zeros((parts * b, n_in, n_out))
        padded[:taps] = fir.transpose(2, 0, 1)
        spec = np.fft.rfft(padded.reshape(parts, b, n_in, n_out), 2 * b, axis=1)  # P,K,I,O
        return np.ascontiguousarray(spec.transpose(1, 3, 0, 2).reshape(b + 1, n_out,
                                                                       parts * n_in)), parts

    def reset(self) -> None:
        """Zero the input history (and drop any fade in progress)."""
        k = self.block + 1
        self._fdl = np.zeros((k, 2 * self._capacity, self.n_in), dtype=complex)
        self._slot = 0
        self._time = np.zeros((self.n_in, 2 * self.block))
        if self._fade is not None:  # finish the swap at once: there is no signal to fade
            self._spec, _, self._parts, self.n_taps = self._fade
            self._fade = None

    def set_filters(self, fir: np.ndarray) -> None:
        """Swap to new filters (same n_in, n_out; any length) with a crossfade.

        Thread-safe for one caller against the audio thread: the spectra are computed here, the
        audio thread picks them up at its next block. A newer call replaces a pending one.
        """
        fir = np.asarray(fir, dtype=float)
        if fir.ndim != 3 or fir.shape[:2] != (self.n_in, self.n_out):
            raise ValueError(f"new filters must be ({self.n_in}, {self.n_out}, n_taps), got "
                             f"{fir.shape}")
        spec, parts = self._spectra(fir)
        self._pending = (spec, parts, fir.shape[2])  # one reference assignment: atomic

    @property
    def fading(self) -> bool:
        """True while a filter crossfade is in progress (or pending)."""
        return self._fade is not None or self._pending is not None

    def _grow(self, parts: int) -> None:
        """Make the FDL hold `parts` partitions, keeping the history it has."""
        if parts <= self._capacity:
            return
        old, cap, s = self._fdl, self._capacity, self._slot
        window = old[:, s:s + cap]  # newest first
        self._capacity = parts
        self._fdl = np.zeros((self.block + 1, 2 * parts, self.n_in), dtype=complex)
        self._fdl[:, :cap] = window
        self._fdl[:, parts:parts + cap] = window
        self._slot = 0

    # -- processing -----------------------------------------------------------------------

    def _apply(self, spec: np.ndarray, parts: int) -> np.ndarray:
        """Time-domain output (n_out, B) of filter spectra over the current FDL window."""
        window = self._fdl[:, self._slot:self._slot + parts].reshape(self.block + 1, -1)
        y = np.matmul(spec, window[:, :, None])[:, :, 0]  # (K, n_out)
        return np.fft.irfft(y.T, 2 * self.block, axis=-1)[:, self.block:]

    def process(self, x: np.ndarray) -> np.ndarray:
        """Convolve one block x (B, n_in) → (B, n_out) float64."""
        b = self.block
        x = np.asarray(x, dtype=float)
        if x.shape != (b, self.n_in):
            raise ValueError(f"block must be ({b}, {self.n_in}), got {x.shape}")
        pending = self._pending
        if pending is not None and self._fade is None:
            self._pending = None
            self._grow(pending[1])
            self._fade = (pending[0], 0, pending[1], pending[2])
        # Shift the time buffer and take the spectrum of the last 2B samples (overlap-save).
        self._time[:, :b] = self._time[:, b:]
        self._time[:, b:] = x.T
        spec_x = np.fft.rfft(self._time, axis=-1).T  # (K, n_in)
        cap = self._capacity
        self._slot = (self._slot - 1) % cap
        self._fdl[:, self._slot] = spec_x
        self._fdl[:, self._slot + cap] = spec_x
        y = self._apply(self._spec, self._parts)
        if self._fade is not None:
            new_spec, done, new_parts, new_taps = self._fade
            w = fade_ramp(b, done, self.crossfade)
            y_new = self._apply(new_spec, new_parts)
            y = y + w * (y_new - y)
            done += b
            if done >= self.crossfade:
                self._spec, self._parts, self.n_taps = new_spec, new_parts, new_taps
                self._fade = None
            else:
                self._fade = (new_spec, done, new_parts, new_taps)
        return y.T


class DelayLine:
    """Integer delays per channel for streaming blocks of any length.

    delays: (n_ch,) samples ≥ 0. `process(x (n, n_ch))` returns x delayed per channel.
    """

    def __init__(self, delays: np.ndarray | list[int]):
        self.delays = np.asarray(delays, dtype=int).reshape(-1)
        if np.any(self.delays < 0):
            raise ValueError(f"delays must be ≥ 0, got {self.delays.tolist()}")
        self._max = int(self.delays.max(initial=0))
        self.reset()

    def reset(self) -> None:
        self._buf = np.zeros((self._max, self.delays.size))

    def process(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if self._max == 0:
            return x.copy()
        data = np.concatenate([self._buf, x])  # (max + n, ch): time runs down
        n = len(x)
        start = self._max - self.delays  # where each channel's output begins
        cols = np.arange(self.delays.size)
        rows = start[None, :] + np.arange(n)[:, None]
        out = data[rows, cols[None, :]]
        self._buf = data[n:]
        return out


def convolve_offline(x: np.ndarray, fir: np.ndarray) -> np.ndarray:
    """Reference MIMO convolution: x (n, n_in), fir (n_in, n_out, T) → (n + T − 1, n_out)."""
    from scipy.signal import oaconvolve

    x = np.asarray(x, dtype=float)
    fir = np.asarray(fir, dtype=float)
    y = oaconvolve(x.T[:, None, :], fir, axes=-1)  # (I, O, n + T − 1)
    return y.sum(axis=0).T


def run_blocks(conv: PartitionedConvolver, x: np.ndarray, n_out: int | None = None) -> np.ndarray:
    """Stream x (n, n_in) through `conv` block by block, zero-padding the end; returns the
    first n_out samples (default n + n_taps − 1: the whole convolution)."""
    b = conv.block
    n_total = len(x) + conv.n_taps - 1 if n_out is None else n_out
    n_blocks = -(-n_total // b)
    padded = np.zeros((n_blocks * b, conv.n_in))
    padded[:min(len(x), len(padded))] = x[:len(padded)]
    out = np.empty((n_blocks * b, conv.n_out))
    for k in range(n_blocks):
        out[k * b:(k + 1) * b] = conv.process(padded[k * b:(k + 1) * b])
    return out[:n_total]
