"""JSON with metadata: scene, method, parameters, fs, delay, version, names and `fir` as
nested lists [input][driver][tap] (Python's float repr: exact float64 round trip)."""

from __future__ import annotations

import json
from pathlib import Path

from dsp.export.registry import ExportFormat, register
from dsp.filterset import FilterSet
from sim.outputs import write_text


def write(fs: FilterSet, out: Path, stem: str) -> list[Path]:
    doc = {**fs.meta, "fs": fs.fs_hz, "delay": fs.delay_samples, "n_taps": fs.n_taps,
           "n_inputs": fs.n_inputs, "n_drivers": fs.n_drivers, "inputs": fs.input_names,
           "drivers": fs.driver_names, "fir": fs.fir.tolist()}
    path = out / f"{stem}.json"
    write_text(path, json.dumps(doc) + "\n")
    return [path]



FORMAT = register(ExportFormat("json", "JSON with metadata", ".json", write))


def read(path: Path) -> FilterSet:
    import numpy as np

    doc = json.loads(Path(path).read_text())
    fir = np.array(doc.pop("fir"), dtype=float)
    return FilterSet(fir=fir, fs_hz=int(doc["fs"]), delay_samples=int(doc["delay"]), meta=doc)
