"""The voice-chain job: a talker and a noise file through the scene's voice chain, offline.

    run(ChainRequest, state) -> ChainOutcome      behind `awb chain` and the Voice Chain panel's
                                                  Save Run…

The job builds the same :class:`dsp.chain.ChainGraph` a live stream plays and drives it block by
block over the talker once (:func:`dsp.chain.run_offline`), then writes every tap as a 32-bit
float WAV (16 kHz; ``ears`` stereo; all aligned with the clean talker at the microphone) and
``report.json`` into the output folder, all or nothing (`sim.outputs.batch`). The report:
``stages`` = {tap: {"pesq_wb", "stoi"}} against the clean talker at the microphone (direct path),
in chain order, the far end's ``output`` last; ``counters`` = frames {"regular", "lbrr", "dred",
"plc"}; ``kbps`` = {"opus", "dred", "total"}; ``latency_ms``; ``real_time_factor``; ``levels``
= {tap: sample peaks before/after the −1 dBFS safety limiter every written tap goes through (a
tap under it is written unchanged) and the reduction}; and the settings, DRED reach and loss
statistics. Nothing is written when an input is refused.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dsp.chain.clock import FS_HZ
from sim.scene import Scene
from sim.task import TaskState, check, report, sub
from workbench.jobs.inputs import refuse_outputs_on_inputs, scene_files

if TYPE_CHECKING:
    from dsp.chain import ChainSettings

MAX_CHANNELS = 2
SCORE_POLL_S = 0.1
"""Seconds between cancellation checks while the scoring process works."""


class ChainJobError(ValueError):
    """A request refused before anything runs (the message says why, on one line)."""


def input_errors() -> tuple[type[Exception], ...]:
    """Exceptions that mean bad input (one line for the user, nothing written)."""
    from dsp.audio_io import AudioFileError
    from dsp.chain import ChainInputError, ChainSettingsError

    return (AudioFileError, ChainInputError, ChainSettingsError, ChainJobError)


@dataclass
class ChainRequest:
    """scene: the room, device (with a microphone) and talker; talker, noise: audio files (any
    rate >= 16 kHz, mono or stereo); settings: the chain's; out_dir: the folder to write (None:
    nothing written); engine: "room" or "freefield"; reads: files the caller read to make the
    request (the scene file), never overwritten."""

    scene: Scene
    talker: Path
    noise: Path
    settings: ChainSettings
    out_dir: Path | None = None
    engine: str = "room"
    reads: tuple[Path, ...] = ()

    def inputs(self) -> tuple[Path, ...]:
        trace = [Path(m.path) for m in [self.settings.loss_model()] if m.kind == "trace"]
        return (self.talker, self.noise, *trace, *self.reads, *scene_files(self.scene))

    def outputs(self, taps: tuple[str, ...]) -> list[Path]:
        if self.out_dir is None:
            return []
        return [self.out_dir / f"{t}.wav" for t in taps] + [self.out_dir / "report.json"]


@dataclass
class ChainOutcome:
    """taps: name -> aligned audio (16 kHz); report: what report.json holds; files: written."""

    taps: dict[str, np.ndarray]
    report: dict
    files: list[Path] = field(default_factory=list)


def read_voice(path: Path, what: str) -> np.ndarray:
    """A talker or noise file as 16 kHz mono float64; ChainJobError / AudioFileError naming
    the file when it is missing, silent, non-finite, multichannel or narrowband."""
    from dsp.audio_io import read_audio

    x, fs = read_audio(path, channels=None)
    if x.shape[1] > MAX_CHANNELS:
        raise ChainJobError(f"{what} {path}: {x.shape[1]} channels; expected mono or stereo "
                            "speech (a downmix of more would be a guess)")
    if fs < FS_HZ:
        raise ChainJobError(f"{what} {path}: sample rate {fs} Hz; the chain is wideband "
                            f"({FS_HZ} Hz): give it a recording at {FS_HZ} Hz or more")
    x = x.mean(axis=1)
    if fs != FS_HZ:
        import soxr

        x = soxr.resample(x, fs, FS_HZ)
    return x


def run(request: ChainRequest, state: TaskState | None = None) -> ChainOutcome:
    """Simulate the responses, run the chain offline, score the taps, write the files."""
    from dsp.chain import SCORED, ChainContext, ChainGraph, Voice, run_offline, scene_responses
    from dsp.chain.threads import single_blas_thread

    req = request
    settings = req.settings.validate()
    voice = Voice(read_voice(req.talker, "talker"), read_voice(req.noise, "noise"))
    responses = scene_responses(req.scene, req.engine, state=sub(state, 0.0, 0.2))
    single_blas_thread()
    graph = ChainGraph(ChainContext(responses, voice), settings, history_s=1.0)
    refuse_outputs_on_inputs(req.outputs(graph.taps), req.inputs())
    t0 = time.perf_counter()
    result = run_offline(graph, state=sub(state, 0.2, 0.85))
    rtf = (time.perf_counter() - t0) / (voice.n_samples / FS_HZ)
    report(state, 0.85, "scoring the taps (PESQ-WB, STOI)")
    snap = result.snapshot
    doc = {
        "stages": score_apart(result.taps, state),
        "counters": snap.counters,
        "kbps": {k: round(v, 3) for k, v in snap.kbps.items()},
        "latency_ms": snap.latency_ms,
        "real_time_factor": round(rtf, 4),
        "dred_reach_ms": round(snap.dred_reach_ms, 1),
        "network": snap.network,
        "duration_s": round(voice.n_samples / FS_HZ, 3),
        "scene": req.scene.name, "engine": req.engine,
        "talker": str(req.talker), "noise": str(req.noise),
        "settings": asdict(settings) | {"bypass": sorted(settings.bypass)},
        "scored": list(SCORED), "reference": "clean",
    }
    files = _write(req, result.taps, doc) if req.out_dir is not None else []
    report(state, 1.0, "done")
    return ChainOutcome(taps=result.taps, report=doc, files=files)


def score_apart(taps: dict[str, np.ndarray], state: TaskState | None = None) -> dict[str, dict]:
    """`dsp.chain.offline.aligned_quality` of the run's aligned taps, computed in a spawned
    worker process. PESQ's C code holds the GIL for the whole of each call (per tap: 55 ms for
    6 s of speech, 0.28 s for 30 s on the 2-core development machine): on a thread it would
    hold up every other thread of this process, the GUI's event loop during Save Run among
    them.
    Checked for cancellation every `SCORE_POLL_S`; a cancel ends the process."""
    import multiprocessing

    from dsp.chain import REFERENCE, SCORED
    from dsp.chain.offline import aligned_quality

    scored = {t: taps[t] for t in (REFERENCE, *SCORED)}
    with multiprocessing.get_context("spawn").Pool(1) as pool:  # leaving it ends the worker
        pending = pool.apply_async(aligned_quality, (scored,))
        while not pending.ready():
            check(state)
            pending.wait(SCORE_POLL_S)
        return pending.get()


def _db(value: float) -> float | None:
    """dBFS for JSON: None for silence (−inf)."""
    return round(value, 2) if np.isfinite(value) else None


def _write(req: ChainRequest, taps: dict[str, np.ndarray], doc: dict) -> list[Path]:
    """Each tap through the −1 dBFS safety limiter (a tap under it is written bit for bit, as
    the live graph made it) and report.json with what the limiter did per tap (`levels`)."""
    from dsp.audio_io import write_audio
    from dsp.limiter import limit_file
    from sim.outputs import batch, write_text

    req.out_dir.mkdir(parents=True, exist_ok=True)
    files, levels = [], {}
    safe = {}
    for name, x in taps.items():
        y, lim = limit_file(x.reshape(len(x), -1), FS_HZ)
        safe[name] = y.reshape(x.shape)
        levels[name] = {"peak_before_dbfs": _db(lim.peak_before_dbfs),
                        "peak_dbfs": _db(lim.peak_dbfs),
                        "limited_db": round(lim.reduction_db, 2),
                        "limited_samples": lim.limited_samples}
    doc["levels"] = levels
    with batch():
        for name, y in safe.items():
            files.append(write_audio(req.out_dir / f"{name}.wav", y, FS_HZ, subtype="FLOAT"))
        files.append(write_text(req.out_dir / "report.json", json.dumps(doc, indent=1) + "\n"))
    return files
