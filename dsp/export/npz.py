"""NPZ (the contract): `fir` (n_inputs, n_drivers, n_taps), `fs`, `delay` in samples,
`meta` JSON string."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dsp.export.registry import ExportFormat, register
from dsp.filterset import FilterSet
from sim.outputs import write_npz


def write(fs: FilterSet, out: Path, stem: str) -> list[Path]:
    path = out / f"{stem}.npz"
    write_npz(path, {"fir": fs.fir, "fs": np.int64(fs.fs_hz), "delay": np.int64(fs.delay_samples),
                     "meta": np.array(fs.meta_json())})
    return [path]



FORMAT = register(ExportFormat("npz", "NPZ (fir, fs, delay, meta)", ".npz", write))


def read(path: Path) -> FilterSet:
    import json

    with np.load(path) as z:
        return FilterSet(fir=z["fir"], fs_hz=int(z["fs"]), delay_samples=int(z["delay"]),
                         meta=json.loads(str(z["meta"])))
