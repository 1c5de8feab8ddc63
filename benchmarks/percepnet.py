"""PercepNet streaming speed on one core, beside a plain per-frame reference in the same run.

    python benchmarks/percepnet.py [--seconds 10] [--repeat 3] [--no-train]

Streaming real-time factor (processing time / audio time, target ≤ 0.03) of `PercepNetStream`
with the float16-stored (computed in float32) and the int8-stored weights, and of a plain
per-frame reference implementation of the same chain (loops over bands, lags, comb taps and GRU
gates; same numbers, checked here). Pinned to one core with single-threaded BLAS. Also the
training throughput of the torch model (frames/s, 1 thread) when torch is installed, and the
training run's own figure from .cache/percepnet/train.log when present.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from dsp.percepnet.bands import band_matrix
from dsp.percepnet.comb import COMB_M, comb_weights
from dsp.percepnet.features import LOOKAHEAD_FRAMES, period_feature
from dsp.percepnet.model import PercepNetModel, load_model
from dsp.percepnet.pitch import JUMP_COST, OCTAVE_PENALTY, OCTAVE_RATIO, pitch_range
from dsp.percepnet.postfilter import BETA, STRENGTH
from dsp.percepnet.stft import vorbis_window
from dsp.percepnet.stream import PercepNetStream

REPO = Path(__file__).resolve().parents[1]
FS = 16000


class ReferenceStream:
    """Textbook per-frame implementation: explicit loops, no batching, no shared helpers."""

    def __init__(self, model: PercepNetModel):
        self.m = model
        self.h = FS // 100
        self.pr = pitch_range(FS)
        self.win = vorbis_window(2 * self.h)
        self.wc = comb_weights()
        bm = band_matrix(FS)
        self.bands = [(np.flatnonzero(row), row[row > 0]) for row in bm]
        self.nb = len(self.bands)
        self.buf = np.zeros(5 * self.h + 6 * self.pr.t_max)
        self.ola = np.zeros(self.h)
        self.hist: list = []
        lp = np.log2(self.pr.periods.astype(float))
        self.cost = -JUMP_COST * np.abs(lp[None, :] - lp[:, None])
        self.delta = None
        self.back: list = []
        c = model.fc_w.shape[0]
        self.d_hist = [np.zeros(c, np.float32) for _ in range(model.k1)]
        self.c_hist = [np.zeros(c, np.float32) for _ in range(model.k2)]
        self.hstate = {n: np.zeros(model.gru[n][1].shape[1], np.float32) for n in model.gru}

    def _band(self, spec_a, spec_b=None):
        out = np.zeros(self.nb)
        for b, (idx, w) in enumerate(self.bands):
            a = spec_a[idx]
            bb = a if spec_b is None else spec_b[idx]
            out[b] = np.sum(w * (a.real * bb.real + a.imag * bb.imag))
        return out

    def _interp(self, g):
        out = np.zeros(self.h + 1)
        for b, (idx, w) in enumerate(self.bands):
            out[idx] += w * g[b]
        return out

    def _gru(self, name, x):
        wih, whh, bih, bhh = self.m.gru[name]
        h = self.hstate[name]
        n = h.shape[0]
        gi, gh = wih @ x + bih, whh @ h + bhh
        r = 1 / (1 + np.exp(-(gi[:n] + gh[:n])))
        z = 1 / (1 + np.exp(-(gi[n:2 * n] + gh[n:2 * n])))
        cand = np.tanh(gi[2 * n:] + r * gh[2 * n:])
        self.hstate[name] = ((1 - z) * cand + z * h).astype(np.float32)
        return self.hstate[name]

    def _model(self, feat):
        m = self.m
        x = ((feat.astype(np.float32) - m.mean) * m.inv_std).astype(np.float32)
        self.d_hist = [*self.d_hist[1:], np.tanh(m.fc_w @ x + m.fc_b)]
        self.c_hist = [*self.c_hist[1:], np.tanh(m.c1_w @ np.concatenate(self.d_hist) + m.c1_b)]
        c = np.tanh(m.c2_w @ np.concatenate(self.c_hist) + m.c2_b)
        h1 = self._gru("gru1", c)
        h2 = self._gru("gru2", h1)
        hg = self._gru("grug", np.concatenate([c, h2]))
        hr = self._gru("grur", np.concatenate([c, h2]))
        g = 1 / (1 + np.exp(-(m.fcg_w @ np.concatenate([c, h1, h2, hg]) + m.fcg_b)))
        r = 1 / (1 + np.exp(-(m.fcr_w @ hr + m.fcr_b)))
        return g.astype(np.float64), r.astype(np.float64)

    def process(self, block):
        h, pr, n = self.h, self.pr, len(self.buf)
        self.buf = np.concatenate([self.buf[h:], block])
        y = np.fft.rfft(self.buf[n - 2 * h:] * self.win)
        e_y = self._band(y)
        seg = self.buf[n - 2 * h:]
        ncc = np.zeros(len(pr.periods))
        for i, t in enumerate(pr.periods):
            lag = self.buf[n - 2 * h - t:n - t]
            ncc[i] = np.dot(seg, lag) / np.sqrt(np.dot(seg, seg) * np.dot(lag, lag) + 1e-12)
        score = ncc.copy()
        for i, t in enumerate(pr.periods):
            subs = [ncc[round(t / k) - pr.t_min] for k in (2, 3) if round(t / k) >= pr.t_min]
            if ncc[i] > 0 and subs and max(subs) >= OCTAVE_RATIO * ncc[i]:
                score[i] -= OCTAVE_PENALTY
        self.hist = [*self.hist[-LOOKAHEAD_FRAMES:], (y, e_y, ncc)]
        if self.delta is None:
            self.delta, arg = score, np.arange(len(score))
        else:
            cand = self.delta[:, None] + self.cost
            arg = np.argmax(cand, axis=0)
            d = cand.max(axis=0) + score
            self.delta = d - d.max()
        self.back = [*self.back[-LOOKAHEAD_FRAMES:], arg]
        feat = np.zeros(2 * self.nb + 2)
        feat[: self.nb] = np.log10(e_y / (2 * h) ** 2 + 1e-10)
        if len(self.back) <= LOOKAHEAD_FRAMES:
            feat[2 * self.nb:] = period_feature(np.array(pr.t_min), np.array(0.0), FS)
            self._model(feat)
            return np.zeros(h)
        s = int(np.argmax(self.delta))
        for bp in reversed(self.back[1:]):
            s = int(bp[s])
        period = int(pr.periods[s])
        yk, e_yk, ncck = self.hist[0]
        end = n - LOOKAHEAD_FRAMES * h
        p_frame = np.zeros(2 * h)
        for i, k in enumerate(range(-COMB_M, COMB_M + 1)):
            p_frame += self.wc[i] * self.buf[end - 2 * h - k * period:end - k * period]
        p = np.fft.rfft(p_frame * self.win)
        q_y = self._band(yk, p) / np.sqrt(e_yk * self._band(p) + 1e-12)
        feat[self.nb:2 * self.nb] = q_y
        feat[2 * self.nb:] = period_feature(np.array(period), np.array(ncck[s]), FS)
        g, r = self._model(feat)
        rb = self._interp(r)
        z = (1 - rb) * yk + rb * p
        z = z * self._interp(np.sqrt(e_yk / (self._band(z) + 1e-12)))
        gw = g * np.sin(np.pi / 2 * g) ** STRENGTH
        e0, e1 = np.sum(g ** 2 * e_yk), np.sum(gw ** 2 * e_yk)
        ratio = e0 / (e1 + 1e-12 * (e0 + 1e-30))
        gp = np.minimum(np.sqrt((1 + BETA) * ratio / (1 + BETA * ratio ** 2)) * gw, 1.0)
        frame = np.fft.irfft(z * self._interp(gp), 2 * h) * self.win
        out = self.ola + frame[:h]
        self.ola = frame[h:].copy()
        return out


def run_stream(proc, x: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Push x block by block; returns (output, wall seconds, CPU seconds of this process)."""
    h = FS // 100
    blocks = x.reshape(-1, h)
    t, c = time.perf_counter(), time.process_time()
    out = [proc.process(b) for b in blocks]
    return np.concatenate(out), time.perf_counter() - t, time.process_time() - c


def test_signal(seconds: float) -> np.ndarray:
    """Speech-like test input: a held-out LibriSpeech file + noise if shared data exists."""
    shared = Path(os.environ.get("AWB_SHARED_DATA", REPO.parent / "shared" / "data"))
    f = shared / "speech/librispeech_test-other/3080/3080-5032-0000.flac"
    n = int(seconds * FS) // 160 * 160
    rng = np.random.default_rng(0)
    if f.is_file():
        from dsp.percepnet.audio_io import load_mono

        x, _ = load_mono(f, FS)
        x = np.tile(x, -(-n // len(x)))[:n]
        return 0.9 * x / np.abs(x).max() + 0.01 * rng.standard_normal(n)
    t = np.arange(n) / FS
    tone = 0.1 * np.sin(2 * np.pi * 150 * t) * (1 + np.sin(2 * np.pi * 3 * t))
    return tone + 0.01 * rng.standard_normal(n)


def train_throughput(seconds: float = 20.0) -> float | None:
    try:
        import torch
    except ImportError:
        return None
    sys.path.insert(0, str(REPO))
    from training.percepnet.data import load_settings
    from training.percepnet.model_torch import PercepNetTorch, percepnet_loss

    s = load_settings()
    torch.set_num_threads(1)
    m = PercepNetTorch(56, 27, **s["model"])
    opt = torch.optim.AdamW(m.parameters(), 1e-3)
    b, t_len = s["batch"], s["seq_frames"]
    x = torch.randn(b, t_len + 3, 56)
    g, r = torch.rand(b, t_len, 27), torch.rand(b, t_len, 27)
    frames, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        gh, rh = m(x)
        loss = percepnet_loss(gh[:, 3:], rh[:, 3:], g, r)
        opt.zero_grad()
        loss.backward()
        opt.step()
        frames += b * t_len
    return frames / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-train", action="store_true")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; pinned to one core")
    x = test_signal(args.seconds)
    ref_out = None
    rows = []
    systems = (("stream float32 (f16 weights)", lambda: PercepNetStream(load_model("float16"))),
               ("stream int8 weights", lambda: PercepNetStream(load_model("int8"))),
               ("reference per-frame", lambda: ReferenceStream(load_model("float16"))))
    for name, make in systems:
        best, best_cpu = np.inf, np.inf
        for _ in range(args.repeat):
            out, dt, cpu = run_stream(make(), x)
            best, best_cpu = min(best, dt), min(best_cpu, cpu)
        rows.append((name, best, best_cpu))
        if name.startswith("stream float32"):
            ref_out = out
        if name.startswith("reference"):
            print(f"reference vs stream output: max |diff| = {np.max(np.abs(out - ref_out)):.2e}"
                  " (the reference's S×S Viterbi can break float near-ties differently)")
    audio_s = len(x) / FS
    for name, dt, cpu in rows:
        per_frame_us = 1e6 * dt / (audio_s * 100)
        print(f"{name:<30} RTF {dt / audio_s:.4f} wall, {cpu / audio_s:.4f} CPU "
              f"({per_frame_us:.0f} µs per 10 ms frame)"
              f"{'  target ≤ 0.03' if 'stream' in name else ''}")
    latency = PercepNetStream(load_model("float16")).latency_samples
    print(f"algorithmic latency: {latency / FS * 1e3:.0f} ms")
    m = load_model("float16")
    print(f"model: {m.n_params} weights, {m.n_params / 1e6:.2f} MMAC per frame "
          f"({m.n_params * 100 / 1e6:.0f} MMAC/s)")
    if not args.no_train:
        fps = train_throughput()
        if fps is None:
            print("training throughput: torch not installed (pip install -e .[train])")
        else:
            print(f"training throughput (1 thread, synthetic batch): {fps:.0f} frames/s "
                  f"({fps / 100:.0f}× real time)")
    log = REPO / ".cache/percepnet/train.log"
    if log.is_file():
        last = [ln for ln in log.read_text().splitlines() if "overall" in ln]
        if last:
            print(f"training run log: {last[-1]}")


if __name__ == "__main__":
    main()
