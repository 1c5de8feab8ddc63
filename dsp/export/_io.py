"""Shared helpers of the exporters: atomic writes and safe file names."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np

from sim.scene_io import atomic_write_bytes, atomic_write_text

__all__ = ["atomic_write_bytes", "atomic_write_text", "safe", "wav_bytes"]


def safe(name: str) -> str:
    """A file-name-safe version of a channel or driver name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "x"


def wav_bytes(data: np.ndarray, fs_hz: int) -> bytes:
    """32-bit float WAV of data (n_frames,) or (n_frames, n_channels)."""
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, np.asarray(data, dtype=np.float32), int(fs_hz), subtype="FLOAT", format="WAV")
    return buf.getvalue()


def write_wav(path: Path, data: np.ndarray, fs_hz: int) -> Path:
    atomic_write_bytes(path, wav_bytes(data, fs_hz))
    return path
