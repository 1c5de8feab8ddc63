"""The upmix's L, R, C levels of a programme over time, for display (the Renderer panel's level
view; its spectrogram view draws `dsp.spectrum.spectrogram`).

`lrc_levels` runs the streaming `Upmixer` (the very upmix the audition plays, same parameters)
over the programme chunk by chunk and keeps the RMS of L, R and C per window, so its cost is
bounded whatever the file's length (memory stays a few windows; about 0.7 s of work per minute
of 48 kHz stereo on one core of the development machine); `state` reports progress and
cancels. Levels are dBFS: RMS re a full-scale square wave (an RMS of 1 is 0 dB), floored at
`dsp.spectrum.FLOOR_DB`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dsp.spectrum import power_db
from dsp.upmix import Upmixer, UpmixParams


@dataclass(frozen=True)
class LevelTrack:
    """times_s (T,): centre of each window; levels_db (3, T): RMS dBFS of L, R, C (upmix
    output, latency removed) per window; window_s: window length."""

    times_s: np.ndarray
    levels_db: np.ndarray
    window_s: float


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
    return LevelTrack(times_s=centres / fs_hz, levels_db=power_db(power), window_s=win / fs_hz)
