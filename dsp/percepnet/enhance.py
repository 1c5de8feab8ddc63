"""One-call enhancement API (CLI, GUI panel, tests) and the offline processing path.

`enhance(signal, fs_hz, options)` takes any rate and channel count (float samples, (n,) or
(n, channels)) and processes each channel: at 16 kHz directly; above 16 kHz (rates that are a
multiple of 100 Hz, e.g. 48 kHz) with the model on a 16 kHz copy and its gains applied full band in
the input rate's own band layout (`process_fullband`); other rates (8 kHz, 22.05 kHz) resampled to
16 kHz and back. Oracle mode always works at 16 kHz. It returns an `EnhanceResult` with the
output at the input rate and shape, time-aligned with the input (the 40 ms algorithmic latency
removed), plus spectrogram-ready data before/after, the band gains and notes on anything unusual
about the input. The output never exceeds 0 dBFS: where enhancement would lift a peak above full
scale, the safety limiter (`dsp.limiter.limit_file`, one gain for all channels) lowers it, and
the result says so (`limit`, and a note). With ``options.oracle_clean`` the gains come
from the clean reference (oracle mode) instead of the model.

Progress and cancellation (``state``, a :class:`sim.task.TaskState`): every stage runs in blocks
of frames (`dsp.percepnet.stft.BLOCK_FRAMES`, 0.5 s of audio, each frame computed alone or with
the recurrent state carried, so the output does not depend on the blocking), reporting progress
per block and noticing a cancel between blocks. The exception is resampling (soxr), one pass
whose cost is small per second of audio.

Errors (`EnhanceError`, a ValueError): empty signal, NaN/Inf samples, more than 2-D input, rates
outside 8 … 192 kHz, a negative or non-finite postfilter strength. Notes (not errors): clipped
input, narrowband (8 kHz) input, many channels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dsp.limiter import LimitReport, limit_file
from dsp.percepnet.bands import band_energy, interp_gains, n_bands
from dsp.percepnet.comb import comb_frames, mix_comb
from dsp.percepnet.features import (
    LOOKAHEAD_FRAMES,
    analyze_frames,
    frame_count,
    latency_samples,
    model_inputs,
)
from dsp.percepnet.model import PercepNetModel, load_model
from dsp.percepnet.oracle import oracle_targets
from dsp.percepnet.postfilter import STRENGTH, check_strength, postfilter
from dsp.percepnet.stft import analyze, frame_blocks, hop_size, overlap_add, trim
from dsp.spectrum import Spectrogram, speech_spectrogram
from sim.task import TaskState, report, sub

MODEL_FS_HZ = 16000
MIN_FS_HZ, MAX_FS_HZ = 8000, 192000
CEILING_DBFS = 0.0
"""No output sample exceeds full scale (so integer PCM never clips)."""


class EnhanceError(ValueError):
    """Input the enhancer cannot process (message is one line for the user)."""


@dataclass
class EnhanceOptions:
    """use_comb / use_postfilter: chain switches; postfilter_gate: fade the postfilter out at high
    estimated SNR; postfilter_strength: the warp exponent s of ``g·sin(πg/2)^s`` (1 = the paper's
    warping, 0.5 the measured best, see postfilter.py); weights: 'float16', 'int8' or a weights
    file; oracle_clean: clean reference (same rate and shape as the input) for oracle gains
    instead of the model."""

    use_comb: bool = True
    use_postfilter: bool = True
    postfilter_gate: bool = False
    postfilter_strength: float = STRENGTH
    weights: str = "float16"
    oracle_clean: np.ndarray | None = None


@dataclass
class EnhanceResult:
    """output: like the input ((n,) or (n, ch)) at fs_hz, never above `CEILING_DBFS`; gains:
    band gains of channel 0 (frames, n_bands) at the model rate; before/after: spectrograms of
    channel 0; limit: what the safety limiter did to the output."""

    output: np.ndarray
    fs_hz: int
    latency_s: float
    before: Spectrogram
    after: Spectrogram
    gains: np.ndarray
    strengths: np.ndarray
    limit: LimitReport
    notes: list[str] = field(default_factory=list)


def process(x: np.ndarray, model: PercepNetModel | None, use_comb: bool = True,
            use_postfilter: bool = True, gate: bool = False,
            clean: np.ndarray | None = None, strength: float = STRENGTH,
            state: TaskState | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Offline enhancement of a mono signal (n,) at the model rate, latency removed.

    Returns (output (n,), gains (frames, n_bands), strengths (frames, n_bands)). Equals the
    streaming processor's output advanced by `latency_samples`. With clean given, oracle gains.
    strength: the postfilter's warp exponent. state: progress per block (analysis 0 … 0.4,
    model or oracle 0.4 … 0.8, synthesis 0.8 … 1), cancellation between blocks.
    """
    fs = MODEL_FS_HZ if model is None else model.fs_hz
    fa = analyze_frames(x, fs, state=sub(state, 0.0, 0.4))
    if clean is not None:
        g, r = oracle_targets(fa, clean, sub(state, 0.4, 0.8))
    else:
        g, r = model.run(model_inputs(fa), sub(state, 0.4, 0.8))
        g = g[LOOKAHEAD_FRAMES:].astype(np.float64)
        r = r[LOOKAHEAD_FRAMES:].astype(np.float64)
        if not use_comb:
            r = np.zeros_like(r)
    out = np.zeros((fa.n_frames + 1) * hop_size(fs))
    for a, b in frame_blocks(fa.n_frames):
        report(state, 0.8 + 0.2 * a / fa.n_frames)
        y = fa.y[a:b]
        z = mix_comb(y, fa.p[a:b], r[a:b], fs) if use_comb else y
        gb = g[a:b]
        gp = postfilter(gb, fa.e_y[a:b], gate=gate, strength=strength) if use_postfilter else gb
        overlap_add(out, z * interp_gains(gp, fs), fs, first=a)
    return trim(out, fs, len(x)), g, r


def process_fullband(x: np.ndarray, fs_hz: int, model: PercepNetModel, use_comb: bool = True,
                     use_postfilter: bool = True, gate: bool = False,
                     strength: float = STRENGTH, state: TaskState | None = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Offline enhancement of a mono signal at a rate above the model's (e.g. 48 kHz).

    The model runs on the signal resampled to 16 kHz; its gains are applied in the input rate's
    own STFT and band layout, whose lower 27 bands are the 16 kHz bands (same 50 Hz bins, same
    10 ms frames). Bands above 8 kHz take the top model band's gain and no comb filtering; the
    comb uses the 16 kHz period scaled to the input rate. Returns (output (n,), gains, strengths)
    with gains/strengths at the model's 27 bands. state: progress per block (16 kHz analysis
    0 … 0.3, model 0.3 … 0.5, full-band filtering 0.5 … 1), cancellation between blocks.
    """
    x16 = _resample(x, fs_hz, model.fs_hz)
    fa16 = analyze_frames(x16, model.fs_hz, state=sub(state, 0.0, 0.3))
    g16, r16 = model.run(model_inputs(fa16), sub(state, 0.3, 0.5))
    g16 = g16[LOOKAHEAD_FRAMES:].astype(np.float64)
    r16 = r16[LOOKAHEAD_FRAMES:].astype(np.float64)
    n_frames = frame_count(len(x), fs_hz)
    rows = np.minimum(np.arange(n_frames), g16.shape[0] - 1)
    nb = n_bands(fs_hz)
    extra = nb - g16.shape[1]
    g = np.concatenate([g16[rows], np.repeat(g16[rows, -1:], extra, axis=1)], axis=1)
    r = np.concatenate([r16[rows], np.zeros((n_frames, extra))], axis=1)
    period = np.rint(fa16.pitch.period[rows] * fs_hz / model.fs_hz).astype(int)
    out = np.zeros((n_frames + 1) * hop_size(fs_hz))
    for a, b in frame_blocks(n_frames):
        report(state, 0.5 + 0.5 * a / n_frames)
        y = analyze(x, fs_hz, b - a, first=a)
        if use_comb:
            p = np.fft.rfft(comb_frames(x, fs_hz, period[a:b], first=a), axis=-1)
            z = mix_comb(y, p, r[a:b], fs_hz)
        else:
            z = y
        gb = g[a:b]
        gp = (postfilter(gb, band_energy(y, fs_hz), gate=gate, strength=strength)
              if use_postfilter else gb)
        overlap_add(out, z * interp_gains(gp, fs_hz), fs_hz, first=a)
    return trim(out, fs_hz, len(x)), g16, r16


def _check(signal: np.ndarray, fs_hz: int) -> tuple[np.ndarray, list[str]]:
    notes: list[str] = []
    x = np.asarray(signal)
    if not np.issubdtype(x.dtype, np.number):
        raise EnhanceError(f"samples must be numbers, not {x.dtype}")
    if np.issubdtype(x.dtype, np.integer):
        x = x / float(-np.iinfo(x.dtype).min)
    x = np.asarray(x, dtype=np.float64)
    if x.ndim not in (1, 2):
        raise EnhanceError(f"signal must be (samples,) or (samples, channels), got shape {x.shape}")
    if x.shape[0] == 0 or x.size == 0:
        raise EnhanceError("signal is empty (0 samples)")
    if not MIN_FS_HZ <= fs_hz <= MAX_FS_HZ:
        raise EnhanceError(f"sample rate {fs_hz} Hz is outside {MIN_FS_HZ} .. {MAX_FS_HZ} Hz")
    bad = ~np.isfinite(x)
    if bad.any():
        first = int(np.argwhere(bad)[0][0])
        raise EnhanceError(f"signal has {int(bad.sum())} NaN/Inf samples (first at sample {first})")
    clipped = int(np.sum(np.abs(x) >= 0.999))
    if clipped:
        notes.append(f"input is clipped ({clipped} samples at full scale): clipping distortion "
                     "is not removed")
    if fs_hz < MODEL_FS_HZ:
        notes.append(f"{fs_hz} Hz input is processed at {MODEL_FS_HZ} Hz (upsampled; no content "
                     f"above {fs_hz // 2} Hz)")
    elif fs_hz > MODEL_FS_HZ and fs_hz % 100:
        notes.append(f"{fs_hz} Hz is not a multiple of 100 Hz: processed at {MODEL_FS_HZ} Hz, "
                     "content above 8 kHz is removed")
    elif fs_hz > MODEL_FS_HZ:
        notes.append(f"{fs_hz} Hz input: the model runs at {MODEL_FS_HZ} Hz; its gains are applied "
                     f"full band ({n_bands(fs_hz)} bands, those above 8 kHz follow the top band)")
    if x.ndim == 2 and x.shape[1] > 2:
        notes.append(f"{x.shape[1]} channels: each channel is enhanced separately")
    return x, notes


def _resample(x: np.ndarray, fs_in: int, fs_out: int) -> np.ndarray:
    if fs_in == fs_out:
        return x
    import soxr

    return soxr.resample(x, fs_in, fs_out)


def enhance(signal: np.ndarray, fs_hz: int, options: EnhanceOptions | None = None,
            state: TaskState | None = None) -> EnhanceResult:
    """Enhance a signal of any rate/channel count; see the module docstring. state: progress
    per block (the channels share 0 … 0.9, the two spectrograms 0.9 … 1)."""
    opt = options or EnhanceOptions()
    try:
        check_strength(opt.postfilter_strength)
    except (TypeError, ValueError) as e:
        raise EnhanceError(str(e)) from None
    x, notes = _check(signal, int(fs_hz))
    fs_hz = int(fs_hz)
    model = None if opt.oracle_clean is not None else load_model(opt.weights)
    chans = x[:, None] if x.ndim == 1 else x
    clean = None
    if opt.oracle_clean is not None:
        clean, _ = _check(opt.oracle_clean, fs_hz)
        clean = clean[:, None] if clean.ndim == 1 else clean
        if clean.shape[0] != chans.shape[0]:
            raise EnhanceError(f"oracle clean signal has {clean.shape[0]} samples, the input "
                               f"{chans.shape[0]}")
        if clean.shape[1] != chans.shape[1]:
            clean = np.repeat(clean.mean(axis=1, keepdims=True), chans.shape[1], axis=1)
    out = np.empty_like(chans)
    g0 = r0 = None
    n_ch = chans.shape[1]
    for c in range(n_ch):
        part = sub(state, 0.9 * c / n_ch, 0.9 * (c + 1) / n_ch,
                   f"channel {c + 1}/{n_ch}" if n_ch > 1 else "")
        if model is not None and fs_hz > MODEL_FS_HZ and fs_hz % 100 == 0:
            yr, g, r = process_fullband(chans[:, c], fs_hz, model, opt.use_comb,
                                        opt.use_postfilter, opt.postfilter_gate,
                                        opt.postfilter_strength, part)
        else:
            xm = _resample(chans[:, c], fs_hz, MODEL_FS_HZ)
            cm = None if clean is None else _resample(clean[:, c], fs_hz, MODEL_FS_HZ)
            y, g, r = process(xm, model, opt.use_comb, opt.use_postfilter, opt.postfilter_gate,
                              cm, opt.postfilter_strength, part)
            yr = _resample(y, MODEL_FS_HZ, fs_hz)
        n = chans.shape[0]
        out[:, c] = np.pad(yr, (0, max(0, n - len(yr))))[:n]
        if c == 0:
            g0, r0 = g, r
    out, limited = limit_file(out, fs_hz, CEILING_DBFS)
    if limited.limited_samples:
        notes.append(f"output peaked at {limited.peak_before_dbfs:+.1f} dBFS: limited to"
                     f" {CEILING_DBFS:g} dBFS (up to {limited.reduction_db:.1f} dB on"
                     f" {limited.limited_samples} samples)")
    output = out[:, 0] if x.ndim == 1 else out
    before = speech_spectrogram(chans[:, 0], fs_hz, sub(state, 0.9, 0.95, "spectrograms"))
    after = speech_spectrogram(out[:, 0], fs_hz, sub(state, 0.95, 1.0, "spectrograms"))
    report(state, 1.0)
    return EnhanceResult(output, fs_hz, latency_samples(MODEL_FS_HZ) / MODEL_FS_HZ, before,
                         after, g0, r0, limited, notes)

