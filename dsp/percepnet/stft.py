"""Analysis/synthesis: 20 ms power-complementary (Vorbis) window, 10 ms hop.

Frame ``k`` covers input samples ``[k·H − H, k·H + H)`` (``H`` = hop = fs/100 samples, window
``N = 2H``), so frame 0 starts with H zeros. Each frame is windowed by ``w`` before the FFT and
again after the inverse FFT; because ``w[n]² + w[n + H]² = 1`` (power complementary), overlap-add
of unmodified frames reproduces the input exactly (perfect reconstruction), with sample
``k·H − 1`` final once frame k has been added: the overlap costs H samples (10 ms) of latency.
Bins are ``fs/N`` = 50 Hz apart at every sample rate.
"""

from __future__ import annotations

import numpy as np

FRAME_S = 0.010
"""Hop in seconds (10 ms)."""
BLOCK_FRAMES = 50
"""Frames per processing block of the offline paths (0.5 s of audio): each block is a few
milliseconds of work, so progress moves and a cancel is noticed between blocks."""


def frame_blocks(n_frames: int, size: int = BLOCK_FRAMES) -> list[tuple[int, int]]:
    """(first, end) frame ranges of consecutive blocks covering 0 … n_frames − 1."""
    return [(a, min(a + size, n_frames)) for a in range(0, n_frames, size)]


def segment(x: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Samples lo … hi − 1 of x (samples,) as float64, zero where the range leaves x (lo may be
    negative): the zero padding every frame layout here assumes around the signal."""
    out = np.zeros(hi - lo)
    a, b = max(lo, 0), min(hi, len(x))
    if b > a:
        out[a - lo:b - lo] = x[a:b]
    return out


def hop_size(fs_hz: int) -> int:
    """Hop H in samples (10 ms); the window is 2H. ValueError unless fs is a multiple of 100."""
    if fs_hz % 100:
        raise ValueError(f"sample rate {fs_hz} Hz is not a multiple of 100 Hz")
    return fs_hz // 100


def vorbis_window(n: int) -> np.ndarray:
    """Vorbis power-complementary window of length n (even): ``sin(π/2·sin²(π(i+½)/n))``.

    Returns float64 (n,). ``w[i]² + w[i + n/2]² = 1`` for i < n/2.
    """
    i = np.arange(n)
    return np.sin(0.5 * np.pi * np.sin(np.pi * (i + 0.5) / n) ** 2)


def frame_signal(x: np.ndarray, hop: int, n_frames: int | None = None,
                 first: int = 0) -> np.ndarray:
    """Frames first … first + n_frames − 1 of x (samples,) for the layout above:
    (n_frames, 2·hop), zero outside the signal.

    By default ``n_frames = ceil(len(x)/hop) + 1`` (from frame 0) so that every sample is
    covered twice.
    """
    x = np.asarray(x, dtype=np.float64)
    if n_frames is None:
        n_frames = -(-len(x) // hop) + 1 - first
    pad = segment(x, (first - 1) * hop, (first + n_frames) * hop)
    idx = np.arange(n_frames)[:, None] * hop + np.arange(2 * hop)[None, :]
    return pad[idx]


def analyze(x: np.ndarray, fs_hz: int, n_frames: int | None = None, first: int = 0) -> np.ndarray:
    """Windowed rfft of frames first … first + n_frames − 1: complex (n_frames, H + 1) with
    H = hop (bins 50 Hz apart). Every frame is computed alone, so a block of frames equals the
    same rows of the whole analysis."""
    hop = hop_size(fs_hz)
    w = vorbis_window(2 * hop)
    return np.fft.rfft(frame_signal(x, hop, n_frames, first) * w, axis=-1)


def synthesize(spec: np.ndarray, fs_hz: int, n_samples: int) -> np.ndarray:
    """Inverse of `analyze`: windowed irfft and overlap-add, aligned with the input.

    spec: complex (n_frames, H + 1). Returns float64 (n_samples,) where sample n corresponds to
    input sample n (the frame layout's H-sample lead-in is removed).
    """
    hop = hop_size(fs_hz)
    out = np.zeros((spec.shape[0] + 1) * hop)
    overlap_add(out, spec, fs_hz)
    return trim(out, fs_hz, n_samples)


def overlap_add(out: np.ndarray, spec: np.ndarray, fs_hz: int, first: int = 0) -> None:
    """Add the windowed irfft of frames first … first + len(spec) − 1 (complex (frames, H + 1))
    into out, the padded timeline ((n_frames + 1)·H,) that `trim` turns into the signal. Adding
    the blocks of a spectrum in order gives exactly `synthesize`'s sum."""
    hop = hop_size(fs_hz)
    frames = np.fft.irfft(spec, n=2 * hop, axis=-1) * vorbis_window(2 * hop)
    a, b = first * hop, (first + frames.shape[0]) * hop
    # first halves land on [k·H, k·H + H), second halves on [k·H + H, k·H + 2H) (padded index)
    out[a:b] += frames[:, :hop].reshape(-1)
    out[a + hop:b + hop] += frames[:, hop:].reshape(-1)


def trim(out: np.ndarray, fs_hz: int, n_samples: int) -> np.ndarray:
    """The signal (n_samples,) of an overlap-add timeline: the H-sample lead-in removed, cut or
    zero padded to n_samples."""
    y = out[hop_size(fs_hz):]
    if len(y) < n_samples:
        y = np.concatenate([y, np.zeros(n_samples - len(y))])
    return y[:n_samples]
