"""Equalizer APO `config.txt` + mono float WAV FIRs.

Stock Equalizer APO convolves one channel at a time and routes only with `Copy:` (spatial.md
§A2), so the I → D matrix is expanded over spare device channels: branch channel
B + i·D + d (1-based, B = max(I, D)) gets a copy of input i and its own `Convolution:`, then
each driver channel d is the sum of its I branches. The device needs max(I, D) + I·D
channels; inputs are device channels 1..I, drivers 1..D. Paths are relative to config.txt.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dsp.audio_io import read_audio, write_audio
from dsp.export._io import safe
from dsp.export.registry import ExportFormat, register
from dsp.filterset import FilterSet
from sim.outputs import write_text


def write(fs: FilterSet, out: Path, stem: str) -> list[Path]:
    n_i, n_d = fs.n_inputs, fs.n_drivers
    base = max(n_i, n_d)
    peak = np.max(np.sum(np.abs(np.fft.rfft(fs.fir, 4 * fs.n_taps, axis=-1)), axis=1))
    preamp = min(0.0, -np.ceil(20 * np.log10(max(peak, 1e-12))))
    lines = [f"# Acoustic Workbench: {fs.meta.get('method', '?')} for scene"
             f" {fs.meta.get('scene', '?')}; needs {base + n_i * n_d} device channels.",
             f"Preamp: {preamp:.1f} dB"]
    copies = [f"{base + 1 + i * n_d + d}={i + 1}" for i in range(n_i) for d in range(n_d)]
    lines.append("Copy: " + " ".join(copies))
    paths = []
    for i, iname in enumerate(fs.input_names):
        for d, dname in enumerate(fs.driver_names):
            fname = f"{stem}_{safe(iname)}_to_{safe(dname)}.wav"
            paths.append(write_audio(out / fname, fs.fir[i, d], fs.fs_hz))
            lines += [f"Channel: {base + 1 + i * n_d + d}", f"Convolution: {fname}"]
    lines.append("Channel: all")
    sums = [f"{d + 1}=" + "+".join(str(base + 1 + i * n_d + d) for i in range(n_i))
            for d in range(n_d)]
    lines.append("Copy: " + " ".join(sums))
    path = out / f"{stem}_eqapo_config.txt"
    write_text(path, "\n".join(lines) + "\n")
    return [path, *paths]



FORMAT = register(ExportFormat("eqapo", "Equalizer APO config + WAVs", ".txt", write))


def run_config(path: Path, x: np.ndarray, n_channels: int) -> np.ndarray:
    """Reference interpreter of the command subset above (Preamp, Copy with sums, Channel,
    Convolution): x (inputs, n) on channels 1..inputs → all device channels."""
    from scipy.signal import fftconvolve

    sig = np.zeros((n_channels, x.shape[1]))
    sig[:x.shape[0]] = x
    selected = list(range(n_channels))
    for raw in Path(path).read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        cmd, arg = (s.strip() for s in line.split(":", 1))
        if cmd == "Preamp":
            sig *= 10 ** (float(arg.split()[0]) / 20)
        elif cmd == "Copy":
            new = sig.copy()
            for assign in arg.split():
                dst, expr = assign.split("=")
                new[int(dst) - 1] = sum(sig[int(s) - 1] for s in expr.split("+"))
            sig = new
        elif cmd == "Channel":
            selected = (list(range(n_channels)) if arg == "all"
                        else [int(c) - 1 for c in arg.split()])
        elif cmd == "Convolution":
            h = read_audio(Path(path).parent / arg, channels=1, allow_silent=True)[0][:, 0]
            for c in selected:
                sig[c] = fftconvolve(sig[c], h)[:x.shape[1]]
    return sig
