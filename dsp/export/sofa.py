"""SOFA GeneralFIR (AES69) via sofar: Data.IR (M = inputs, R = drivers, N = taps), receiver
positions = driver positions when known, Data.Delay = 0 (the modelling delay is inside the
FIRs and stated in the comment)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dsp.export.registry import ExportFormat, register
from dsp.filterset import FilterSet
from sim.outputs import write_file


def write(fs: FilterSet, out: Path, stem: str) -> list[Path]:
    import sofar

    from sim.sofa import NETCDF_LOCK

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
    with NETCDF_LOCK:
        write_file(path, lambda tmp: sofar.write_sofa(str(tmp), s, compression=4))
    return [path]



FORMAT = register(ExportFormat("sofa", "SOFA GeneralFIR", ".sofa", write))
