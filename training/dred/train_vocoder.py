"""Train the DRED vocoder's filter network on CPU (one thread); resumable; exports the npz.

    python -m training.dred.train_vocoder             # train (resumes .cache/dred/vocoder/ckpt.pt)
    python -m training.dred.train_vocoder --export    # assets/dred/vocoder.npz from the checkpoint
    python -m training.dred.train_vocoder --manifest  # training/dred/vocoder_manifest.json

Data: the feature cache (`training.dred.data`). A training example is a random 1 s segment of one
training file at one of three levels (-16/-26/-36 dBov, the cache's matching feature set),
synthesized from its own feature rows exactly as at run time (GRU from a zero state, features
held past the segment's end), against the segment's audio. Feature row r is centred on sample
r * 160 of the concatenated audio (files start on multiples of 160), so rows r0..r0+F-1 pair with
samples r0*160 .. (r0+F)*160. Loss: multi-resolution STFT. Validation: fixed heldout segments
(logged only; the exported weights are the last step's, not a heldout-selected checkpoint).
Settings: vocoder_settings.json beside this file. Log: .cache/dred/vocoder/train.log.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch

from dsp.dred.features import FRAME_SIZE
from dsp.dred.vocoder import (
    DEFAULT_WEIGHTS,
    folded_cepstrum,
    source_spectra,
    sources,
    subframe_priors,
)
from sim.outputs import write_text
from training import runs
from training.dred.data import CACHE, load
from training.dred.vocoder_torch import VocoderNet, export_weights, render, stft_loss

FILES = runs.ModelFiles.beside(__file__, "vocoder", CACHE)
log = runs.run_log(FILES.work)


class Segments:
    """Random (features, audio) segments of whole files of one cached split."""

    def __init__(self, split: str, frames: int, levels_dbov: list[float]):
        d = load(split)
        self.audio = d["audio"]
        self.features = {lv: d[f"features_{int(-lv)}"] for lv in levels_dbov}
        self.levels = list(levels_dbov)
        self.frames = frames
        rows = d["offsets"] // FRAME_SIZE
        starts, ends = rows[:-1], rows[1:] - frames
        keep = ends > starts
        self.first, self.count = starts[keep], (ends - starts)[keep]
        self.files, self.sha1 = d["files"], d["sha1"]

    def sample(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Features ``(F, 20)`` float64 and audio ``(F*160,)`` float64 at a random level."""
        k = rng.choice(self.first.size, p=self.count / self.count.sum())
        r0 = self.first[k] + rng.integers(self.count[k])
        lv = self.levels[rng.integers(len(self.levels))]
        f = self.features[lv][r0:r0 + self.frames].astype(np.float64)
        x = self.audio[r0 * FRAME_SIZE:(r0 + self.frames) * FRAME_SIZE].astype(np.float64)
        return f, x * 10 ** ((lv + 26.0) / 20)


def make_batch(segs: list[tuple[np.ndarray, np.ndarray]], seeds: np.ndarray) -> dict:
    """Tensors for `synthesize`: features, priors (folded cepstra), source spectra, audio."""
    feats, ph, pn, sh, sn, xs = [], [], [], [], [], []
    for (f, x), seed in zip(segs, seeds, strict=True):
        prior_h, prior_n = subframe_priors(f)
        harmonic, noise = sources(f, int(seed))
        feats.append(f)
        ph.append(folded_cepstrum(prior_h))
        pn.append(folded_cepstrum(prior_n))
        sh.append(source_spectra(harmonic))
        sn.append(source_spectra(noise))
        xs.append(x)
    return {"feats": torch.tensor(np.stack(feats), dtype=torch.float32),
            "prior_h": torch.tensor(np.stack(ph), dtype=torch.float32),
            "prior_n": torch.tensor(np.stack(pn), dtype=torch.float32),
            "spec_h": torch.tensor(np.stack(sh), dtype=torch.complex64),
            "spec_n": torch.tensor(np.stack(sn), dtype=torch.complex64),
            "x": torch.tensor(np.stack(xs), dtype=torch.float32)}


def synthesize(net: VocoderNet, b: dict) -> torch.Tensor:
    corr = net(b["feats"])
    return render(b["prior_h"] + corr[:, :, 0], b["prior_n"] + corr[:, :, 1], b["spec_h"],
                  b["spec_n"], b["x"].shape[1])


def lr_at(step: int, s: dict) -> float:
    """Linear warm-up, then cosine decay from lr to lr_min over max_steps."""
    if step < s["warmup_steps"]:
        return s["lr"] * (step + 1) / s["warmup_steps"]
    p = min(1.0, (step - s["warmup_steps"]) / max(1, s["max_steps"] - s["warmup_steps"]))
    return runs.cosine_lr(s["lr"], s["lr_min"], p)


def new_net(s: dict, train: Segments) -> VocoderNet:
    feats = train.features[-26.0]
    return VocoderNet(feats.mean(axis=0), feats.std(axis=0) + 1e-3, **s["model"])


def train() -> None:
    s = FILES.load_settings()
    torch.set_num_threads(s["threads"])
    torch.manual_seed(s["seed"])
    trainset = Segments("train", s["segment_frames"], s["levels_dbov"])
    val_rng = np.random.default_rng(s["seed"] + 1)
    heldout = Segments("heldout", s["segment_frames"], s["levels_dbov"])
    val = make_batch([heldout.sample(val_rng) for _ in range(s["validation_segments"])],
                     np.arange(s["validation_segments"]))
    net = new_net(s, trainset)
    opt = torch.optim.AdamW(net.parameters(), lr=s["lr"], weight_decay=1e-5)
    step, train_s, rng_state = 0, 0.0, None
    if (ck := runs.resume(FILES.checkpoint, net, opt, key="net")) is not None:
        step, train_s, rng_state = ck["step"], ck["train_s"], ck["rng"]
        log(f"resumed at step {step} ({train_s / 60:.1f} min trained)")
    rng = np.random.default_rng(s["seed"])
    if rng_state is not None:
        rng.bit_generator.state = rng_state

    FILES.work.mkdir(parents=True, exist_ok=True)

    def save() -> None:
        state = {"net": net.state_dict(), "opt": opt.state_dict(), "step": step,
                 "train_s": train_s, "rng": rng.bit_generator.state, "settings": s}
        runs.save_checkpoint(FILES.checkpoint, state)

    last_ckpt, t0, run_loss = time.time(), time.time(), []
    while step < s["max_steps"]:
        b = make_batch([trainset.sample(rng) for _ in range(s["batch"])],
                       rng.integers(0, 2**31, s["batch"]))
        loss = stft_loss(synthesize(net, b), b["x"], tuple(s["stft_sizes"]))
        runs.optimizer_step(opt, loss, net.parameters(), s["grad_clip"], lr_at(step, s))
        step += 1
        run_loss.append(loss.item())
        now = time.time()
        train_s += now - t0
        t0 = now
        if step % s["validate_every"] == 0 or step == s["max_steps"]:
            with torch.no_grad():
                vl = stft_loss(synthesize(net, val), val["x"], tuple(s["stft_sizes"])).item()
            log(f"step {step} lr {lr_at(step, s):.2e} train {np.mean(run_loss):.4f} "
                f"val {vl:.4f} ({train_s / 60:.1f} min, {train_s / step:.3f} s/step)")
            run_loss = []
        if now - last_ckpt > s["checkpoint_every_s"] or step == s["max_steps"]:
            save()
            last_ckpt = time.time()
            t0 = last_ckpt
    export(net, step, train_s)


def export(net: VocoderNet | None = None, step: int | None = None,
           train_s: float | None = None) -> Path:
    """Write assets/dred/vocoder.npz (float16) from a net or the checkpoint."""
    s = FILES.load_settings()
    if net is None:
        ck = torch.load(FILES.checkpoint, weights_only=False)
        trainset = Segments("train", s["segment_frames"], s["levels_dbov"])
        net = new_net(s, trainset)
        net.load_state_dict(ck["net"])
        step, train_s = ck["step"], ck["train_s"]
    meta = {"model": s["model"], "steps": step, "train_minutes": round(train_s / 60, 1),
            "trained_by": "training/dred/train_vocoder.py", "settings": s}
    export_weights(net, DEFAULT_WEIGHTS, meta)
    log(f"exported {DEFAULT_WEIGHTS} (step {step})")
    return DEFAULT_WEIGHTS


def manifest() -> Path:
    """Write vocoder_manifest.json: the files (and sha1) the training and validation used."""
    s = FILES.load_settings()
    tr = Segments("train", s["segment_frames"], s["levels_dbov"])
    ho = Segments("heldout", s["segment_frames"], s["levels_dbov"])
    doc = {
        "shared_data_root": "../shared/data (files are referenced, never copied)",
        "cache": "training/dred/data.py (16 kHz, level-normalized to -26 dBov, features at "
                 "-16/-26/-36 dBov)",
        "train": runs.file_entries(tr.files, tr.sha1),
        "heldout_note": "LibriSpeech test-other speakers: validation loss and evaluation "
                        "only, never trained on",
        "heldout": runs.file_entries(ho.files, ho.sha1),
        "settings": s,
    }
    write_text(FILES.manifest, json.dumps(doc, indent=1) + "\n")
    return FILES.manifest


def main() -> None:
    runs.run_script(__doc__.splitlines()[0], train, {
        "manifest": ("write the data manifest and stop", lambda: print(f"wrote {manifest()}")),
        "export": ("export the checkpoint and stop", export)})


if __name__ == "__main__":
    main()
