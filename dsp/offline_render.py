"""Render a programme to files: driver feeds, binaural A/B/X, and a JSON report.

The plain-function core behind `awb render` and the Renderer panel's "Render to files" (a long
job: `state` reports progress and cancels). Everything is computed the streaming way with the
chosen block size, so the real-time factor in the report is the one live playback would need.

Files (in `out_dir`, `output_names`): drivers.wav (N channels: B's driver feeds, latency
included), binaural_A.wav / binaural_B.wav / binaural_X.wav as requested (2 channels, aligned to
a common latency and loudness-matched to the input; B is what the written drivers.wav sounds
like), all 32-bit float WAV. Levels: the filter network's feeds peak far above the input (+10
to +35 dB on ordinary programme), so drivers.wav is normalised, not limited: one static gain
for all channels brings its peak to −1 dBFS when it would exceed it (a limiter would work on
most of the samples: a pumping compressor). The binaural files pass live audition's −1 dBFS
safety limiter (`dsp.limiter`, one gain for all of a file's channels, its latency removed), so
no file is written above −1 dBFS.
report.json holds latency (samples: upmix, network, input → drivers, each path's arrival at the
ears before alignment, the alignment delays, input → ears after alignment), loudness (input and
each path before/after matching, BS.1770 LUFS; a programme shorter than one 400 ms block is
measured zero-padded to it), sample peaks of the written files (dBFS), levels per file (`_levels`:
the raw peak, the static gain — normalisation or loudness match —, the peak after it, the
limiter's reduction and the samples it lowered), real-time factors (compute time / audio time:
`drivers` = upmix + network, one per binaural path, `total` = all rendering, setup excluded),
interaural cues (`dsp.listening.cue_report`: ITD/ILD per path for pink noise hard left, centre,
hard right, errors of A and B against X, IACC of a wide stimulus and of the programme), and
warnings (one for a normalised drivers.wav, one per file the limiter touched).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dsp.audio_io import write_audio
from dsp.convolver import DelayLine
from dsp.limiter import FLOAT32_MARGIN, LimitReport, limit_file
from dsp.listening import (
    PATHS,
    ListeningPaths,
    build_paths,
    cue_report,
    drivers_to_ears,
    stream_path,
)
from dsp.loudness import integrated_loudness, peak_dbfs
from dsp.renderer import Renderer, RenderParams, build_network, render_length
from sim.outputs import batch, write_text
from sim.scene import Scene
from sim.task import TaskState, report

CEILING_DBFS = -1.0
"""No file is written above this: drivers.wav is normalised to it, the binaural files limited."""
DRIVERS_NAME, REPORT_NAME = "drivers.wav", "report.json"


def binaural_name(path: str) -> str:
    """The file of binaural path "A", "B" or "X"."""
    return f"binaural_{path}.wav"


def output_names(paths: tuple[str, ...] = PATHS) -> tuple[str, ...]:
    """Every file a render of these binaural paths writes into its folder."""
    return (DRIVERS_NAME, *(binaural_name(p) for p in paths), REPORT_NAME)


@dataclass
class RenderRequest:
    """What to render.

    paths: subset of ("A", "B", "X"); block: streaming block (64 .. 1024); engine: "freefield"
    | "room" | None (room unless anechoic); early_only: room engine's fast mode; params:
    RenderParams; cues: add the interaural-cue report (≈ 1 s of extra work).
    """

    paths: tuple[str, ...] = PATHS
    block: int = 256
    engine: str | None = None
    early_only: bool = False
    params: RenderParams = field(default_factory=RenderParams)
    cues: bool = True


def _db(v: float) -> float | None:
    return round(v, 2) if math.isfinite(v) else None


def render_drivers_stream(x: np.ndarray, paths: ListeningPaths, block: int,
                          state: TaskState | None = None) -> np.ndarray:
    """B's driver feeds for x (n, 2), streamed: input delayed by B's alignment delay (usually
    0), then the `Renderer`. (render_length(n) + delay, N)."""
    net = paths.network
    d = paths.delays["B"]
    r = Renderer(net, block)
    delay = DelayLine([d, d])
    n_out = render_length(len(x), net) + d
    n_blocks = -(-n_out // block)
    out = np.empty((n_blocks * block, net.n_drivers))
    buf = np.zeros((block, 2))
    for k in range(n_blocks):
        chunk = x[k * block:(k + 1) * block]
        buf[:len(chunk)] = chunk
        buf[len(chunk):] = 0.0
        out[k * block:(k + 1) * block] = r.process(delay.process(buf))
        if state is not None and k % 256 == 0:
            state.check()
    return out[:n_out]


def render_to_folder(scene: Scene, x: np.ndarray, out_dir: str | Path,
                     request: RenderRequest | None = None, input_info: dict | None = None,
                     state: TaskState | None = None) -> dict:
    """Render x (n, 2) at the scene's rate for the scene's listener into out_dir; returns the
    report (also written as report.json). The files and the report are written as one
    `sim.outputs.batch`: a run that fails or is cancelled replaces nothing."""
    req = request or RenderRequest()
    out = Path(out_dir)
    fs = scene.simulation.fs_hz
    t_start = time.perf_counter()
    report(state, 0.0, "designing the network")
    net = build_network(scene, req.params)
    report(state, 0.15, "simulating the device and the reference pair")
    paths = build_paths(scene, net, engine=req.engine, early_only=req.early_only,
                        listener=req.params.listener,
                        state=state.sub(0.15, 0.45) if state else None)
    t_ready = time.perf_counter()
    files, levels, loudness, rtf = _render_files(x, paths, req, state)
    report(state, 0.9, "interaural cues")
    cues = cue_report(paths, programme=x) if req.cues else None
    out.mkdir(parents=True, exist_ok=True)
    with batch():
        for name, data in files.items():
            write_audio(out / name, data, fs)
        doc = _document(scene, x, paths, req, input_info, levels, loudness, rtf, cues)
        doc["setup_s"] = round(t_ready - t_start, 3)
        doc["wall_s"] = round(time.perf_counter() - t_start, 3)
        write_text(out / REPORT_NAME, json.dumps(doc, indent=2) + "\n")
    report(state, 1.0, "done")
    return doc


def _render_files(x: np.ndarray, paths: ListeningPaths, req: RenderRequest,
                  state: TaskState | None) -> tuple[dict, dict, dict, dict]:
    """The files' samples {name: (n, channels)}: drivers.wav normalised, the binaural files
    loudness-matched and limited; their levels ({name: `_levels`}), the loudness report and the
    real-time factors."""
    fs = paths.fs_hz
    duration = len(x) / fs
    report(state, 0.45, "rendering driver feeds")
    t0 = time.perf_counter()
    drivers = render_drivers_stream(x, paths, req.block, state)
    render_s = time.perf_counter() - t0
    rtf = {"drivers": render_s / duration}
    # B's ears come from the normalised feeds: binaural_B.wav is what drivers.wav sounds like.
    raw_peak = peak_dbfs(drivers)
    drivers, norm_db = normalize_peak(drivers, CEILING_DBFS)
    peak = peak_dbfs(drivers)
    files = {DRIVERS_NAME: drivers}
    levels = {DRIVERS_NAME: _levels(raw_peak, norm_db, LimitReport(peak, peak, 0.0, 0),
                                    len(drivers))}
    ears = {}
    for i, name in enumerate(req.paths):
        report(state, 0.55 + 0.3 * i / len(req.paths), f"rendering path {name}")
        t0 = time.perf_counter()
        if name == "B":
            ears[name] = drivers_to_ears(drivers, paths, req.block, state)
        else:
            ears[name] = stream_path(x, paths, name, req.block, state)
        rtf[name] = (time.perf_counter() - t0) / duration
        render_s += time.perf_counter() - t0
    rtf["total"] = render_s / duration
    report(state, 0.85, "loudness matching")
    # Loudness is measured on the paths' full renders, each matched to the input programme.
    target = integrated_loudness(x, fs, pad_short=True)
    gains = {}
    for k, y in ears.items():
        level = integrated_loudness(y, fs, pad_short=True)
        gains[k] = float(target - level) if math.isfinite(level) and math.isfinite(target) \
            else 0.0
    paths.gains_db = {k: gains.get(k, 0.0) for k in PATHS}
    loudness = {"input_lufs": _db(target), "paths": {}}
    for k, y in ears.items():
        name = binaural_name(k)
        files[name], lim = limit_file(y * 10.0 ** (gains[k] / 20.0), fs, CEILING_DBFS)
        levels[name] = _levels(peak_dbfs(y), gains[k], lim, len(y))
        loudness["paths"][k] = {"raw_lufs": _db(integrated_loudness(y, fs, pad_short=True)),
                                "gain_db": round(gains[k], 2),
                                "lufs": _db(integrated_loudness(files[name], fs,
                                                                pad_short=True))}
    return files, levels, loudness, rtf


def normalize_peak(x: np.ndarray, ceiling_db: float = CEILING_DBFS) -> tuple[np.ndarray,
                                                                            float]:
    """x scaled by one gain so that its sample peak is ceiling_db (dBFS) when it exceeds it
    (x itself otherwise), with the gain in dB (≤ 0). The peak stays under the ceiling after
    rounding to float32 (`dsp.limiter.FLOAT32_MARGIN`)."""
    top = float(np.max(np.abs(x))) if x.size else 0.0
    ceiling = 10.0 ** (ceiling_db / 20.0) * FLOAT32_MARGIN
    if top <= ceiling:
        return x, 0.0
    return x * (ceiling / top), 20.0 * math.log10(ceiling / top)


def _levels(raw_peak_dbfs: float, gain_db: float, lim: LimitReport, n_samples: int) -> dict:
    """One file's entry of the report's "levels": its sample peak as rendered (dBFS), the static
    gain applied to it (dB: drivers.wav's normalisation, a binaural file's loudness match), the
    peak after that gain, before the limiter, the limiter's deepest reduction (dB), the sample
    frames it lowered (count and % of the file's n_samples) and the peak written."""
    return {"peak_raw_dbfs": _db(raw_peak_dbfs), "gain_db": round(gain_db, 2),
            "peak_before_dbfs": _db(lim.peak_before_dbfs),
            "limiter_db": round(lim.reduction_db, 2), "limited_samples": lim.limited_samples,
            "limited_percent": round(100.0 * lim.limited_samples / max(n_samples, 1), 3),
            "peak_dbfs": _db(lim.peak_dbfs)}


def _warnings(net_warnings: list[str], levels: dict) -> list[str]:
    """The network's warnings, then one for a normalised drivers.wav and one per file the
    limiter had to touch."""
    warnings = list(net_warnings)
    drivers = levels[DRIVERS_NAME]
    if drivers["gain_db"] < 0.0:
        warnings.append(f"{DRIVERS_NAME}: the driver feeds peaked at"
                        f" {drivers['peak_raw_dbfs']:+.1f} dBFS; written {-drivers['gain_db']:.1f}"
                        f" dB lower (one gain for all channels) to peak at {CEILING_DBFS:g} dBFS")
    for name, lv in levels.items():
        if lv["limited_samples"]:
            warnings.append(f"{name} peaked at {lv['peak_before_dbfs']:+.1f} dBFS: the"
                            f" {CEILING_DBFS:g} dBFS safety limiter lowered"
                            f" {lv['limited_samples']} samples ({lv['limited_percent']:.2g} % of"
                            f" the file) by up to {lv['limiter_db']:.1f} dB; lower the input"
                            " level to avoid it")
    return warnings


def _document(scene: Scene, x: np.ndarray, paths: ListeningPaths, req: RenderRequest,
              input_info: dict | None, levels: dict, loudness: dict, rtf: dict,
              cues: dict | None) -> dict:
    """report.json's content (see the module docstring), timings of setup and wall aside."""
    net, fs = paths.network, paths.fs_hz
    lat = {"upmix": net.upmix.latency, "network": net.network_delay,
           "drivers": net.latency + paths.delays["B"], "arrival": dict(paths.arrival),
           "alignment": dict(paths.delays), "ears": paths.latency}
    return {
        "scene": scene.name,
        "listener": scene.listeners[req.params.listener].name,
        "input": {**(input_info or {}), "fs_hz": fs, "seconds": round(len(x) / fs, 3),
                  "loudness_lufs": loudness["input_lufs"], "peak_dbfs": _db(peak_dbfs(x))},
        "render": {"block": req.block, "engine": paths.engine, "early_only": paths.early_only,
                   "methods": net.methods, "drivers": net.filters.driver_names,
                   "n_taps": net.filters.n_taps, "reference_distance_m":
                       round(paths.reference_distance_m, 3), "params": req.params.to_dict()},
        "latency_samples": lat,
        "latency_ms": {"drivers": round(1e3 * lat["drivers"] / fs, 2),
                       "ears": round(1e3 * lat["ears"] / fs, 2)},
        "loudness": loudness,
        "peak_dbfs": {name: lv["peak_dbfs"] for name, lv in levels.items()},
        "levels": levels,
        "rtf": {k: round(v, 5) for k, v in rtf.items()},
        "cues": _rounded(cues) if cues else None,
        "files": sorted(levels),
        "warnings": _warnings(net.warnings, levels),
    }


def _rounded(obj):
    if isinstance(obj, dict):
        return {k: _rounded(v) for k, v in obj.items()}
    if isinstance(obj, float):
        return round(obj, 3)
    return obj
