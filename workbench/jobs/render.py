"""The render jobs: the programme (an audio file at the scene's rate), the audition player built
for a scene, the L/R/C level overview, the offline render to files and the upmix to files.
Behind the Renderer panel and `awb render` / `awb upmix`.

    prepare(AuditionRequest, state) → Prepared       the panel's player and overviews
    levels(LevelsRequest, state) → LevelTrack        the overview after an upmix change
    run(RenderRequest, state) → report dict          drivers.wav, binaural_*.wav, report.json
    upmix(UpmixRequest, state) → UpmixOutcome        L.wav, R.wav, C.wav
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from dsp import audition
from dsp.audio_io import audio_info, read_audio, resample
from dsp.listening import PATHS
from dsp.programme_view import LevelTrack, lrc_levels
from dsp.renderer import RenderError, RenderParams
from dsp.spectrum import Spectrogram, spectrogram
from dsp.upmix import UpmixParams
from sim.scene import Scene
from sim.task import TaskState, report, sub
from workbench.jobs.inputs import refuse_outputs_on_inputs, scene_files

MODES = {"auto": (None, False), "room": ("room", False), "early": ("room", True),
         "freefield": ("freefield", False)}
"""Listening-path engines: key → (engine, early_only) of `dsp.listening.build_paths`; "auto" =
room unless the room is anechoic."""


def format_time(seconds: float) -> str:
    """'1:05.3' (minutes:seconds.tenths)."""
    seconds = max(0.0, float(seconds))
    m, s = divmod(seconds, 60.0)
    return f"{int(m)}:{s:04.1f}"


@dataclass(frozen=True)
class Programme:
    """The loaded file: samples x (n, 2) at fs_hz (the scene's rate), and what it was."""

    path: Path
    x: np.ndarray
    fs_hz: int
    fs_in_hz: int
    channels_in: int
    subtype: str = ""

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def duration_s(self) -> float:
        return len(self.x) / self.fs_hz

    def describe(self) -> str:
        rate = (f"{self.fs_in_hz} Hz → {self.fs_hz} Hz (soxr)" if self.fs_in_hz != self.fs_hz
                else f"{self.fs_hz} Hz")
        ch = {1: "mono → stereo", 2: "stereo"}.get(self.channels_in, f"{self.channels_in} ch")
        return f"{self.name} — {format_time(self.duration_s)}, {rate}, {ch}"

    def input_info(self) -> dict:
        return {"file": str(self.path), "fs_in_hz": self.fs_in_hz,
                "channels_in": self.channels_in, "subtype_in": self.subtype}

    def at_rate(self, fs_hz: int) -> Programme:
        """The same programme resampled (soxr) to fs_hz (itself when already there)."""
        if self.fs_hz == fs_hz:
            return self
        return replace(self, x=resample(self.x, self.fs_hz, fs_hz), fs_hz=int(fs_hz))


def read_programme(path: str | Path, fs_hz: int) -> Programme:
    """Read any WAV/FLAC/… as stereo at fs_hz (soxr). Raises AudioFileError (one line)."""
    path = Path(path)
    x, _ = read_audio(path, fs_hz=fs_hz, channels=2)
    info = audio_info(path)
    return Programme(path=path, x=x, fs_hz=int(fs_hz), fs_in_hz=int(info.fs_hz),
                     channels_in=int(info.channels), subtype=str(info.subtype))


@dataclass(frozen=True)
class AuditionSettings:
    """How the player is made: renderer parameters, block size, listening-path engine (a
    `MODES` key)."""

    params: RenderParams = field(default_factory=RenderParams)
    block: int = 512
    mode: str = "auto"

    @property
    def engine(self) -> tuple[str | None, bool]:
        return MODES[self.mode]


@dataclass(frozen=True)
class AuditionRequest:
    """source: a file to read or a programme already read; the scene and settings to build the
    player for; path: the path ("A", "B" or "X") it starts on."""

    source: Path | Programme
    scene: Scene
    settings: AuditionSettings
    path: str = "B"


@dataclass
class Prepared:
    """What the build job hands back."""

    programme: Programme
    player: audition.Player
    scene: Scene
    settings: AuditionSettings
    levels: LevelTrack
    spectrogram: Spectrogram
    wall_s: float


def prepare(request: AuditionRequest, state: TaskState | None = None) -> Prepared:
    """The programme at the scene's rate, the player (network design, device and reference-pair
    simulation, loudness matching), the overviews."""
    t0 = time.perf_counter()
    scene, settings = request.scene, request.settings
    fs = scene.simulation.fs_hz
    report(state, 0.0, "reading the file")
    if isinstance(request.source, Programme):
        prog = request.source.at_rate(fs)
    else:
        prog = read_programme(request.source, fs)
    if not scene.listeners:
        raise RenderError(f"scene {scene.name!r} has no listener to render for")
    engine, early = settings.engine
    player = audition.make_player(scene, prog.x, settings.params, engine=engine,
                                  early_only=early, block=settings.block, path=request.path,
                                  state=sub(state, 0.05, 0.85))
    levels = lrc_levels(prog.x, fs, settings.params.upmix, state=sub(state, 0.85, 0.97))
    spec = spectrogram(prog.x, fs, state=sub(state, 0.97, 1.0))
    return Prepared(programme=prog, player=player, scene=scene, settings=settings,
                    levels=levels, spectrogram=spec, wall_s=time.perf_counter() - t0)


@dataclass(frozen=True)
class LevelsRequest:
    """The programme and the upmix settings of an L/R/C level overview."""

    programme: Programme
    upmix: UpmixParams


def levels(request: LevelsRequest, state: TaskState | None = None) -> LevelTrack:
    """The L/R/C level overview (after an upmix change)."""
    p = request.programme
    return lrc_levels(p.x, p.fs_hz, request.upmix, state=state)


@dataclass(frozen=True)
class RenderRequest:
    """An offline render of `programme` for `scene` into `folder`: renderer params, streaming
    block (64 .. 1024), listening-path engine ("freefield" | "room" | None: room unless
    anechoic) and early_only, the binaural paths to write, and whether to add the interaural-cue
    report (≈ 1 s more); reads: other files the caller read to make the request (the scene
    file). No output may replace a file of `inputs()` (refused before any work)."""

    scene: Scene
    programme: Programme
    folder: Path
    params: RenderParams = field(default_factory=RenderParams)
    block: int = 256
    engine: str | None = None
    early_only: bool = False
    paths: tuple[str, ...] = PATHS
    cues: bool = True
    reads: tuple[Path, ...] = ()

    def inputs(self) -> tuple[Path, ...]:
        """Every file the render reads: the programme, the scene's files, and `reads`."""
        return (self.programme.path, *scene_files(self.scene), *(Path(p) for p in self.reads))


def run(request: RenderRequest, state: TaskState | None = None) -> dict:
    """The programme at the scene's rate, then `dsp.offline_render.render_to_folder`; the
    outcome is its report (also written as report.json)."""
    from dsp import offline_render

    scene = request.scene
    refuse_outputs_on_inputs([request.folder / name for name in
                              offline_render.output_names(request.paths)], request.inputs())
    if not scene.listeners:
        raise RenderError(f"scene {scene.name!r} has no listener to render for")
    fs = scene.simulation.fs_hz
    if request.programme.fs_hz != fs:
        report(state, 0.0, "resampling")
    x = request.programme.at_rate(fs).x
    spec = offline_render.RenderRequest(paths=request.paths, block=request.block,
                                        engine=request.engine, early_only=request.early_only,
                                        params=request.params, cues=request.cues)
    return offline_render.render_to_folder(scene, x, request.folder, spec,
                                           input_info=request.programme.input_info(),
                                           state=state)


@dataclass(frozen=True)
class UpmixRequest:
    """Stereo x (n, 2) at fs_hz to L, R, C files in folder with the upmix params; reads: the
    files x was read from, which no output may replace (refused before any work)."""

    x: np.ndarray
    fs_hz: int
    folder: Path
    params: UpmixParams = field(default_factory=UpmixParams)
    reads: tuple[Path, ...] = ()


@dataclass
class UpmixOutcome:
    """files: L.wav, R.wav, C.wav as written; rms_db: their RMS levels (dB re full scale);
    latency: the upmix latency removed (samples); seconds: the duration."""

    files: list[Path]
    rms_db: dict[str, float]
    latency: int
    seconds: float


def upmix(request: UpmixRequest, state: TaskState | None = None) -> UpmixOutcome:
    """Upmix (`dsp.upmix.upmix`), aligned with the input (its latency removed), written as three
    mono 32-bit float WAVs, one `sim.outputs.batch` (all three or none)."""
    from dsp.audio_io import write_audio
    from dsp.upmix import upmix as upmix_lrc
    from sim.outputs import batch

    files = [request.folder / f"{name}.wav" for name in "LRC"]
    refuse_outputs_on_inputs(files, request.reads)
    x, fs = request.x, request.fs_hz
    report(state, 0.0, "upmixing")
    res = upmix_lrc(x, fs, request.params)
    lrc = res.aligned(len(x))
    request.folder.mkdir(parents=True, exist_ok=True)
    rms = {}
    with batch():
        for i, (name, path) in enumerate(zip("LRC", files, strict=True)):
            report(state, 0.7 + 0.1 * i, f"writing {name}.wav")
            write_audio(path, lrc[:, i], fs)
            rms[name] = 10 * np.log10(max(float(np.mean(lrc[:, i] ** 2)), 1e-30))
    report(state, 1.0, "done")
    return UpmixOutcome(files, rms, int(res.latency), len(x) / fs)
