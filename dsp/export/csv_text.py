"""CSV: one row per tap, one column per (input, driver) named "<input>-><driver>", with a
'#' header line of fs and delay; values with 17 significant digits (exact float64)."""

from __future__ import annotations

from pathlib import Path

from dsp.export.registry import ExportFormat, register
from dsp.filterset import FilterSet
from sim.outputs import write_text


def write(fs: FilterSet, out: Path, stem: str) -> list[Path]:
    cols = [f"{i}->{d}" for i in fs.input_names for d in fs.driver_names]
    data = fs.fir.reshape(-1, fs.n_taps).T
    lines = [f"# fs={fs.fs_hz} delay={fs.delay_samples} taps={fs.n_taps}",
             "tap," + ",".join(cols)]
    lines += [f"{n}," + ",".join(f"{v:.17g}" for v in row) for n, row in enumerate(data)]
    path = out / f"{stem}.csv"
    write_text(path, "\n".join(lines) + "\n")
    return [path]



FORMAT = register(ExportFormat("csv", "CSV (one column per path)", ".csv", write))


def read(path: Path):
    """(fir (I·D, N) in column order, column names, header dict) of a CSV written above."""
    import numpy as np

    text = Path(path).read_text().splitlines()
    header = dict(kv.split("=") for kv in text[0].lstrip("# ").split())
    names = text[1].split(",")[1:]
    rows = np.array([[float(v) for v in line.split(",")[1:]] for line in text[2:]])
    return rows.T, names, header
