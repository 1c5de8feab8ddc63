"""Train the PercepNet-style model on CPU; resumable; exports the small npz weights.

    python -m training.percepnet.train            # train (resumes from .cache/percepnet/ckpt.pt)
    python -m training.percepnet.train --export   # write assets/percepnet/*.npz from the checkpoint
    python -m training.percepnet.train --stage finetune    # fine-tuning stage 1 (= --finetune)
    python -m training.percepnet.data --stage finetune2     # stage 2's fresh shards
    python -m training.percepnet.train --stage finetune2   # fine-tuning stage 2
    python -m training.percepnet.train --stage finetune2 --export   # the shipped weights

Fine-tuning (issue #5, STOI): a stage starts from its `finetune_from` (a checkpoint in
.cache/percepnet/, never modified) with a fresh optimizer; its settings are the top level
overridden by the blocks of every stage up to it (data.stage_settings: lr, lr_min, max_minutes,
seed, stoi_weight, over_attenuation_weight, shards, augmentation); it keeps its own ckpt.pt /
best.pt / train.log in .cache/percepnet/STAGE/ (resumable like the base run). `stoi_weight`
weighs the envelope-correlation term (model_torch.envelope_correlation_loss, bands with centres
in `stoi_band_hz`); `over_attenuation_weight` the extra relu(g^γ − ĝ^γ)² term. Both are 0 in the
base run.

Reads the shards written by `training.percepnet.data` (train/ grows while training runs; heldout/
is the validation set from LibriSpeech test-other speakers and evaluation noise segments).
Settings: settings.json beside this file. Log: .cache/percepnet/train.log.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch

from dsp.percepnet.bands import BIN_HZ, band_centres_bins
from sim.outputs import write_npz
from training import runs
from training.percepnet.data import CACHE, REPO, STAGES, load_settings, stage_settings
from training.percepnet.model_torch import PercepNetTorch, envelope_correlation_loss, percepnet_loss

ASSETS = REPO / "assets" / "percepnet"
LA = 3  # look-ahead frames: outputs at row t are for frame t − 3


def _shards(split: str, folder: str = "shards") -> list[Path]:
    return sorted((CACHE / folder / split).glob("shard_[0-9]*.npz"))


class ShardPool:
    """Random batches from the shards present (re-listed as new shards appear)."""

    def __init__(self, rng: np.random.Generator, folder: str = "shards", keep: int = 12):
        self.rng = rng
        self.folder = folder
        self.keep = keep
        self.loaded: dict[Path, dict] = {}

    def batch(self, size: int, seq: int):
        files = _shards("train", self.folder)
        if len(self.loaded) < self.keep or self.rng.random() < 0.15:
            new = [f for f in files if f not in self.loaded] or files
            f = new[self.rng.integers(len(new))]
            if f not in self.loaded:
                z = np.load(f)
                self.loaded[f] = {k: z[k] for k in ("x", "g", "r")}
                if len(self.loaded) > self.keep:
                    self.loaded.pop(next(iter(self.loaded)))
        keys = list(self.loaded)
        xs, gs, rs = [], [], []
        for _ in range(size):
            d = self.loaded[keys[self.rng.integers(len(keys))]]
            i = self.rng.integers(d["x"].shape[0])
            n = d["g"].shape[1]
            s = self.rng.integers(0, max(1, n - seq))
            xs.append(d["x"][i, s:s + seq + LA])
            gs.append(d["g"][i, s:s + seq])
            rs.append(d["r"][i, s:s + seq])
        return (torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(gs)),
                torch.from_numpy(np.stack(rs)))


def _model(settings: dict, n_features: int, n_bands: int) -> PercepNetTorch:
    return PercepNetTorch(n_features, n_bands, **settings["model"])


def _stoi_bands(settings: dict) -> slice:
    """The model bands whose centres lie in settings["stoi_band_hz"] (STOI's 150 … 4300 Hz)."""
    lo, hi = settings.get("stoi_band_hz", (150.0, 4500.0))
    c = band_centres_bins(settings["fs_hz"]) * BIN_HZ
    idx = np.flatnonzero((c >= lo) & (c <= hi))
    return slice(int(idx[0]), int(idx[-1]) + 1)


def _loss(g_hat, r_hat, x, g, r, settings: dict) -> torch.Tensor:
    """The PercepNet loss plus settings["stoi_weight"] × the envelope-correlation term.

    x: the model inputs (B, T + LA, n_features); its first n_bands columns of row t are frame t's
    log10 noisy band energies, the frame of targets g[:, t]."""
    loss = percepnet_loss(g_hat[:, LA:], r_hat[:, LA:], g, r, settings["gamma"], settings["c4"],
                          settings.get("over_attenuation_weight", 0.0))
    w = settings.get("stoi_weight", 0.0)
    if w:
        t, nb = g.shape[1], g.shape[2]
        loss = loss + w * envelope_correlation_loss(g_hat[:, LA:], g, x[:, :t, :nb],
                                                    _stoi_bands(settings))
    return loss


def _val_loss(model: PercepNetTorch, val: dict, settings: dict) -> float:
    model.eval()
    with torch.no_grad():
        g_hat, r_hat = model(torch.from_numpy(val["x"]))
        loss = _loss(g_hat, r_hat, torch.from_numpy(val["x"]), torch.from_numpy(val["g"]),
                     torch.from_numpy(val["r"]), settings)
    model.train()
    return float(loss)


def _totals(ck: dict) -> dict:
    """Steps, frames and seconds trained up to checkpoint ck over all its stages, and the list of
    its fine-tuning stages ({stage, steps, minutes, stoi_weight, over_attenuation_weight})."""
    st, s = ck["state"], ck["settings"]
    prior = st.get("base", {"step": 0, "frames": 0, "elapsed_s": 0.0, "stages": []})
    stages = list(prior["stages"])
    if "stage" in s:
        stages.append({"stage": s["stage"], "steps": st["step"],
                       "minutes": round(st["elapsed_s"] / 60, 1),
                       "stoi_weight": s.get("stoi_weight", 0.0),
                       "over_attenuation_weight": s.get("over_attenuation_weight", 0.0)})
    return {"step": prior["step"] + st["step"], "frames": prior["frames"] + st["frames"],
            "elapsed_s": prior["elapsed_s"] + st["elapsed_s"], "stages": stages}


def train(settings: dict, log, out_dir: Path = CACHE, init_from: Path | None = None) -> None:
    """Train until settings["max_minutes"] of training time; checkpoints in out_dir.

    init_from: checkpoint whose model weights start a fresh run (fine-tuning) when out_dir has no
    ckpt.pt yet; its step count and minutes are kept in state["base"] for the export's metadata."""
    ckpt_path, best_path = out_dir / "ckpt.pt", out_dir / "best.pt"
    torch.set_num_threads(settings["threads"])
    torch.manual_seed(settings["seed"])
    folder = settings.get("shards", "shards")
    while not _shards("train", folder) or len(_shards("heldout")) < 1:
        time.sleep(5)
    first = np.load(_shards("train", folder)[0])
    n_features, n_bands = first["x"].shape[2], first["g"].shape[2]
    vz = np.load(_shards("heldout")[0])
    val = {"x": vz["x"][:32], "g": vz["g"][:32], "r": vz["r"][:32]}
    model = _model(settings, n_features, n_bands)
    opt = torch.optim.AdamW(model.parameters(), lr=settings["lr"],
                            weight_decay=settings["weight_decay"])
    state = {"step": 0, "frames": 0, "elapsed_s": 0.0, "best_val": math.inf}
    if (ck := runs.resume(ckpt_path, model, opt)) is not None:
        state = ck["state"]
        log(f"resumed at step {state['step']} ({state['elapsed_s'] / 60:.1f} min trained)")
    elif init_from is not None:
        ck = torch.load(init_from, weights_only=False)
        model.load_state_dict(ck["model"])
        state["base"] = _totals(ck)
        state["best_val"] = _val_loss(model, val, settings)
        log(f"fine-tuning from {init_from} (step {state['base']['step']}), "
            f"val {state['best_val']:.4f} under the fine-tune loss")
    else:
        x = first["x"].reshape(-1, n_features)
        model.in_mean.copy_(torch.from_numpy(x.mean(0)))
        model.in_std.copy_(torch.from_numpy(x.std(0) + 1e-3))
    rng = np.random.default_rng(settings["seed"] + state["step"])
    pool = ShardPool(rng, folder)
    budget_s = settings["max_minutes"] * 60
    t_ck = time.time()
    t_log, frames_log = time.time(), 0
    run_start = time.time() - state["elapsed_s"]
    losses = []
    while state["elapsed_s"] < budget_s:
        lr = runs.cosine_lr(settings["lr"], settings["lr_min"], state["elapsed_s"] / budget_s)
        x, g, r = pool.batch(settings["batch"], settings["seq_frames"])
        g_hat, r_hat = model(x)
        loss = _loss(g_hat, r_hat, x, g, r, settings)
        runs.optimizer_step(opt, loss, model.parameters(), settings["grad_clip"], lr)
        losses.append(float(loss.detach()))
        n = g.shape[0] * g.shape[1]
        state["step"] += 1
        state["frames"] += n
        frames_log += n
        state["elapsed_s"] = time.time() - run_start
        if time.time() - t_log > 60:
            fps = frames_log / (time.time() - t_log)
            log(f"step {state['step']} {state['elapsed_s'] / 60:.1f} min lr {lr:.2e} "
                f"loss {np.mean(losses):.4f} {fps:.0f} frames/s "
                f"({len(_shards('train', folder))} shards)")
            losses, t_log, frames_log = [], time.time(), 0
        if time.time() - t_ck > settings["checkpoint_every_s"] or state["elapsed_s"] >= budget_s:
            v = _val_loss(model, val, settings)
            state["last_val"] = v
            ck = {"model": model.state_dict(), "opt": opt.state_dict(), "state": state,
                  "settings": settings, "dims": (n_features, n_bands)}
            if v < state["best_val"]:
                state["best_val"] = v
                runs.save_checkpoint(best_path, ck)
            runs.save_checkpoint(ckpt_path, ck)
            log(f"checkpoint step {state['step']} val {v:.4f} (best {state['best_val']:.4f}) "
                f"{state['frames'] / max(state['elapsed_s'], 1):.0f} frames/s overall")
            t_ck = time.time()
    log("done")


def export(settings: dict, source: Path, out_dir: Path = ASSETS) -> list[Path]:
    """Write float16 and int8 weight files from a checkpoint into out_dir; returns their paths."""
    from dsp.percepnet.quantize import quantize_int8

    ck = torch.load(source, weights_only=False)
    n_features, n_bands = ck["dims"]
    model = _model(settings, n_features, n_bands)
    model.load_state_dict(ck["model"])
    w = model.numpy_weights()
    tot = _totals(ck)
    meta = {"fs_hz": settings["fs_hz"], "n_bands": int(n_bands), "n_features": int(n_features),
            "model": settings["model"], "step": tot["step"], "frames": tot["frames"],
            "train_minutes": round(tot["elapsed_s"] / 60, 1),
            "val_loss": ck["state"].get("best_val"), "finetune_stages": tot["stages"]}
    out_dir.mkdir(parents=True, exist_ok=True)
    f16 = out_dir / "percepnet16k_f16.npz"
    write_npz(f16, {"meta": json.dumps(meta), **{k: v.astype(np.float16) for k, v in w.items()}},
              compressed=True)
    i8 = out_dir / "percepnet16k_int8.npz"
    write_npz(i8, {"meta": json.dumps(meta), **quantize_int8(w)}, compressed=True)
    return [f16, i8]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--export", action="store_true")
    ap.add_argument("--stage", choices=STAGES, default=None,
                    help="fine-tuning stage per settings[STAGE]; with --export: its best.pt")
    ap.add_argument("--finetune", dest="stage", action="store_const", const=STAGES[0],
                    help=f"= --stage {STAGES[0]}")
    ap.add_argument("--from-last", action="store_true", help="export ckpt.pt instead of best.pt")
    ap.add_argument("--out-dir", type=Path, default=ASSETS, help="where --export writes")
    ap.add_argument("--max-minutes", type=float, default=None)
    args = ap.parse_args(argv)
    settings = load_settings()
    run_dir = CACHE
    if args.stage:
        settings, run_dir = stage_settings(settings, args.stage), CACHE / args.stage
        settings["stage"] = args.stage
    if args.max_minutes is not None:
        settings["max_minutes"] = args.max_minutes
    if args.export:
        src = run_dir / ("ckpt.pt" if args.from_last else "best.pt")
        for p in export(settings, src, args.out_dir):
            print(f"wrote {p} ({p.stat().st_size / 1024:.0f} KiB)")
        return
    run_dir.mkdir(parents=True, exist_ok=True)
    log = runs.run_log(run_dir)
    init = CACHE / settings["finetune_from"] if args.stage else None
    train(settings, log, run_dir, init)


if __name__ == "__main__":
    main()
