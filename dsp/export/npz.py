"""NPZ (the contract): `fir` (n_inputs, n_drivers, n_taps), `fs`, `delay` in samples,
`meta` JSON string."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from dsp.export._io import atomic_write_bytes
from dsp.export.registry import ExportFormat, register
from dsp.filterset import FilterSet


def write(fs: FilterSet, out: Path, stem: str) -> list[Path]:
    buf = io.BytesIO()
    np.savez(buf, fir=fs.fir, fs=np.int64(fs.fs_hz), delay=np.int64(fs.delay_samples),
             meta=np.array(fs.meta_json()))
    path = out / f"{stem}.npz"
    atomic_write_bytes(path, buf.getvalue())
    return [path]



FORMAT = register(ExportFormat("npz", "NPZ (fir, fs, delay, meta)", ".npz", write))


def read(path: Path) -> FilterSet:
    import json

    with np.load(path) as z:
        return FilterSet(fir=z["fir"], fs_hz=int(z["fs"]), delay_samples=int(z["delay"]),
                         meta=json.loads(str(z["meta"])))
