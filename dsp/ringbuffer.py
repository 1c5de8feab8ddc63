"""Single-producer / single-consumer ring buffer of audio frames, without locks or Qt.

One thread writes (`write`), one thread reads (`read_into`, e.g. the audio callback). Each side
only ever assigns its own counter, after its copy is complete, and counters only grow (Python
ints do not overflow), so with CPython's atomic attribute assignment neither side can see a
half-written region. The reading side is nothing but two slice copies: safe for an audio
callback.
"""

from __future__ import annotations

import numpy as np


class RingBuffer:
    """capacity frames × channels of `dtype` (float32 by default, what PortAudio takes)."""

    def __init__(self, capacity: int, channels: int, dtype=np.float32):
        if capacity < 1 or channels < 1:
            raise ValueError(f"capacity = {capacity} and channels = {channels} must be ≥ 1")
        self.capacity = int(capacity)
        self.channels = int(channels)
        self._buf = np.zeros((self.capacity, self.channels), dtype=dtype)
        self._written = 0  # frames written since creation (producer's counter)
        self._read = 0     # frames read since creation (consumer's counter)

    @property
    def available(self) -> int:
        """Frames ready to read."""
        return self._written - self._read

    @property
    def space(self) -> int:
        """Frames that can be written without overwriting unread ones."""
        return self.capacity - (self._written - self._read)

    @property
    def frames_read(self) -> int:
        return self._read

    @property
    def frames_written(self) -> int:
        return self._written

    def write(self, x: np.ndarray) -> int:
        """Append as many frames of x (n, channels) as fit; returns how many were written."""
        n = min(len(x), self.space)
        i = self._written % self.capacity
        first = min(n, self.capacity - i)
        self._buf[i:i + first] = x[:first]
        self._buf[:n - first] = x[first:n]
        self._written += n  # publish after the copy
        return n

    def read_into(self, out: np.ndarray) -> int:
        """Copy up to len(out) frames into out; returns how many (the rest of out is left
        untouched)."""
        n = min(len(out), self._written - self._read)
        i = self._read % self.capacity
        first = min(n, self.capacity - i)
        out[:first] = self._buf[i:i + first]
        out[first:n] = self._buf[:n - first]
        self._read += n  # release after the copy
        return n

    def read(self, n: int) -> np.ndarray:
        """Up to n frames as a new array (n', channels)."""
        out = np.empty((min(n, self.available), self.channels), dtype=self._buf.dtype)
        self.read_into(out)
        return out
