"""A growing 1-D array addressed by absolute position, of which only a recent window is stored.

:class:`SlidingArray` stands in for the receiver's decoded timeline, labels and packets in a
stream (:mod:`dsp.dred.receiver_stream`): the decoding code indexes it as it indexes a whole
array (``a[i]``, ``a[lo:hi]`` with absolute positions, ``a.size``), while the stream drops what
no later packet can reach (:meth:`SlidingArray.trim`), so memory stays bounded however long the
stream runs.
"""

from __future__ import annotations

import operator

import numpy as np


class SlidingArray:
    """Positions ``start .. size - 1`` stored in ``data`` (``data[i - start]``).

    ``[i]`` and ``[lo:hi]`` (explicit bounds, step 1) take absolute positions and return what
    the stored array would (a scalar, a view to read or write); a position before ``start``
    raises IndexError (a trimmed element was needed). ``size`` is the end of the stored part,
    like an ndarray's ``size`` for an array that was never trimmed.
    """

    def __init__(self, dtype: type | np.dtype, fill: object = 0, spare: int = 0):
        """``fill``: value of new elements; ``spare``: elements allocated beyond a
        :meth:`grow` request (so that growing one element at a time copies rarely)."""
        self.fill, self.spare = fill, int(spare)
        self.data = np.full(0, fill, dtype)
        self.start = 0

    @property
    def size(self) -> int:
        return self.start + self.data.size

    def _local(self, key: int | slice) -> int | slice:
        if isinstance(key, slice):
            if key.start is None or key.stop is None or key.step not in (None, 1):
                raise TypeError(f"a SlidingArray takes slices with bounds and step 1, got {key}")
            lo = key.start - self.start
            if lo < 0:
                raise IndexError(f"position {key.start} was trimmed (kept from {self.start})")
            return slice(lo, max(key.stop - self.start, lo))
        i = operator.index(key) - self.start
        if i < 0:
            raise IndexError(f"position {key} was trimmed (kept from {self.start})")
        return i

    def __getitem__(self, key: int | slice):
        return self.data[self._local(key)]

    def __setitem__(self, key: int | slice, value) -> None:
        self.data[self._local(key)] = value

    def grow(self, size: int) -> None:
        """Make positions up to ``size - 1`` exist (new ones hold ``fill``)."""
        if size > self.size:
            new = np.full(size - self.start + self.spare, self.fill, self.data.dtype)
            new[:self.data.size] = self.data
            self.data = new

    def trim(self, start: int) -> None:
        """Drop positions before ``start`` (nothing when they are already gone)."""
        if start > self.start:
            self.data = self.data[min(start - self.start, self.data.size):].copy()
            self.start = start
