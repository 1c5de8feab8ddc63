"""Multichannel float32 WAV: one file per input, channel d = driver d's filter
(`{stem}_{input}.wav`), plus one matrix file with channel i·D + d (`{stem}_matrix.wav`)."""

from __future__ import annotations

from pathlib import Path

from dsp.audio_io import write_audio
from dsp.export._io import safe
from dsp.export.registry import ExportFormat, register
from dsp.filterset import FilterSet


def write(fs: FilterSet, out: Path, stem: str) -> list[Path]:
    paths = [write_audio(out / f"{stem}_{safe(name)}.wav", fs.fir[i].T, fs.fs_hz)
             for i, name in enumerate(fs.input_names)]
    matrix = fs.fir.reshape(-1, fs.n_taps).T  # channel i*D + d
    paths.append(write_audio(out / f"{stem}_matrix.wav", matrix, fs.fs_hz))
    return paths


FORMAT = register(ExportFormat("wav", "WAV (float32, per input + matrix)", ".wav", write))
