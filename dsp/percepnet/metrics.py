"""Quality metrics: PESQ-WB (ITU-T P.862.2 via `pesq`), STOI (`pystoi`), SI-SDR.

All take time-aligned reference and estimate at the same rate; PESQ-WB needs 16 kHz (other rates
are resampled with soxr first).
"""

from __future__ import annotations

import numpy as np


def si_sdr(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Scale-invariant SDR in dB of estimate (samples,) against reference (samples,)."""
    n = min(len(reference), len(estimate))
    s, e = np.asarray(reference[:n], float), np.asarray(estimate[:n], float)
    s = s - s.mean()
    e = e - e.mean()
    a = np.dot(e, s) / (np.dot(s, s) + 1e-12)
    t = a * s
    return float(10 * np.log10((np.dot(t, t) + 1e-12) / (np.dot(e - t, e - t) + 1e-12)))


def _at16k(x: np.ndarray, fs_hz: int) -> np.ndarray:
    if fs_hz == 16000:
        return np.asarray(x, dtype=np.float64)
    import soxr

    return soxr.resample(np.asarray(x, dtype=np.float64), fs_hz, 16000)


def pesq_wb(reference: np.ndarray, estimate: np.ndarray, fs_hz: int = 16000) -> float:
    """Wide-band PESQ (MOS-LQO) of estimate against reference."""
    from pesq import pesq

    r, e = _at16k(reference, fs_hz), _at16k(estimate, fs_hz)
    n = min(len(r), len(e))
    return float(pesq(16000, r[:n], e[:n], "wb"))


def stoi(reference: np.ndarray, estimate: np.ndarray, fs_hz: int = 16000) -> float:
    """Short-time objective intelligibility (0 … 1)."""
    from pystoi import stoi as _stoi

    n = min(len(reference), len(estimate))
    return float(_stoi(np.asarray(reference[:n], float), np.asarray(estimate[:n], float), fs_hz))


def score_all(reference: np.ndarray, estimate: np.ndarray, fs_hz: int = 16000) -> dict[str, float]:
    """{'pesq_wb', 'stoi', 'si_sdr'} of one estimate."""
    return {"pesq_wb": pesq_wb(reference, estimate, fs_hz),
            "stoi": stoi(reference, estimate, fs_hz),
            "si_sdr": si_sdr(reference, estimate)}
