"""Spectra for display and analysis: the magnitude response of impulse responses, and the one
spectrogram every plot draws (a programme on log-spaced rows, speech on linear ones).

`spectrogram` averages the power of at most `frames_per_column` evenly spaced FFT frames in
each of at most `max_columns` time columns (a long file is sampled, not read in full), of the
mid signal (the mean of the channels); on log-spaced rows it keeps the largest bin of each row
(a tone reads its level whatever the row's width; broadband noise reads a little high in wide
rows, which is fine for a picture). Levels are dB re a full-scale sine (a sine of amplitude a
reads 20·log10(a) at its frequency, up to 1.5 dB less when it falls between two FFT bins),
floored at `FLOOR_DB`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FLOOR_DB = -120.0


@dataclass(frozen=True)
class Spectrogram:
    """times_s (T,): column centres; freqs_hz (F,): row centres; level_db (F, T); edges_hz
    (F + 1,): row edges (log-spaced rows, or the FFT bins ± half a bin)."""

    times_s: np.ndarray
    freqs_hz: np.ndarray
    edges_hz: np.ndarray
    level_db: np.ndarray


def power_db(power: np.ndarray) -> np.ndarray:
    """10·log10 of a power, floored at FLOOR_DB."""
    with np.errstate(divide="ignore"):
        return np.maximum(10.0 * np.log10(np.maximum(power, 1e-300)), FLOOR_DB)


def magnitude_db(ir: np.ndarray, fs_hz: float, n_fft: int | None = None,
                 floor_db: float = -240.0) -> tuple[np.ndarray, np.ndarray]:
    """Magnitude response of an IR.

    ir: (..., n_taps); n_fft: FFT length (default: the next power of two ≥ n_taps, at least
    4096, for a smooth curve). Returns (f, level): f (F,) in Hz without the DC bin (so it plots
    on a log axis) and level (..., F) = 20·log10|H| in dB, floored at `floor_db`.
    """
    ir = np.asarray(ir, dtype=float)
    n = n_fft or max(4096, 1 << int(np.ceil(np.log2(max(ir.shape[-1], 1)))))
    spectrum = np.fft.rfft(ir, n, axis=-1)
    f = np.fft.rfftfreq(n, 1.0 / fs_hz)
    level = 20.0 * np.log10(np.maximum(np.abs(spectrum), 10.0 ** (floor_db / 20.0)))
    return f[1:], level[..., 1:]


def spectrogram(x: np.ndarray, fs_hz: float, n_fft: int = 2048, max_columns: int = 600,
                frames_per_column: int = 4, n_rows: int | None = 160, f_min_hz: float = 30.0,
                state=None) -> Spectrogram:
    """Spectrogram of the mid signal of x (n, channels) (or of x (n,)) for display (see the
    module docstring). n_rows: log-spaced rows from f_min_hz to fs/2, each the largest power of
    the FFT bins inside it or the bin nearest its centre where a row holds none; None: one row
    per FFT bin. state: sim.task.TaskState (progress) or None."""
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
    if n_rows is None:
        rows, centres = power, f
        edges = np.append(f - 0.5 * fs_hz / n_fft, f[-1] + 0.5 * fs_hz / n_fft)
    else:
        rows, centres, edges = _log_rows(power, f, fs_hz, n_fft, n_rows, f_min_hz)
    times = (np.arange(n_cols) + 0.5) * span / fs_hz
    if state is not None:
        state.progress(1.0, "spectrogram")
    return Spectrogram(times_s=times, freqs_hz=centres, edges_hz=edges, level_db=power_db(rows))


def _log_rows(power: np.ndarray, f: np.ndarray, fs_hz: float, n_fft: int, n_rows: int,
              f_min_hz: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Power (bins, T) onto log-spaced rows: (rows (n_rows, T), centres, edges)."""
    edges = np.geomspace(f_min_hz, fs_hz / 2.0, n_rows + 1)
    # Largest bin in [edge_i, edge_i+1); rows holding no bin take the bin nearest their centre.
    lo_i = np.searchsorted(f, edges[:-1], side="left")
    hi_i = np.searchsorted(f, edges[1:], side="left")
    centres = np.sqrt(edges[:-1] * edges[1:])
    nearest = np.clip(np.round(centres / (fs_hz / n_fft)).astype(int), 0, f.size - 1)
    rows = power[nearest]
    for i in np.flatnonzero(hi_i > lo_i):
        rows[i] = power[lo_i[i]:hi_i[i]].max(axis=0)
    return rows, centres, edges


SPEECH_FRAME_S = 0.02
"""Frame length of `speech_spectrogram` (frames every half of it)."""
SPEECH_MAX_COLUMNS = 3000


def speech_spectrogram(x: np.ndarray, fs_hz: int, state=None) -> Spectrogram:
    """Speech at a glance: 20 ms frames every 10 ms (sampled once the file is longer than
    `SPEECH_MAX_COLUMNS` of them), one row per FFT bin (linear frequency). state: as in
    `spectrogram`."""
    return spectrogram(x, fs_hz, n_fft=2 * round(SPEECH_FRAME_S / 2 * fs_hz),
                       max_columns=SPEECH_MAX_COLUMNS, frames_per_column=1, n_rows=None,
                       state=state)
