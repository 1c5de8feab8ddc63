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


def frame_signal(x: np.ndarray, hop: int, n_frames: int | None = None) -> np.ndarray:
    """Frames of x (samples,) for the layout above: (n_frames, 2·hop), zero padded on both ends.

    By default ``n_frames = ceil(len(x)/hop) + 1`` so that every sample is covered twice.
    """
    x = np.asarray(x, dtype=np.float64)
    if n_frames is None:
        n_frames = -(-len(x) // hop) + 1
    total = (n_frames + 1) * hop
    pad = np.zeros(total)
    m = min(len(x), total - hop)
    pad[hop:hop + m] = x[:m]
    idx = np.arange(n_frames)[:, None] * hop + np.arange(2 * hop)[None, :]
    return pad[idx]


def analyze(x: np.ndarray, fs_hz: int, n_frames: int | None = None) -> np.ndarray:
    """Windowed rfft of every frame: complex (n_frames, H + 1) with H = hop (bins 50 Hz apart)."""
    hop = hop_size(fs_hz)
    w = vorbis_window(2 * hop)
    return np.fft.rfft(frame_signal(x, hop, n_frames) * w, axis=-1)


def synthesize(spec: np.ndarray, fs_hz: int, n_samples: int) -> np.ndarray:
    """Inverse of `analyze`: windowed irfft and overlap-add, aligned with the input.

    spec: complex (n_frames, H + 1). Returns float64 (n_samples,) where sample n corresponds to
    input sample n (the frame layout's H-sample lead-in is removed).
    """
    hop = hop_size(fs_hz)
    w = vorbis_window(2 * hop)
    frames = np.fft.irfft(spec, n=2 * hop, axis=-1) * w
    n_frames = frames.shape[0]
    out = np.zeros((n_frames + 1) * hop)
    # first halves land on [k·H, k·H + H), second halves on [k·H + H, k·H + 2H) (padded index)
    out[: n_frames * hop] += frames[:, :hop].reshape(-1)
    out[hop: (n_frames + 1) * hop] += frames[:, hop:].reshape(-1)
    y = out[hop:]
    if len(y) < n_samples:
        y = np.concatenate([y, np.zeros(n_samples - len(y))])
    return y[:n_samples]
