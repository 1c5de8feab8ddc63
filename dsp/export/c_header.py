"""C header for an embedded DSP: `static const float <stem>_fir[I][D][N]` with 9 significant
digits (exact float32 round trip), dimensions, sample rate and delay as macros."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from dsp.export._io import safe
from dsp.export.registry import ExportFormat, register
from dsp.filterset import FilterSet
from sim.outputs import write_text


def write(fs: FilterSet, out: Path, stem: str) -> list[Path]:
    name = safe(stem).lower()
    up = name.upper()
    f32 = fs.fir.astype(np.float32)
    lines = [
        f"/* Acoustic Workbench filters: method {fs.meta.get('method', '?')}, scene"
        f" {fs.meta.get('scene', '?')!s}. */",
        f"/* inputs: {', '.join(fs.input_names)}; drivers: {', '.join(fs.driver_names)}."
        f" out[d] = sum_i conv(in[i], {name}_fir[i][d]). */",
        f"#ifndef {up}_H", f"#define {up}_H", "",
        f"#define {up}_N_INPUTS {fs.n_inputs}", f"#define {up}_N_DRIVERS {fs.n_drivers}",
        f"#define {up}_N_TAPS {fs.n_taps}", f"#define {up}_FS_HZ {fs.fs_hz}",
        f"#define {up}_DELAY_SAMPLES {fs.delay_samples}", "",
        f"static const float {name}_fir[{up}_N_INPUTS][{up}_N_DRIVERS][{up}_N_TAPS] = {{",
    ]
    for i in range(fs.n_inputs):
        lines.append("  {")
        for d in range(fs.n_drivers):
            vals = [f"{float(v):.9g}f" for v in f32[i, d]]
            body = ",\n      ".join(", ".join(vals[k:k + 8]) for k in range(0, len(vals), 8))
            lines.append(f"    {{ /* {fs.input_names[i]} -> {fs.driver_names[d]} */\n      {body}"
                         f"\n    }}{',' if d < fs.n_drivers - 1 else ''}")
        lines.append("  }" + ("," if i < fs.n_inputs - 1 else ""))
    lines += ["};", "", f"#endif /* {up}_H */", ""]
    path = out / f"{name}.h"
    write_text(path, "\n".join(lines))
    return [path]



FORMAT = register(ExportFormat("c", "C header", ".h", write))


def read(path: Path) -> tuple[np.ndarray, dict]:
    """Parse the array and macros back: (fir float32 (I, D, N), {macro: int})."""
    text = Path(path).read_text()
    macros = {m[0]: int(m[1]) for m in re.findall(r"#define (\w+) (\d+)", text)}
    body = text[text.index("] = {") + 4:text.rindex("};")]
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    vals = np.array([float(v) for v in re.findall(r"[-+0-9.eE]+(?=f)", body)], dtype=np.float32)
    dims = [v for k, v in macros.items() if k.endswith(("_N_INPUTS", "_N_DRIVERS", "_N_TAPS"))]
    return vals.reshape(dims), macros
