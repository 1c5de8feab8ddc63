"""SOFA GeneralFIR (AES69) via sofar: Data.IR (M = inputs, R = drivers, N = taps), receiver
positions = driver positions when known, Data.Delay = 0 (the modelling delay is inside the
FIRs and stated in the comment)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from dsp.export.registry import ExportFormat, register
from dsp.filterset import FilterSet


def write(fs: FilterSet, out: Path, stem: str) -> list[Path]:
    import sofar

    s = sofar.Sofa("GeneralFIR")
    s.Data_IR = fs.fir
    s.Data_SamplingRate = float(fs.fs_hz)
    s.Data_Delay = np.zeros((1, fs.n_drivers))
    s.SourcePosition = np.zeros((fs.n_inputs, 3))
    s.ReceiverPosition = np.asarray(fs.meta.get("driver_positions_m",
                                                np.zeros((fs.n_drivers, 3))),
                                    dtype=float).reshape(fs.n_drivers, 3)
    s.GLOBAL_Title = f"Acoustic Workbench {fs.meta.get('method', '')} filters"
    s.GLOBAL_Comment = (f"inputs: {', '.join(fs.input_names)}; drivers:"
                        f" {', '.join(fs.driver_names)}; modelling delay {fs.delay_samples}"
                        f" samples; scene {fs.meta.get('scene', '')}")
    s.GLOBAL_ApplicationName = "Acoustic Workbench"
    path = out / f"{stem}.sofa"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp.sofa", dir=out)
    os.close(fd)
    try:
        sofar.write_sofa(tmp, s, compression=4)
        os.replace(tmp, path)  # atomic: readers never see a half-written file
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return [path]



FORMAT = register(ExportFormat("sofa", "SOFA GeneralFIR", ".sofa", write))
