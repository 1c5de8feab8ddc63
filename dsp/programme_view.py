"""Overviews of a programme for display: the upmix's L, R, C levels over time and a
spectrogram on a logarithmic frequency axis.

Both are for drawing a whole file at a glance (the Renderer panel's level and spectrogram
views), so their cost is bounded whatever the file's length:

- `lrc_levels` runs the streaming `Upmixer` (the very upmix the audition plays, same
  parameters) over the programme chunk by chunk and keeps the RMS of L, R and C per window
  (memory stays a few windows; about 0.7 s of work per minute of 48 kHz stereo on one core
  of the development machine); `state` reports progress and cancels;
- `spectrogram` averages the power of at most `frames_per_column` evenly spaced FFT frames in
  each of at most `max_columns` time columns (a long file is sampled, not read in full), of the
  mid signal (L + R)/2, then keeps the largest bin of each log-spaced frequency row (a tone
  reads its level whatever the row's width; broadband noise reads a little high in wide rows,
  which is fine for a picture).

Levels are dBFS: RMS re a full-scale square wave (an RMS of 1 is 0 dB) for `lrc_levels`, and
for `spectrogram` dB re a full-scale sine (a sine of amplitude a reads 20·log10(a) at its
frequency's row, up to 1.5 dB less when it falls between two FFT bins).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dsp.upmix import Upmixer, UpmixParams

FLOOR_DB = -120.0


@dataclass(frozen=True)
class LevelTrack:
    """times_s (T,): centre of each window; levels_db (3, T): RMS dBFS of L, R, C (upmix
    output, latency removed) per window; window_s: window length."""

    times_s: np.ndarray
    levels_db: np.ndarray
    window_s: float


@dataclass(frozen=True)
class Spectrogram:
    """times_s (T,): column centres; freqs_hz (F,): row centres (log-spaced); level_db (F, T);
    edges_hz (F + 1,): row edges."""

    times_s: np.ndarray
    freqs_hz: np.ndarray
    edges_hz: np.ndarray
    level_db: np.ndarray


def _db(power: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.maximum(10.0 * np.log10(np.maximum(power, 1e-300)), FLOOR_DB)


def lrc_levels(x: np.ndarray, fs_hz: float, params: UpmixParams | None = None,
               window_s: float = 0.05, chunk_windows: int = 40, state=None) -> LevelTrack:
    """RMS levels of the upmix's L, R, C of x (n, 2) per window of window_s seconds (the last
    window may be shorter). state: sim.task.TaskState (progress, cancel) or None."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"programme must be (n, 2), got {x.shape}")
    up = Upmixer(fs_hz, params or UpmixParams())
    n = len(x)
    win = max(1, round(window_s * fs_hz))
    n_win = -(-n // win)
    power = np.zeros((3, n_win))
    lat = up.latency
    chunk = win * max(1, int(chunk_windows))
    # Output sample k + latency belongs to input sample k: feed the programme, then `latency`
    # zeros, and drop the first `latency` outputs.
    total = n + lat
    done = 0      # input samples fed (programme and the flush zeros)
    kept = 0      # aligned output samples accumulated so far
    skip = lat
    acc = np.zeros((0, 3))
    while done < total:
        take = min(chunk, total - done)
        block = np.zeros((take, 2))
        if done < n:
            m = min(take, n - done)
            block[:m] = x[done:done + m]
        done += take
        y = up.process(block)
        if skip:
            drop = min(skip, len(y))
            y, skip = y[drop:], skip - drop
        acc = np.concatenate([acc, y]) if len(acc) else y
        full = len(acc) // win
        if full:
            w0 = kept // win
            seg = acc[:full * win].reshape(full, win, 3)
            power[:, w0:w0 + full] = np.mean(seg * seg, axis=1).T
            kept += full * win
            acc = acc[full * win:]
        if state is not None:
            state.progress(done / total, "L/R/C levels")
    if len(acc) and kept < n:
        rest = acc[:n - kept]
        power[:, kept // win] = np.mean(rest * rest, axis=0)
    centres = (np.arange(n_win) * win + 0.5 * np.minimum(win, n - np.arange(n_win) * win))
    return LevelTrack(times_s=centres / fs_hz, levels_db=_db(power), window_s=win / fs_hz)


def spectrogram(x: np.ndarray, fs_hz: float, n_fft: int = 2048, max_columns: int = 600,
                frames_per_column: int = 4, n_rows: int = 160, f_min_hz: float = 30.0,
                state=None) -> Spectrogram:
    """Spectrogram of the mid signal of x (n, 2) (or of x (n,)) for display (see the module
    docstring). Rows are log-spaced from f_min_hz to fs/2; each row is the largest power of the
    FFT bins inside it, or the bin nearest its centre where a row holds none."""
    x = np.asarray(x, dtype=float)
    mid = x if x.ndim == 1 else x.mean(axis=1)
    n = len(mid)
    if n == 0:
        raise ValueError("empty programme")
    if n < n_fft:
        mid = np.concatenate([mid, np.zeros(n_fft - n)])
    n_cols = int(min(max_columns, max(1, -(-n // (n_fft // 2)))))
    span = n / n_cols
    window = np.hanning(n_fft + 2)[1:-1]  # no zero end points
    # |X|² · 4 / (Σw)² gives a sine of amplitude a: a² at its bin (one-sided, window gain).
    scale = 4.0 / np.sum(window) ** 2
    k = int(max(1, frames_per_column))
    last_start = len(mid) - n_fft
    power = np.empty((n_fft // 2 + 1, n_cols))
    for c in range(n_cols):
        lo = c * span
        starts = lo + (np.arange(k) + 0.5) * span / k - n_fft / 2
        starts = np.clip(np.round(starts).astype(int), 0, last_start)
        frames = mid[starts[:, None] + np.arange(n_fft)[None, :]] * window
        spec = np.fft.rfft(frames, axis=-1)
        power[:, c] = np.mean(spec.real ** 2 + spec.imag ** 2, axis=0) * scale
        if state is not None and c % 50 == 0:
            state.progress(c / n_cols, "spectrogram")
    f = np.fft.rfftfreq(n_fft, 1.0 / fs_hz)
    edges = np.geomspace(f_min_hz, fs_hz / 2.0, n_rows + 1)
    # Largest bin in [edge_i, edge_i+1); rows holding no bin take the bin nearest their centre.
    lo_i = np.searchsorted(f, edges[:-1], side="left")
    hi_i = np.searchsorted(f, edges[1:], side="left")
    centres = np.sqrt(edges[:-1] * edges[1:])
    nearest = np.clip(np.round(centres / (fs_hz / n_fft)).astype(int), 0, f.size - 1)
    rows = power[nearest]
    for i in np.flatnonzero(hi_i > lo_i):
        rows[i] = power[lo_i[i]:hi_i[i]].max(axis=0)
    times = (np.arange(n_cols) + 0.5) * span / fs_hz
    if state is not None:
        state.progress(1.0, "spectrogram")
    return Spectrogram(times_s=times, freqs_hz=centres, edges_hz=edges, level_db=_db(rows))
