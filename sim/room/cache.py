"""Computed room impulse responses by content hash, in memory and optionally on disk.

Entries are keyed by `sim.scene.content_hash` of everything that shapes them (the engine's
keys stamp referenced files with `file_stamp`, so an edited file misses the cache).
"""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from sim.outputs import write_npz


class RirCache:
    """Computed RIRs by content hash: an in-memory LRU, optionally backed by a folder of .npz.

    folder: where entries are also written as ``<key>.npz`` (created if missing) and looked up
    on a memory miss; None keeps everything in memory. max_bytes: memory budget of the LRU.
    An entry is a dict of arrays plus ``"meta"`` (a JSON-ready dict); arrays come back
    read-only.
    """

    def __init__(self, folder: str | os.PathLike | None = None, max_bytes: int = 512 << 20):
        self.folder = None if folder is None else Path(folder)
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
        self.max_bytes = int(max_bytes)
        self._mem: OrderedDict[str, dict] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _nbytes(entry: dict) -> int:
        return sum(v.nbytes for v in entry.values() if isinstance(v, np.ndarray))

    def __len__(self) -> int:
        return len(self._mem)

    def __contains__(self, key: str) -> bool:
        with self._lock:
            if key in self._mem:
                return True
        return self.folder is not None and (self.folder / f"{key}.npz").is_file()

    def keys(self) -> list[str]:
        """Keys held in memory (oldest first)."""
        with self._lock:
            return list(self._mem)

    def clear(self, disk: bool = False) -> None:
        """Forget everything in memory (and the .npz files too with `disk`)."""
        with self._lock:
            self._mem.clear()
        if disk and self.folder is not None:
            for p in self.folder.glob("*.npz"):
                p.unlink(missing_ok=True)

    def get(self, key: str) -> dict | None:
        with self._lock:
            entry = self._mem.get(key)
            if entry is not None:
                self._mem.move_to_end(key)
                return entry
        if self.folder is None:
            return None
        path = self.folder / f"{key}.npz"
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                entry = {k: z[k] for k in z.files if k != "meta"}
                entry["meta"] = json.loads(str(z["meta"])) if "meta" in z.files else {}
        except (OSError, ValueError, KeyError):
            return None  # unreadable or half-written by another process: recompute
        self._remember(key, entry)
        return entry

    def put(self, key: str, entry: dict) -> None:
        entry = {k: (_readonly(v) if isinstance(v, np.ndarray) else v) for k, v in entry.items()}
        entry.setdefault("meta", {})
        self._remember(key, entry)
        if self.folder is not None:
            arrays = {k: v for k, v in entry.items() if isinstance(v, np.ndarray)}
            write_npz(self.folder / f"{key}.npz",
                      {"meta": np.array(json.dumps(entry["meta"])), **arrays})

    def _remember(self, key: str, entry: dict) -> None:
        for v in entry.values():
            if isinstance(v, np.ndarray):
                v.setflags(write=False)
        with self._lock:
            self._mem[key] = entry
            self._mem.move_to_end(key)
            total = sum(self._nbytes(e) for e in self._mem.values())
            while total > self.max_bytes and len(self._mem) > 1:
                _, old = self._mem.popitem(last=False)
                total -= self._nbytes(old)


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


DEFAULT_CACHE = RirCache()
"""Used by `room_result` when no cache is given."""


def file_stamp(path: str | None) -> tuple | None:
    """(path, size, mtime) of a referenced file, so an edited file invalidates caches; for a
    folder (FRD polars), (path, the stamp of every file in it)."""
    if not path:
        return None
    if os.path.isdir(path):
        from sim.directivity.frd_files import folder_stamp

        return (str(path), folder_stamp(path))
    try:
        st = os.stat(path)
        return (str(path), st.st_size, st.st_mtime_ns)
    except OSError:
        return (str(path), None, None)

