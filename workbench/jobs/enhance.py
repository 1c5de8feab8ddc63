"""The enhancement job: PercepNet (`dsp.percepnet.enhance`) of a talker heard at a device
microphone in the scene, or of an audio file, scored against the clean signal when one is known.
Behind the Enhancement panel and `awb enhance`.

Source "scene" simulates the chosen talker and noise sources at one device microphone (free field
or room, 16 kHz; `dsp.mic_mix`), so the clean talker image is known; source "file" reads any
rate and channel count, with an optional clean reference (same rate; mixed to mono, cut or padded
to the input with a note). Oracle gains come from the clean signal when it is known. Scores:
PESQ-WB / STOI / SI-SDR of the input and the output against the clean signal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dsp.audio_io import AudioFileError
from dsp.clip_paths import ClipSet, make_clips
from dsp.percepnet.postfilter import STRENGTH
from sim.scene import Scene
from sim.task import TaskState, check, report, sub
from workbench.jobs.audio_file import read_samples
from workbench.jobs.inputs import refuse_outputs_on_inputs, scene_files

SCENE_FS_HZ = 16000
"""Rate of the simulated microphone signal: the model's own rate (fast, no resampling)."""


@dataclass(frozen=True)
class EnhanceRequest:
    """What to process and how.

    source "scene": scene, engine, mic, talker (source index), noises (source indices), seconds;
    source "file": noisy_path and optional clean_path. Processing: use_comb, use_postfilter,
    postfilter_strength (warp exponent s of ``g·sin(πg/2)^s``), postfilter_gate (fade the
    postfilter out at high estimated SNR), int8 weights, oracle (gains from the clean signal,
    when one is known). out_path: also write the output there, in the input file's format where
    the name allows ("": do not write; never over a file of `inputs()`, refused before any work).
    listen: make the loudness-matched A/B clips. reads: other files the caller read to make the
    request (`workbench.jobs.inputs`).
    """

    source: str
    scene: Scene | None = None
    engine: str = "freefield"
    mic: int = 0
    talker: int | None = None
    noises: tuple[int, ...] = ()
    seconds: float = 4.0
    noisy_path: str = ""
    clean_path: str = ""
    use_comb: bool = True
    use_postfilter: bool = True
    postfilter_strength: float = STRENGTH
    postfilter_gate: bool = False
    int8: bool = False
    oracle: bool = False
    out_path: str = ""
    listen: bool = True
    reads: tuple[str, ...] = ()

    def inputs(self) -> tuple[Path, ...]:
        """Every file the job reads: the input file and its clean reference, or the scene's
        signal files; and `reads`."""
        own = ((self.noisy_path, self.clean_path) if self.source == "file"
               else scene_files(self.scene))
        return tuple(Path(p) for p in (*own, *self.reads) if p)


@dataclass
class EnhanceOutcome:
    """noisy: the input ((n,) or (n, ch)) at fs_hz; clean: the clean signal (n,) or None;
    result: `dsp.percepnet.enhance.EnhanceResult`; metrics_*: {pesq_wb, stoi, si_sdr} or None
    without a clean signal; oracle: the gains came from the clean signal; label: what was
    processed; notes: anything unusual; clips: Noisy / Enhanced (/ Clean) for A/B listening
    (None unless asked); inputs: the files it read (`EnhanceRequest.inputs`), which a save of
    the output must not replace."""

    noisy: np.ndarray
    clean: np.ndarray | None
    fs_hz: int
    result: object
    metrics_noisy: dict | None
    metrics_enhanced: dict | None
    oracle: bool
    label: str
    notes: list[str] = field(default_factory=list)
    clips: ClipSet | None = None
    inputs: tuple[Path, ...] = ()


def _mono(x: np.ndarray) -> np.ndarray:
    return x if x.ndim == 1 else x[:, 0]


def _playable(x: np.ndarray) -> np.ndarray:
    """Mono or stereo as it is; more channels: the first (the one the spectrograms show)."""
    return x if x.ndim == 1 or x.shape[1] <= 2 else x[:, 0]


def enhance_clips(noisy: np.ndarray, enhanced: np.ndarray, clean: np.ndarray | None,
                  fs_hz: int) -> ClipSet:
    """Noisy / Enhanced (/ Clean) for A/B listening, loudness-matched to the noisy input."""
    clips = {"Noisy": _playable(noisy), "Enhanced": _playable(enhanced)}
    if clean is not None:
        clips["Clean"] = clean
    return make_clips(clips, fs_hz, match_loudness=True)


def _clean_reference(path: str, fs_hz: int, n: int, notes: list[str]) -> np.ndarray:
    """The clean reference (n,) for an input of n samples at fs_hz: mono, cut or padded."""
    c, fs_c = read_samples(path)
    if fs_c != fs_hz:
        raise AudioFileError(f"{path}: the clean reference is {fs_c} Hz, the input {fs_hz} Hz")
    c = c if c.ndim == 1 else c.mean(axis=1)
    if abs(len(c) - n) > fs_hz // 10:
        notes.append(f"clean reference is {len(c) / fs_hz:.2f} s, the input {n / fs_hz:.2f} s:"
                     " cut/padded to the input")
    return np.pad(c, (0, max(0, n - len(c))))[:n]


def _scene_input(req: EnhanceRequest, state: TaskState | None):
    """(noisy, clean, fs, label) of the talker and noises simulated at the microphone."""
    from dsp.mic_mix import scene_mic_mix
    from sim.transfer import simulate

    report(state, 0.0, f"Simulating ({req.engine}) …")
    tr = simulate(req.scene, req.engine, fs_hz=SCENE_FS_HZ, talkers=True,
                  state=sub(state, 0.0, 0.4))
    report(state, 0.4, "Mixing at the microphone …")
    mix = scene_mic_mix(req.scene, tr, mic=req.mic, seconds=req.seconds, talker=req.talker,
                        noises=list(req.noises))
    mic_name = req.scene.device.microphones[req.mic].name
    return (mix.mixture, mix.clean, mix.fs_hz,
            f"{mic_name}, {req.engine}, SNR {mix.snr_db:.1f} dB")


def _write_like(path: Path, y: np.ndarray, fs_hz: int, source: Path | None) -> None:
    """Write y at fs_hz (atomically, `dsp.audio_io.write_audio`) in the source file's sample
    format where path's format holds it (the finest it holds otherwise, or without a source)."""
    import soundfile as sf

    from dsp.audio_io import write_audio

    write_audio(path, y, fs_hz, subtype=sf.info(str(source)).subtype if source else None)


def run(request: EnhanceRequest, state: TaskState | None = None) -> EnhanceOutcome:
    """Simulate or read the input, enhance it (progress per block), score it, write and clip it
    as asked. Raises `dsp.audio_io.AudioFileError` or `dsp.percepnet.enhance.EnhanceError`
    (one line)."""
    from dsp.percepnet.enhance import EnhanceOptions, enhance
    from dsp.percepnet.metrics import score_all

    req = request
    refuse_outputs_on_inputs([req.out_path], req.inputs())
    check(state)
    notes: list[str] = []
    if req.source == "scene":
        noisy, clean, fs, label = _scene_input(req, state)
    else:
        report(state, 0.0, "Reading …")
        noisy, fs = read_samples(req.noisy_path)
        clean = (_clean_reference(req.clean_path, fs, noisy.shape[0], notes) if req.clean_path
                 else None)
        label = Path(req.noisy_path).name
    oracle = req.oracle and clean is not None
    opts = EnhanceOptions(use_comb=req.use_comb, use_postfilter=req.use_postfilter,
                          postfilter_gate=req.postfilter_gate,
                          postfilter_strength=req.postfilter_strength,
                          weights="int8" if req.int8 else "float16",
                          oracle_clean=clean if oracle else None)
    result = enhance(noisy, fs, opts, sub(state, 0.45, 0.8, "Enhancing (oracle gains)" if oracle
                                          else "Enhancing"))
    if req.out_path:
        _write_like(Path(req.out_path), result.output, fs,
                    Path(req.noisy_path) if req.source == "file" else None)
    m_noisy = m_enh = None
    if clean is not None:
        report(state, 0.8, "Scoring …")
        m_noisy = score_all(clean, _mono(noisy), fs)
        check(state)
        m_enh = score_all(clean, _mono(result.output), fs)
    clips = None
    if req.listen:
        report(state, 0.95, "Matching loudness for listening …")
        clips = enhance_clips(noisy, result.output, clean, fs)
    report(state, 1.0, "Done")
    return EnhanceOutcome(noisy, clean, fs, result, m_noisy, m_enh, oracle, label,
                          notes + list(result.notes), clips, req.inputs())
