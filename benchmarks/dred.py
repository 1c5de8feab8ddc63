"""DRED chain speed on one core, beside libopus encoding and decoding of the same audio.

    python benchmarks/dred.py [--seconds 8] [--repeat 3] [--dred-ms 1000]

Real-time factors (processing time / audio time), single-threaded BLAS, best of ``--repeat``:

* DRED encode: features over the signal + RDO-VAE encoder + quantization and range coding of
  every packet's payload (``--dred-ms`` of history each), target <= 0.05;
* DRED decode of a 1 s gap: payload unpack + RDO-VAE decoder + vocoder for the 1 s of audio
  (per second of concealed audio);
* neural PLC for a 1 s gap: 100 predictor steps + vocoder;
* the whole receiver under 20 % Gilbert-Elliott loss (mean burst 3), and libopus encode /
  decode of the same audio in the same run for scale.

Audio: the first held-out LibriSpeech speaker file long enough, from ../shared/data.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from dsp.dred.evaluate import load_cut
from dsp.dred.features import compute_features
from dsp.dred.loss import parse_loss
from dsp.dred.opus import FRAME_SAMPLES, SAMPLE_RATE, OpusDecoder, OpusEncoder
from dsp.dred.payload import DredCodec
from dsp.dred.plc import FeaturePredictor
from dsp.dred.rdovae import RdoVae
from dsp.dred.receiver import receive
from dsp.dred.sender import (
    DEFAULT_Q0,
    OFFSET_FRAMES,
    DredSettings,
    encode_stream,
    history_steps,
)
from dsp.dred.vocoder import Vocoder

REPO = Path(__file__).resolve().parents[1]
SPEECH = REPO.parent / "shared" / "data" / "speech" / "librispeech_test-other"


def best_time(fn: Callable[[], object], repeat: int) -> float:
    """Fastest of ``repeat`` runs, seconds."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


Row = tuple[str, float, str]
"""(stage, real-time factor, note)."""


def encode_rows(x: np.ndarray, vae: RdoVae, codec: DredCodec, settings: DredSettings,
                repeat: int) -> tuple[list[Row], np.ndarray, list[bytes]]:
    """The sender's DRED stages over signal `x`; also the features and the payloads."""
    dur = x.size / SAMPLE_RATE
    q0, n_chunks = DEFAULT_Q0, settings.n_chunks
    n = -(-x.size // FRAME_SAMPLES)
    padded = np.pad(x, (0, n * FRAME_SAMPLES - x.size))
    feats = compute_features(padded)
    lat, st = vae.encode(feats)
    t_feat = best_time(lambda: compute_features(padded), repeat)
    t_vae = best_time(lambda: vae.encode(feats), repeat)

    def pack_all() -> list[bytes]:
        out = []
        for k in range(n):
            steps = history_steps(k, n_chunks)
            steps = steps[steps < lat.shape[0]]
            if steps.size:
                out.append(codec.pack(st[steps[0]], lat[steps], q0, settings.dq,
                                      offset_frames=OFFSET_FRAMES))
        return out

    payloads = pack_all()
    t_pack = best_time(pack_all, repeat)
    rows = [("DRED features", t_feat / dur, "compute_features, whole signal"),
            ("DRED RDO-VAE encoder", t_vae / dur, "every 20 ms step"),
            ("DRED quantize + range code", t_pack / dur,
             f"{len(payloads)} payloads, {n_chunks} chunks, q0={q0}"),
            ("DRED encode total", (t_feat + t_vae + t_pack) / dur, "target <= 0.05")]
    return rows, feats, payloads


def gap_rows(payloads: list[bytes], feats: np.ndarray, codec: DredCodec, vocoder: Vocoder,
             predictor: FeaturePredictor, repeat: int) -> list[Row]:
    """Filling a 1 s gap: from the fullest DRED payload, and by the neural PLC."""
    full = max(payloads, key=len)
    t_unpack = best_time(lambda: codec.unpack(full), repeat)
    payload = codec.unpack(full)
    t_dec = best_time(lambda: codec.features(payload), repeat)
    gap = codec.features(payload)[-100:]
    t_voc = best_time(lambda: vocoder.synthesize(gap), repeat)
    gap_s = gap.shape[0] / 100

    def plc_gap() -> None:
        predictor.reset()
        for f in feats[:20]:
            predictor.observe(f)
        vocoder.synthesize(np.stack([predictor.predict() for _ in range(100)]))

    return [("1 s gap: DRED unpack", t_unpack / gap_s, f"{len(full)} bytes"),
            ("1 s gap: RDO-VAE decoder", t_dec / gap_s, f"{payload.n_chunks} chunks"),
            ("1 s gap: vocoder", t_voc / gap_s, f"{gap.shape[0]} frames"),
            ("1 s gap: DRED decode total", (t_unpack + t_dec + t_voc) / gap_s, ""),
            ("1 s gap: neural PLC + vocoder", best_time(plc_gap, repeat), "100 frames")]


def receiver_row(x: np.ndarray, vae: RdoVae, codec: DredCodec, vocoder: Vocoder,
                 predictor: FeaturePredictor, settings: DredSettings, repeat: int) -> Row:
    """The whole receiver under 20 % Gilbert-Elliott loss (mean burst 3)."""
    stream = encode_stream(x, settings, vae=vae, codec=codec)
    lost = parse_loss("ge:0.2,3").mask(stream.n_packets, 0)
    lost[0] = lost[-1] = False
    t_rx = best_time(lambda: receive(stream.packets, lost, stream.n_samples, settings,
                                     lookahead=stream.lookahead, codec=codec, vocoder=vocoder,
                                     predictor=predictor), repeat)
    return ("receiver, GE 20 % burst 3", t_rx / (x.size / SAMPLE_RATE),
            f"{100 * lost.mean():.0f} % lost, LBRR + DRED + neural PLC")


def opus_rows(x: np.ndarray, settings: DredSettings, repeat: int) -> list[Row]:
    """libopus encoding and decoding of the same audio, for scale."""
    dur = x.size / SAMPLE_RATE
    enc = OpusEncoder(bitrate=settings.bitrate, complexity=settings.complexity)
    opus = enc.encode_signal(x)
    t_oenc = best_time(lambda: OpusEncoder(bitrate=settings.bitrate,
                                           complexity=settings.complexity).encode_signal(x),
                       repeat)

    def opus_decode() -> None:
        dec = OpusDecoder()
        for p in opus:
            dec.decode(p)

    t_odec = best_time(opus_decode, repeat)
    return [("libopus encode", t_oenc / dur, f"{settings.bitrate // 1000} kb/s, complexity "
                                             f"{settings.complexity}"),
            ("libopus decode", t_odec / dur, "no loss")]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dred-ms", type=int, default=1000)
    args = ap.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    files = sorted(SPEECH.glob("*/*.flac"))
    if not files:
        print(f"no held-out speech under {SPEECH}", file=sys.stderr)
        return 2
    x = next((c for c in (load_cut(f, args.seconds) for f in files)
              if c.size >= args.seconds * SAMPLE_RATE), None)
    if x is None:
        print(f"no held-out file is {args.seconds} s long", file=sys.stderr)
        return 2
    vae = RdoVae.load()
    codec = DredCodec(vae)
    vocoder, predictor = Vocoder.load(), FeaturePredictor.load()
    settings = DredSettings(dred_ms=args.dred_ms)
    rows, feats, payloads = encode_rows(x, vae, codec, settings, args.repeat)
    rows += gap_rows(payloads, feats, codec, vocoder, predictor, args.repeat)
    rows.append(receiver_row(x, vae, codec, vocoder, predictor, settings, args.repeat))
    rows += opus_rows(x, settings, args.repeat)

    print(f"DRED chain speed, one core, {x.size / SAMPLE_RATE:.1f} s of speech, best of "
          f"{args.repeat}")
    print(f"{'stage':<32} {'RTF':>8}  note")
    for name, rtf, note in rows:
        print(f"{name:<32} {rtf:8.4f}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
