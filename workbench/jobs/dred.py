"""The DRED jobs: speech through Opus with deep redundancy over a lossy channel
(`dsp.dred.chain.simulate`). Behind the DRED panel and `awb dred simulate`.

    run(DredRequest, state) → DredOutcome            the chosen settings against the Opus
                                                     LBRR + PLC baseline, one loss mask, scores
    transmit(TransmitRequest, state) → TransmitOutcome   one file through the chain to a file

Input: a speech file (any rate and channel count: the chain takes a 16 kHz mono mix) or, for
`run`, the scene's talker simulated at a device microphone (free field or room, 16 kHz, no noise;
`dsp.mic_mix`). The loss the encoder expects is given, or the loss model's own
(`dsp.dred.loss.loss_percent`): `chain_settings` decides it for both faces.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from dsp.clip_paths import ClipSet, make_clips
from dsp.dred.loss import SPEC_SYNTAX, LossError, LossModel, loss_percent, parse_loss, read_trace
from dsp.dred.sender import DredSettings, SettingsError
from sim.scene import Scene
from sim.task import TaskState, check, report, sub
from workbench.jobs.audio_file import read_samples
from workbench.jobs.inputs import refuse_outputs_on_inputs, scene_files

FS_HZ = 16000
"""The chain's rate: the clean and decoded signals of an outcome are 16 kHz mono."""
PACKET_S = 0.02
DEFAULT_LOSS = "ge:0.2,10"
FILLED = ("lbrr", "dred", "plc", "opus_plc")
"""How a lost packet can be filled (`dsp.dred.receiver.SOURCES` less "regular")."""
BASELINE_LABEL = "Opus LBRR+PLC"


class DredInputError(ValueError):
    """A setting or loss spec refused before anything runs (the message says why)."""


def input_errors() -> tuple[type[Exception], ...]:
    """Exceptions that mean bad input or missing/corrupt weights (one line for the user)."""
    from dsp.audio_io import AudioFileError
    from dsp.dred.packet import PacketError
    from dsp.dred.payload import PayloadError
    from dsp.dred.plc import PlcError
    from dsp.dred.rdovae import RdoVaeError
    from dsp.dred.receiver import ReceiverError
    from dsp.dred.sender import InputError
    from dsp.dred.vocoder import VocoderError

    return (AudioFileError, DredInputError, LossError, PacketError, PayloadError, PlcError,
            RdoVaeError, ReceiverError, InputError, SettingsError, VocoderError)


def trace_file(spec: str) -> Path | None:
    """The loss trace file a loss spec reads (None for the other models and bad specs)."""
    try:
        model = parse_loss(spec)
    except LossError:
        return None
    return Path(model.path) if model.kind == "trace" else None


def settings_label(s: DredSettings) -> str:
    """Short name of what fills losses with these settings, e.g. 'DRED 1000 ms + neural PLC'."""
    parts = [f"DRED {s.n_chunks * 40} ms"] if s.dred else []
    parts.append("neural PLC" if s.neural_plc else "Opus PLC")
    return ("LBRR + " if s.lbrr else "") + " + ".join(parts)


def check_loss(spec: str) -> LossModel:
    """The loss model of a spec, with a trace file read now; DredInputError naming the syntax
    otherwise."""
    try:
        model = parse_loss(spec)
        if model.kind == "trace":
            read_trace(model.path)
    except LossError as e:
        text = str(e)
        if SPEC_SYNTAX not in text:
            text = f"{text} (a loss model is {SPEC_SYNTAX})"
        raise DredInputError(f"Loss model: {text}") from None
    return model


def chain_settings(settings: DredSettings, loss: LossModel,
                   expected_loss: int | None = None) -> DredSettings:
    """settings with the loss the encoder expects (percent: `expected_loss`, or None for the
    loss model's own), validated; DredInputError naming the bad setting."""
    perc = loss_percent(loss) if expected_loss is None else expected_loss
    try:
        return replace(settings, loss_perc=perc).validate()
    except SettingsError as e:
        raise DredInputError(f"Setting {e}") from None


def lost_spans(lost: np.ndarray, sources: np.ndarray, lookahead: int,
               fs_hz: int = FS_HZ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Where each lost packet sits in the decoded (input-aligned) audio, by how it was filled:
    {source name: (starts_s (m,), widths_s (m,))}, consecutive packets of one source merged.

    Packet k covers samples [320 k − L, 320 (k + 1) − L) of the output (L: Opus look-ahead),
    so the first packet starts L samples before 0. Every span is a whole number of packets.
    """
    from dsp.dred.receiver import SOURCES

    lost = np.asarray(lost, dtype=bool)
    sources = np.asarray(sources)
    per = round(PACKET_S * fs_hz)
    out = {}
    for name in FILLED:
        mark = lost & (sources == SOURCES.index(name))
        edges = np.diff(np.concatenate([[0], mark.astype(np.int8), [0]]))
        first, end = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        out[name] = ((first * per - lookahead) / fs_hz, (end - first) * per / fs_hz)
    return out


@dataclass(frozen=True)
class DredRequest:
    """What to process. source "file": path; source "scene": scene, engine, mic, talker
    (source index); seconds: at most this much of the input; settings (`chain_settings`);
    loss: the spec string (`dsp.dred.loss.parse_loss`); seed of the loss mask; reads: other
    files the caller read to make the request (`workbench.jobs.inputs`)."""

    source: str
    path: str = ""
    scene: Scene | None = None
    engine: str = "freefield"
    mic: int = 0
    talker: int | None = None
    seconds: float = 8.0
    settings: DredSettings = field(default_factory=DredSettings)
    loss: str = DEFAULT_LOSS
    seed: int = 0
    reads: tuple[str, ...] = ()

    def inputs(self) -> tuple[Path, ...]:
        """Every file the job reads: the input file or the scene's signal files, a loss trace,
        and `reads`."""
        own = (self.path,) if self.source == "file" else scene_files(self.scene)
        return tuple(Path(p) for p in (*own, trace_file(self.loss), *self.reads) if p)


@dataclass
class DredOutcome:
    """run: the chosen settings (dsp.dred.chain.DredRun); baseline: DRED and neural PLC off,
    same loss mask (the same object as run when the settings already are the baseline);
    metrics: {"run": {pesq_wb, stoi} | None, "baseline": …} against run.clean16; spans:
    `lost_spans` of run; lookahead: Opus look-ahead in samples; clips for listening; inputs:
    the files it read (`DredRequest.inputs`), which a save of the output must not replace."""

    run: object
    baseline: object
    metrics: dict
    spans: dict
    lookahead: int
    label: str
    run_label: str
    clips: ClipSet
    notes: list[str]
    inputs: tuple[Path, ...] = ()


def _score(clean: np.ndarray, decoded: np.ndarray, notes: list[str], what: str) -> dict | None:
    from pesq import PesqError

    from dsp.percepnet.metrics import pesq_wb, stoi

    try:
        return {"pesq_wb": pesq_wb(clean, decoded, FS_HZ), "stoi": stoi(clean, decoded, FS_HZ)}
    except PesqError as e:  # no speech found, or too short for PESQ
        notes.append(f"{what}: no PESQ/STOI ({type(e).__name__}: {e})")
        return None


def _input(req: DredRequest, state: TaskState | None) -> tuple[np.ndarray, float, str]:
    """The speech to send, its rate, and a label."""
    if req.source == "scene":
        from dsp.mic_mix import scene_mic_mix
        from sim.transfer import simulate as transfer

        report(state, 0.0, f"Simulating the talker ({req.engine}) …")
        tr = transfer(req.scene, req.engine, fs_hz=FS_HZ, talkers=True,
                      state=sub(state, 0.0, 0.15))
        mix = scene_mic_mix(req.scene, tr, mic=req.mic, seconds=req.seconds,
                            talker=req.talker, noises=[])
        mic = req.scene.device.microphones[req.mic].name
        talker = req.scene.sources[req.talker].name if req.talker is not None else "talker"
        return mix.clean, float(FS_HZ), f"{talker} at {mic}, {req.engine}"
    report(state, 0.0, "Reading …")
    x, fs = read_samples(req.path)
    return x[:round(req.seconds * fs)], float(fs), Path(req.path).name


def run(request: DredRequest, state: TaskState | None = None) -> DredOutcome:
    """The input, both simulations with one loss mask (progress per packet), the scores."""
    from dsp.dred.chain import simulate
    from dsp.dred.opus import OpusEncoder

    req = request
    check(state)
    notes: list[str] = []
    x, fs, label = _input(req, state)
    loss = check_loss(req.loss)
    base_settings = replace(req.settings, dred=False, neural_plc=False)
    same = base_settings == req.settings
    run = simulate(x, fs, req.settings, loss, seed=req.seed,
                   state=sub(state, 0.2, 0.75 if not same else 0.9,
                             f"Sending with {settings_label(req.settings)}"))
    if same:
        base = run
        notes.append("DRED and the neural PLC are off: the chosen settings are the baseline")
    else:
        base = simulate(x, fs, base_settings, loss, seed=req.seed,
                        state=sub(state, 0.75, 0.9, f"Sending with {BASELINE_LABEL}"))
    report(state, 0.9, "Scoring …")
    metrics = {"run": _score(run.clean16, run.decoded, notes, "chosen settings")}
    metrics["baseline"] = metrics["run"] if same else _score(base.clean16, base.decoded, notes,
                                                             BASELINE_LABEL)
    check(state)
    lookahead = OpusEncoder(sample_rate=FS_HZ).lookahead
    run_label = "DRED" if req.settings.dred else (
        "Neural PLC" if req.settings.neural_plc else BASELINE_LABEL)
    clips = {"Clean": run.clean16, BASELINE_LABEL: base.decoded}
    if not same:
        clips[run_label] = run.decoded
    report(state, 1.0, "Done")
    return DredOutcome(run=run, baseline=base, metrics=metrics,
                       spans=lost_spans(run.lost, run.sources, lookahead), lookahead=lookahead,
                       label=label, run_label=run_label,
                       clips=make_clips(clips, FS_HZ, match_loudness=False), notes=notes,
                       inputs=req.inputs())


@dataclass(frozen=True)
class TransmitRequest:
    """One speech file through the chain: settings (`chain_settings`), loss spec and seed;
    seconds: at most this much of the file (None: all); out_path: the received audio at the
    input's rate, mono, as long as the input sent (16-bit PCM for .wav); report_path: the
    JSON report (None: none); reads: other files the caller read to make the request. Neither
    output may replace a file of `inputs()` (refused before any work)."""

    path: Path
    out_path: Path
    settings: DredSettings
    loss: str
    seed: int = 0
    seconds: float | None = None
    report_path: Path | None = None
    reads: tuple[Path, ...] = ()

    def inputs(self) -> tuple[Path, ...]:
        """Every file the job reads: the speech file, a loss trace, and `reads`."""
        return tuple(Path(p) for p in (self.path, trace_file(self.loss), *self.reads) if p)


@dataclass
class TransmitOutcome:
    """run: the chain's `DredRun`; report: its report with the input and output named."""

    run: object
    report: dict


def transmit(request: TransmitRequest, state: TaskState | None = None) -> TransmitOutcome:
    """Refuse outputs on inputs, read, send (progress per packet), then write the received audio
    and the report as one `sim.outputs.batch` (both or neither)."""
    import json

    from dsp.audio_io import write_audio
    from dsp.dred.chain import simulate
    from sim.outputs import batch, write_text

    req = request
    refuse_outputs_on_inputs([req.out_path, req.report_path], req.inputs())
    x, fs = read_samples(req.path)
    if req.seconds is not None:
        x = x[:round(req.seconds * fs)]
    run = simulate(x, fs, req.settings, check_loss(req.loss), seed=req.seed, state=state)
    y = run.decoded.astype(np.float64)
    if fs != FS_HZ:
        import soxr

        y = soxr.resample(y, FS_HZ, fs)
    y = np.pad(y, (0, max(x.shape[0] - y.size, 0)))[: x.shape[0]]
    out = Path(req.out_path)
    doc = run.to_report() | {"input": str(req.path), "input_rate_hz": int(fs),
                             "output": str(out), "seed": req.seed}
    with batch():
        # PCM_16 where the container holds it (WAV, FLAC), else its own (Ogg Vorbis).
        write_audio(out, y, fs, subtype="PCM_16")
        if req.report_path is not None:
            write_text(req.report_path, json.dumps(doc, indent=1) + "\n")
    return TransmitOutcome(run, doc)
