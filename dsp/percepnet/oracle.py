"""Oracle modes from clean + noisy: the ladder that validates the DSP without a DNN.

Rungs (`RUNGS`): ``bin`` — ideal per-bin magnitude ratio |X|/|Y| (≤ 1) on the noisy phase;
``band`` — ideal band gains ``g_b = sqrt(E_x,b/E_y,b)`` (≤ 1) interpolated to bins;
``band+comb`` — comb filter with ideal strengths r_b (and the extra attenuation g_att);
``band+comb+pf`` — plus the envelope postfilter (strength `STRENGTH`, 0.5 by default: the paper's
full warping, strength 1, scores below ``band+comb`` with oracle gains — see postfilter.py).
"""

from __future__ import annotations

import numpy as np

from dsp.percepnet.bands import band_energy, interp_gains
from dsp.percepnet.comb import EPS, coherence, comb_frames, mix_comb, strength_target
from dsp.percepnet.features import FrameAnalysis, analyze_frames
from dsp.percepnet.postfilter import STRENGTH, postfilter
from dsp.percepnet.stft import analyze, frame_blocks, synthesize
from sim.task import TaskState, report

RUNGS = ("bin", "band", "band+comb", "band+comb+pf")


def oracle_targets(fa: FrameAnalysis, clean: np.ndarray, state: TaskState | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Ideal band gains g (with g_att folded in) and strengths r: each (n_frames, n_bands).

    clean: the target signal (samples,) aligned with the noisy one analysed in fa. Computed in
    blocks of frames, each alone; state (:class:`sim.task.TaskState`): progress per block.
    """
    fs = fa.fs_hz
    g = np.empty(fa.e_y.shape)
    r = np.empty(fa.e_y.shape)
    for a, b in frame_blocks(fa.n_frames):
        report(state, a / fa.n_frames)
        x = analyze(clean, fs, b - a, first=a)
        px = np.fft.rfft(comb_frames(clean, fs, fa.pitch.period[a:b], first=a), axis=-1)
        e_y = fa.e_y[a:b]
        gb = np.clip(np.sqrt(band_energy(x, fs) / (e_y + EPS)), 0.0, 1.0)
        gb[e_y < 1e-9] = 1.0
        r[a:b], g_att = strength_target(coherence(x, px, fs), fa.q_y[a:b])
        g[a:b] = gb * g_att
    return g, r


def apply_gains(fa: FrameAnalysis, g: np.ndarray, r: np.ndarray | None, n_samples: int,
                use_postfilter: bool = False, gate: bool = False,
                strength: float = STRENGTH) -> np.ndarray:
    """Render band gains (and comb strengths, None = no comb) into a signal (n_samples,)."""
    fs = fa.fs_hz
    z = fa.y if r is None else mix_comb(fa.y, fa.p, r, fs)
    if use_postfilter:
        g = postfilter(g, fa.e_y, gate=gate, strength=strength)
    return synthesize(z * interp_gains(g, fs), fs, n_samples)


def oracle_ladder(noisy: np.ndarray, clean: np.ndarray, fs_hz: int, gate: bool = False,
                  strength: float = STRENGTH) -> dict[str, np.ndarray]:
    """Every rung's output (samples,) for aligned noisy/clean signals at fs_hz; strength is the
    postfilter's warp exponent for the last rung."""
    fa = analyze_frames(noisy, fs_hz)
    n = len(noisy)
    x = analyze(clean, fs_hz, fa.n_frames)
    mask = np.minimum(np.abs(x) / (np.abs(fa.y) + 1e-12), 1.0)
    out = {"bin": synthesize(fa.y * mask, fs_hz, n)}
    g, r = oracle_targets(fa, clean)
    g_plain = np.clip(np.sqrt(band_energy(x, fs_hz) / (fa.e_y + EPS)), 0.0, 1.0)
    out["band"] = apply_gains(fa, g_plain, None, n)
    out["band+comb"] = apply_gains(fa, g, r, n)
    out["band+comb+pf"] = apply_gains(fa, g, r, n, use_postfilter=True, gate=gate,
                                      strength=strength)
    return out
