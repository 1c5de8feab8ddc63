"""Sweep results on disk: a Parquet dataset folder written in batches, so a killed sweep keeps
what it finished and a restart computes only the rest.

Layout of ``OUT`` (a folder; ``pandas.read_parquet(OUT)`` reads it whole)::

    OUT/_sweep.json         what the sweep is: format, spec digest, spec, base scene, bands
                            (the leading _ keeps Parquet readers from taking it for data)
    OUT/part-000000.parquet one batch of finished cases each, written atomically
                            (`sim.outputs.write_file`), numbered on from the last one

Rows (long format): one per case × listener × band of an ``ok`` case, one per failed case
(listener −1, band NaN). Columns: case (int64), listener (int32), band_hz, status ("ok" /
"failed"), error (one line), seconds (the case's compute time), x_m / y_m / z_m (the
listener's position in that case), one column per varied path (named by the path, e.g.
``listeners[0].position[0]``), one per metric (`dsp.sweep.spec.METRICS`).

A case is finished when any part holds it (ok or failed). A part is only ever complete: a kill
while writing leaves a hidden temporary file, which the next run ignores.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from dsp.sweep.metrics import BAND_HZ
from dsp.sweep.spec import SweepSpec
from sim.outputs import OutputError, write_file, write_text

FORMAT = "acoustic-workbench-sweep"
INFO_FILE = "_sweep.json"
PART_GLOB = "part-*.parquet"


def check_output(folder: Path, spec: SweepSpec) -> None:
    """Raise OutputError unless `folder` can take this sweep's results: it does not exist yet
    (its parent does), or it is a results folder of the same spec (a restart)."""
    folder = Path(folder)
    if not folder.exists():
        if not folder.parent.is_dir():
            raise OutputError(folder, f"folder {folder.parent} does not exist")
        return
    info = read_info(folder)
    if info.get("digest") != spec.digest():
        raise OutputError(folder, "holds the results of another sweep (spec differs); choose"
                                  " another --out or remove it")


def read_info(folder: Path) -> dict:
    """The _sweep.json of a results folder; OutputError when `folder` is not one."""
    path = Path(folder) / INFO_FILE
    if not Path(folder).is_dir() or not path.is_file():
        raise OutputError(folder, f"exists and is not a sweep results folder (no {INFO_FILE})")
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise OutputError(path, f"cannot be read ({e})") from None
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise OutputError(path, f"is not a {FORMAT} file")
    return info


def finished_cases(folder: Path) -> set[int]:
    """Case indices any complete part of `folder` holds (empty for a new folder)."""
    import pyarrow.parquet as pq

    done: set[int] = set()
    for part in sorted(Path(folder).glob(PART_GLOB)):
        done.update(int(c) for c in pq.read_table(part, columns=["case"]).column(0).to_pylist())
    return done


def case_columns(result: dict, spec: SweepSpec) -> dict[str, np.ndarray]:
    """The rows of one case result (`dsp.sweep.case.run_case`) as columns."""
    ok = result["status"] == "ok"
    n_l = len(result["positions_m"]) if ok else 0
    n_b = BAND_HZ.size
    n = n_l * n_b if ok else 1
    cols: dict[str, np.ndarray] = {
        "case": np.full(n, result["case"], dtype=np.int64),
        "listener": np.repeat(np.arange(n_l, dtype=np.int32), n_b) if ok
        else np.full(1, -1, dtype=np.int32),
        "band_hz": np.tile(BAND_HZ, n_l) if ok else np.full(1, np.nan),
        "status": np.full(n, result["status"], dtype=object),
        "error": np.full(n, result["error"], dtype=object),
        "seconds": np.full(n, result["seconds"]),
    }
    pos = np.repeat(np.asarray(result["positions_m"]), n_b, axis=0) if ok \
        else np.full((1, 3), np.nan)
    cols.update(x_m=pos[:, 0], y_m=pos[:, 1], z_m=pos[:, 2])
    for v in spec.vary:
        cols[v.path] = np.full(n, float(result["values"][v.path]))
    for m in spec.metrics:
        cols[m] = result["metrics"][m].ravel() if ok else np.full(1, np.nan)
    return cols


class ResultsWriter:
    """Batches of case results into numbered parts of a results folder.

    `open` creates the folder and its _sweep.json (or checks an existing one, see
    `check_output`); `add` buffers a result and writes a part once `batch_cases` are buffered
    or `flush_s` seconds passed since the last part; `flush` writes what is buffered."""

    def __init__(self, folder: Path, spec: SweepSpec, batch_cases: int = 20,
                 flush_s: float = 10.0):
        self.folder, self.spec = Path(folder), spec
        self.batch_cases, self.flush_s = int(batch_cases), float(flush_s)
        self._buffer: list[dict] = []
        self._last = time.monotonic()
        self._next_part = 0

    def open(self) -> set[int]:
        """Create or reopen the folder; returns the cases already finished there."""
        check_output(self.folder, self.spec)
        if not self.folder.exists():
            self.folder.mkdir()
            info = {"format": FORMAT, "version": 1, "digest": self.spec.digest(),
                    "n_cases": self.spec.n_cases, "engine": self.spec.engine,
                    "vary": [v.path for v in self.spec.vary], "metrics": list(self.spec.metrics),
                    "band_hz": [float(b) for b in BAND_HZ], "spec": self.spec.source,
                    "scene": self.spec.scene}
            write_text(self.folder / INFO_FILE, json.dumps(info, indent=1) + "\n")
        parts = sorted(self.folder.glob(PART_GLOB))
        self._next_part = int(parts[-1].stem.split("-")[1]) + 1 if parts else 0
        return finished_cases(self.folder)

    def add(self, result: dict) -> None:
        self._buffer.append(result)
        if (len(self._buffer) >= self.batch_cases
                or time.monotonic() - self._last >= self.flush_s):
            self.flush()

    def flush(self) -> None:
        """Write the buffered results as one part (nothing when the buffer is empty)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        self._last = time.monotonic()
        if not self._buffer:
            return
        cols = [case_columns(r, self.spec) for r in self._buffer]
        table = pa.table({k: np.concatenate([c[k] for c in cols]) for k in cols[0]})
        path = self.folder / f"part-{self._next_part:06d}.parquet"
        write_file(path, lambda tmp: pq.write_table(table, tmp))
        self._next_part += 1
        self._buffer.clear()


def read_results(folder: str | Path):
    """(rows as a pandas DataFrame, _sweep.json dict) of a results folder; OutputError when it
    is not one."""
    import pandas as pd
    import pyarrow.parquet as pq

    folder = Path(folder)
    info = read_info(folder)
    parts = sorted(folder.glob(PART_GLOB))
    if not parts:
        return pd.DataFrame(columns=["case", "listener", "band_hz", "status", "error"]), info
    return pd.concat([pq.read_table(p).to_pandas() for p in parts], ignore_index=True), info
