"""PESQ-WB / STOI of the DRED chain against the Opus baselines on one loss pattern.

Harness (research note ``dred.md``, Part C): each clean file is cut to its first 8 s, level-
normalized to -26 dBov active level (RMS of the loudest half of its 10 ms frames), sent at the
same Opus bitrate in every condition, with 20 ms packets; the first and last packet of each
file are forced received and the encoder's packet-loss percentage is the file's realized loss.
One loss realization runs across all files (a trace continues from file to file).

Conditions (:data:`CONDITIONS`):

* ``no_loss`` - Opus, nothing lost (the ceiling).
* ``opus_plc`` - Opus without LBRR, libopus concealment.
* ``opus_lbrr`` - Opus with LBRR, libopus concealment elsewhere.
* ``neural_plc`` - ours without redundancy: neural PLC features + vocoder (no LBRR).
* ``dred`` - ours: LBRR + DRED + neural PLC.

Scores are against the 16 kHz clean cut (PESQ-WB P.862.2 via ``pesq``, classic STOI via
``pystoi``); kb/s are all payload bytes over audio time, no IP/UDP/RTP headers.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from dsp.dred.chain import simulate
from dsp.dred.loss import LossModel, burst_stats, loss_percent
from dsp.dred.opus import SAMPLE_RATE, OpusEncoder
from dsp.dred.receiver import load_predictor, load_vocoder
from dsp.dred.sender import DredSettings, InputError, load_models, n_packets
from dsp.percepnet.audio_io import load_mono
from dsp.percepnet.metrics import pesq_wb, stoi
from sim.task import TaskState, report, sub

CONDITIONS = ("no_loss", "opus_plc", "opus_lbrr", "neural_plc", "dred")
AUDIO_SUFFIXES = (".wav", ".flac")
TARGET_DBOV = -26.0
ACTIVE_FRAME = 160  # 10 ms frames for the active-level estimate


@dataclass(frozen=True)
class EvalSettings:
    """Evaluation options: Opus ``bitrate`` (bit/s), files, cut length (s), DRED request.

    ``dred_bitrate``: Opus bit/s of the ``dred`` condition alone (None = ``bitrate``), to
    compare at equal *total* rate: e.g. the baselines at 24 kb/s against Opus at 12 kb/s plus
    a DRED budget (``dred_kbps``) that brings the total to the same figure.
    """

    bitrate: int = 24000
    max_files: int = 12
    cut_s: float = 8.0
    seed: int = 0
    dred_ms: int = 1000
    dred_kbps: float | None = None
    dred_bitrate: int | None = None


def active_level_dbov(x: np.ndarray) -> float:
    """Level in dB re full scale of the loudest half of the 10 ms frames of ``x`` ``(n,)``."""
    n = x.size // ACTIVE_FRAME
    if n == 0:
        raise InputError("audio shorter than 10 ms")
    e = np.mean(x[: n * ACTIVE_FRAME].reshape(n, ACTIVE_FRAME) ** 2, axis=1)
    return float(10 * np.log10(np.mean(np.sort(e)[n // 2:]) + 1e-20))


def normalize(x: np.ndarray, dbov: float = TARGET_DBOV) -> np.ndarray:
    """``x`` ``(n,)`` scaled so its active level is ``dbov`` dB (float32)."""
    return (x * 10 ** ((dbov - active_level_dbov(x)) / 20)).astype(np.float32)


def condition_settings(name: str, base: DredSettings) -> DredSettings:
    """Chain settings of a condition, from ``base`` (bitrate, loss percentage, DRED request)."""
    off = dict(lbrr=False, dred=False, neural_plc=False)
    table = {"no_loss": off, "opus_plc": off, "opus_lbrr": off | {"lbrr": True},
             "neural_plc": off | {"neural_plc": True},
             "dred": dict(lbrr=True, dred=True, neural_plc=True)}
    if name not in table:
        raise ValueError(f"unknown condition {name!r}; choose from {CONDITIONS}")
    return replace(base, **table[name]).validate()


def speech_files(speech_dir: str | Path, max_files: int) -> list[Path]:
    """Up to ``max_files`` audio files under ``speech_dir`` (recursive), spread over the sorted
    list so several speakers are covered."""
    d = Path(speech_dir)
    if not d.is_dir():
        raise InputError(f"{d}: not a folder")
    files = sorted(p for p in d.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)
    if not files:
        raise InputError(f"no audio files ({', '.join(AUDIO_SUFFIXES)}) under {d}")
    if max_files < 1:
        raise InputError(f"max_files must be >= 1, got {max_files}")
    pick = np.unique(np.linspace(0, len(files) - 1, min(max_files, len(files))).astype(int))
    return [files[i] for i in pick]


def load_cut(path: Path, cut_s: float) -> np.ndarray:
    """The first ``cut_s`` seconds of a file, 16 kHz mono, at -26 dBov active level."""
    try:
        x, _ = load_mono(path, SAMPLE_RATE, dur_s=cut_s)
    except Exception as e:  # libsndfile raises several types
        raise InputError(f"{path}: cannot read audio ({e})") from None
    if x.size < SAMPLE_RATE // 2 or not np.all(np.isfinite(x)) or not np.any(x):
        raise InputError(f"{path}: empty, silent, shorter than 0.5 s or not finite")
    return normalize(x)


def evaluate(speech_dir: str | Path, loss: LossModel, settings: EvalSettings | None = None,
             state: TaskState | None = None,
             conditions: tuple[str, ...] = CONDITIONS) -> dict:
    """Scores per condition; returns ``{'settings', 'loss', 'items', 'conditions'}``.

    ``state`` (:class:`sim.task.TaskState`): progress per file and condition (the message names
    the file, its realized loss and the time so far once it is done); cancellation is noticed
    inside every chain run.

    ``conditions[name]`` holds mean ``pesq_wb``, ``stoi``, ``kbps_total``, ``kbps_dred``,
    ``mean_dred_reach_ms``, ``rtf_decode`` and summed frame ``counters``; ``items`` the per-file
    scores and realized loss.
    """
    s = settings or EvalSettings()
    files = speech_files(speech_dir, s.max_files)
    cuts = [load_cut(f, s.cut_s) for f in files]
    lookahead = OpusEncoder(bitrate=s.bitrate).lookahead
    counts = [n_packets(x.size, lookahead) for x in cuts]
    full = loss.mask(int(sum(counts)), s.seed)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    models: dict = {}
    if any(c in ("neural_plc", "dred") for c in conditions):
        models["vocoder"], models["predictor"] = load_vocoder(), load_predictor()
    if "dred" in conditions:
        models["vae"], models["codec"] = load_models()
    base = DredSettings(bitrate=s.bitrate, dred_ms=s.dred_ms, dred_kbps=s.dred_kbps)
    items = []
    t0 = time.time()
    for i, (path, x) in enumerate(zip(files, cuts, strict=True)):
        mask = full[bounds[i]:bounds[i + 1]].copy()
        mask[0] = mask[-1] = False
        perc = loss_percent(mask)
        item = {"file": path.name, "seconds": round(x.size / SAMPLE_RATE, 2),
                "loss": burst_stats(mask), "scores": {}}
        for c, name in enumerate(conditions):
            cs = condition_settings(name, replace(base, loss_perc=perc))
            if name == "dred" and s.dred_bitrate is not None:
                cs = replace(cs, bitrate=s.dred_bitrate).validate()
            step = (i + c / len(conditions)) / len(files)
            run = simulate(x, SAMPLE_RATE, cs, np.zeros_like(mask) if name == "no_loss" else mask,
                           state=sub(state, step, step + 1 / (len(conditions) * len(files)),
                                     f"{path.name}, {name}"), **models)
            item["scores"][name] = {
                "pesq_wb": pesq_wb(x, run.decoded), "stoi": stoi(x, run.decoded, SAMPLE_RATE),
                "kbps_total": run.kbps["total"], "kbps_dred": run.kbps["dred"],
                "mean_dred_reach_ms": run.mean_dred_reach_ms, "rtf_decode": run.rtf_decode,
                "counters": run.counters}
        items.append(item)
        report(state, (i + 1) / len(files), f"{i + 1}/{len(files)} {path.name}: "
               f"{100 * mask.mean():.1f} % lost ({time.time() - t0:.0f} s)")
    summary = {}
    for name in conditions:
        rows = [it["scores"][name] for it in items]
        summary[name] = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]
                         if k != "counters"}
        summary[name]["counters"] = {k: int(sum(r["counters"][k] for r in rows))
                                     for k in rows[0]["counters"]}
    realized = float(np.mean([it["loss"]["rate"] for it in items]))
    return {"settings": asdict(s), "loss": loss.describe(), "realized_loss": realized,
            "items": items, "conditions": summary}


def format_table(report: dict) -> str:
    """One line per condition: PESQ-WB, STOI, total and DRED kb/s, mean DRED reach."""
    lines = [f"{report['loss']} (realized {100 * report['realized_loss']:.1f} %), "
             f"{len(report['items'])} files",
             f"{'condition':<11} {'PESQ-WB':>7} {'STOI':>6} {'kb/s':>6} {'DRED kb/s':>9} "
             f"{'reach ms':>8}"]
    for name, c in report["conditions"].items():
        lines.append(f"{name:<11} {c['pesq_wb']:7.2f} {c['stoi']:6.3f} {c['kbps_total']:6.1f} "
                     f"{c['kbps_dred']:9.1f} {c['mean_dred_reach_ms']:8.0f}")
    return "\n".join(lines)
