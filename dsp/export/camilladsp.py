"""CamillaDSP configuration (YAML) + raw coefficient files.

CamillaDSP has no MIMO convolver (spatial.md §A2), so the I → D filter matrix is expanded:
a fan-out mixer copies every input onto I·D branch channels (branch i·D + d), one Conv
filter per branch reads its FIR from a raw little-endian float64 file (`type: Raw, format:
F64_LE`), and a summing mixer adds the I branches of each driver. The modelling delay is
inside every FIR, so no alignment Delay is needed. Devices default to Stdin/Stdout F64_LE;
edit them for real hardware.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dsp.export._io import safe
from dsp.export.registry import ExportFormat, register
from dsp.filterset import FilterSet
from sim.outputs import write_bytes, write_text


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write(fs: FilterSet, out: Path, stem: str, chunksize: int = 1024) -> list[Path]:
    n_i, n_d = fs.n_inputs, fs.n_drivers
    paths, filters = [], []
    for i, iname in enumerate(fs.input_names):
        for d, dname in enumerate(fs.driver_names):
            fname = f"{stem}_{safe(iname)}_to_{safe(dname)}.f64"
            write_bytes(out / fname, fs.fir[i, d].astype("<f8").tobytes())
            paths.append(out / fname)
            filters.append((i * n_d + d, f"fir_{safe(iname)}_to_{safe(dname)}", fname))
    y = [f"# Acoustic Workbench: {fs.meta.get('method', '?')} for scene"
         f" {fs.meta.get('scene', '?')}; {n_i} inputs -> {n_d} drivers,"
         f" delay {fs.delay_samples} samples.",
         "devices:", f"  samplerate: {fs.fs_hz}", f"  chunksize: {chunksize}",
         "  capture:", "    type: Stdin", f"    channels: {n_i}", "    format: F64_LE",
         "  playback:", "    type: Stdout", f"    channels: {n_d}", "    format: F64_LE",
         "filters:"]
    for _, name, fname in filters:
        y += [f"  {name}:", "    type: Conv", "    parameters:", "      type: Raw",
              f"      filename: {_q(fname)}", "      format: F64_LE"]
    y += ["mixers:", "  fanout:", "    channels:", f"      in: {n_i}", f"      out: {n_i * n_d}",
          "    mapping:"]
    for i in range(n_i):
        for d in range(n_d):
            y += [f"      - dest: {i * n_d + d}", "        sources:",
                  f"          - {{channel: {i}, gain: 0.0, inverted: false}}"]
    y += ["  sum_to_drivers:", "    channels:", f"      in: {n_i * n_d}", f"      out: {n_d}",
          "    mapping:"]
    for d in range(n_d):
        y += [f"      - dest: {d}", "        sources:"]
        y += [f"          - {{channel: {i * n_d + d}, gain: 0.0, inverted: false}}"
              for i in range(n_i)]
    y += ["pipeline:", "  - type: Mixer", "    name: fanout"]
    for ch, name, _ in filters:
        y += ["  - type: Filter", f"    channels: [{ch}]", f"    names: [{name}]"]
    y += ["  - type: Mixer", "    name: sum_to_drivers", ""]
    path = out / f"{stem}_camilladsp.yml"
    write_text(path, "\n".join(y))
    return [path, *paths]



FORMAT = register(ExportFormat("camilladsp", "CamillaDSP YAML + raw FIRs", ".yml", write))


def run_config(config: dict, base: Path, x: np.ndarray) -> np.ndarray:
    """Reference interpreter of the config subset written above (Mixer with dB gains and
    inversion, Conv Raw F64_LE), used to check an export does what it says: x (channels, n)
    → output (channels, n + taps - 1)."""
    from scipy.signal import fftconvolve

    sig = np.asarray(x, dtype=float)
    for step in config["pipeline"]:
        if step["type"] == "Mixer":
            mixer = config["mixers"][step["name"]]
            assert mixer["channels"]["in"] == sig.shape[0]
            out = np.zeros((mixer["channels"]["out"], sig.shape[1]))
            for m in mixer["mapping"]:
                for src in m["sources"]:
                    g = 10 ** (src.get("gain", 0.0) / 20) * (-1 if src.get("inverted") else 1)
                    out[m["dest"]] += g * sig[src["channel"]]
            sig = out
        elif step["type"] == "Filter":
            for name in step["names"]:
                par = config["filters"][name]["parameters"]
                assert config["filters"][name]["type"] == "Conv" and par["type"] == "Raw"
                assert par["format"] == "F64_LE"
                h = np.fromfile(base / par["filename"], dtype="<f8")
                for ch in step["channels"]:
                    y = fftconvolve(sig[ch], h)[:sig.shape[1]]
                    sig[ch] = y
    return sig
