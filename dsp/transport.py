"""Reading a programme for playback: position, seek and a loop region with a click-free seam.

`Transport.read(n)` returns the next n input samples (n, channels) and advances. With a loop region
[start, end) the sequence is  x[start .. end − S) · seam · x[start .. end − S) · seam …  where the
seam (S samples) crossfades linearly from the region's last S samples into the S samples just
before `start` (zeros where start < S), so the jump back to `start` continues a waveform that
was already fading in. Past the end of the programme (no loop) it returns silence and sets
`ended`. Not thread-safe: one owner (the audio worker) calls it.
"""

from __future__ import annotations

import numpy as np

SEAM_S = 0.01


class Transport:
    """Playback position over a programme x (n, channels) at fs_hz (stereo for the renderer;
    clips side by side for `dsp.clip_paths`)."""

    def __init__(self, programme: np.ndarray, fs_hz: float, seam_s: float = SEAM_S):
        self.x = np.asarray(programme, dtype=float)
        if self.x.ndim != 2 or self.x.shape[1] == 0 or len(self.x) == 0:
            raise ValueError(f"programme must be (n > 0, channels > 0), got {self.x.shape}")
        self.fs_hz = float(fs_hz)
        self.seam_len = max(1, round(seam_s * fs_hz))
        self.position = 0
        self.loop: tuple[int, int] | None = None
        self._seam: np.ndarray | None = None
        self.ended = False

    @property
    def length(self) -> int:
        return len(self.x)

    def seek(self, sample: int) -> None:
        """Go to a sample (clipped to the programme)."""
        self.position = int(np.clip(sample, 0, self.length))
        self.ended = False

    def set_loop(self, start: int | None, end: int | None = None) -> None:
        """Loop [start, end) in samples (None: no loop). A region shorter than twice the seam is
        an error; the position moves into the region if it lies after it."""
        if start is None:
            self.loop, self._seam = None, None
            return
        start, end = int(start), int(end if end is not None else self.length)
        start, end = max(0, start), min(self.length, end)
        if end - start < 2 * self.seam_len:
            raise ValueError(f"loop region {start}..{end} is shorter than"
                             f" {2 * self.seam_len} samples")
        s = self.seam_len
        before = np.zeros((s, self.x.shape[1]))
        avail = min(s, start)
        if avail:
            before[s - avail:] = self.x[start - avail:start]
        w = (np.arange(s) + 0.5)[:, None] / s
        self._seam = self.x[end - s:end] * (1.0 - w) + before * w
        self.loop = (start, end)
        if self.position >= end:
            self.position = start
        self.ended = False

    def read(self, n: int) -> np.ndarray:
        """The next n samples (n, channels)."""
        out = np.zeros((n, self.x.shape[1]))
        filled = 0
        while filled < n:
            take = self._read_some(out[filled:])
            if take == 0:
                break
            filled += take
        return out

    def _read_some(self, out: np.ndarray) -> int:
        n = len(out)
        pos = self.position
        if self.loop is None:
            take = max(0, min(n, self.length - pos))
            out[:take] = self.x[pos:pos + take]
            self.position = pos + take
            if self.position >= self.length:
                self.ended = True
            return take if take else n  # silence after the end fills the block
        start, end = self.loop
        s = self.seam_len
        if pos < start or pos >= end:
            pos = start
        if pos < end - s:
            take = min(n, end - s - pos)
            out[:take] = self.x[pos:pos + take]
        else:
            k = pos - (end - s)
            take = min(n, s - k)
            out[:take] = self._seam[k:k + take]
        pos += take
        self.position = start if pos >= end else pos
        return take
