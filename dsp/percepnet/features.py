"""Frame analysis shared by the oracle, the offline path, training and streaming.

Timing (H = hop): at step j the input is known up to sample (j+1)·H. The look-ahead frame is j;
the frame being enhanced is ``k = j − LOOKAHEAD_FRAMES`` (3 frames = 30 ms), because its pitch is
decided by the fixed-lag Viterbi at step j and its comb filter reads up to ``k·H + H + 3·T_max =
(j+1)·H``. Enhanced samples are final up to k·H, so the total algorithmic latency is
``(LOOKAHEAD_FRAMES + 1)·H`` = 40 ms (30 ms look-ahead + 10 ms window overlap).

Model input at step j (``2·n_bands + 2`` values; 56 at 16 kHz, 70 at 48 kHz):
``log10`` band energies of the look-ahead frame j, the pitch coherences q_y of frame k, frame k's
normalised period and its pitch correlation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dsp.percepnet.bands import band_energy, n_bands
from dsp.percepnet.comb import coherence, comb_frames
from dsp.percepnet.pitch import VITERBI_LAG, PitchTrack, pitch_range, track_pitch
from dsp.percepnet.stft import analyze, frame_blocks, hop_size
from sim.task import TaskState, report, sub

LOOKAHEAD_FRAMES = VITERBI_LAG
ENERGY_FLOOR = 1e-10


def latency_samples(fs_hz: int) -> int:
    """Total algorithmic latency in samples: (look-ahead frames + 1 overlap) hops."""
    return (LOOKAHEAD_FRAMES + 1) * hop_size(fs_hz)


def n_features(fs_hz: int) -> int:
    """Model input size: 2·n_bands + 2."""
    return 2 * n_bands(fs_hz) + 2


def log_energy(e: np.ndarray, fs_hz: int) -> np.ndarray:
    """Band log energies normalised by the window length (level of a full-scale sine ≈ 0)."""
    return np.log10(e / (2 * hop_size(fs_hz)) ** 2 + ENERGY_FLOOR)


def period_feature(period: np.ndarray, corr: np.ndarray, fs_hz: int) -> np.ndarray:
    """(normalised period in [−0.5, 0.5], pitch correlation): (…, 2)."""
    pr = pitch_range(fs_hz)
    t = (period - pr.t_min) / (pr.t_max - pr.t_min) - 0.5
    return np.stack([t, corr], axis=-1)


@dataclass
class FrameAnalysis:
    """Everything per frame for frames 0 … n−1 (n = ceil(len/H) + 1).

    y: noisy spectra (n, n_bins) complex; p: comb-filtered spectra (n, n_bins); e_y: band
    energies (n, n_bands); q_y: pitch coherences (n, n_bands); pitch: periods and correlations.
    """

    fs_hz: int
    y: np.ndarray
    p: np.ndarray
    e_y: np.ndarray
    q_y: np.ndarray
    pitch: PitchTrack

    @property
    def n_frames(self) -> int:
        return self.y.shape[0]


def frame_count(n_samples: int, fs_hz: int) -> int:
    """Frames needed so every input sample is final after overlap-add."""
    return -(-n_samples // hop_size(fs_hz)) + 1


def analyze_frames(x: np.ndarray, fs_hz: int, n_frames: int | None = None,
                   state: TaskState | None = None) -> FrameAnalysis:
    """STFT, pitch track, comb filter and coherences of x (samples,) at fs_hz.

    Computed in blocks of frames (`dsp.percepnet.stft.BLOCK_FRAMES`), each frame alone, so the
    result does not depend on the blocking; ``state`` (:class:`sim.task.TaskState`) gets
    progress per block (pitch track 0 … 0.5, the rest 0.5 … 1).
    """
    if n_frames is None:
        n_frames = frame_count(len(x), fs_hz)
    pitch = track_pitch(x, fs_hz, n_frames, sub(state, 0.0, 0.5))
    n_bins = hop_size(fs_hz) + 1
    y = np.empty((n_frames, n_bins), complex)
    p = np.empty((n_frames, n_bins), complex)
    for a, b in frame_blocks(n_frames):
        report(state, 0.5 + 0.5 * a / n_frames)
        y[a:b] = analyze(x, fs_hz, b - a, first=a)
        p[a:b] = np.fft.rfft(comb_frames(x, fs_hz, pitch.period[a:b], first=a), axis=-1)
    return FrameAnalysis(fs_hz, y, p, band_energy(y, fs_hz), coherence(y, p, fs_hz), pitch)


def model_inputs(fa: FrameAnalysis) -> np.ndarray:
    """Model inputs for every step j = 0 … n−1+L: (n + L, n_features), L = LOOKAHEAD_FRAMES.

    Row j holds frame j's energies (zero signal beyond the end) and frame k = j − L's pitch
    features (zeros for k < 0). Row j's outputs are the gains of frame k.
    """
    fs = fa.fs_hz
    n, la = fa.n_frames, LOOKAHEAD_FRAMES
    nb = fa.e_y.shape[1]
    feats = np.zeros((n + la, 2 * nb + 2))
    feats[:, :nb] = log_energy(0.0, fs)
    feats[:n, :nb] = log_energy(fa.e_y, fs)
    feats[la:, nb:2 * nb] = fa.q_y
    feats[la:, 2 * nb:] = period_feature(fa.pitch.period, fa.pitch.corr, fs)
    feats[:la, 2 * nb:] = period_feature(np.full(la, pitch_range(fs).t_min), np.zeros(la), fs)
    return feats
