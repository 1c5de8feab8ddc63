"""Train the neural PLC feature predictor on one CPU thread; resumable; export; evaluate.

    python -m training.dred.train_plc            # train (resumes from .cache/dred/plc/ckpt.pt),
                                                 # then export assets/dred/plc.npz + manifest
    python -m training.dred.train_plc --export   # export the best checkpoint only
    python -m training.dred.train_plc --eval     # heldout gap metrics + speed of the shipped npz

Data: the DRED feature cache (training.dred.data), train split at -16/-26/-36 dBov; the
heldout split (speakers never trained on) validates. Each training sequence carries simulated
losses: alternating known runs (geometric) and lost runs (half 1-4 frames, half 1-40 frames);
inside a lost run the model's own predictions are fed back with the "lost" flag, so it learns
to extrapolate blind. Settings: plc_settings.json beside this file. Log: .cache/dred/plc/train.log.
"""

from __future__ import annotations

import json
import math
import time

import numpy as np
import torch

from dsp.dred.features import NB_BANDS, NB_FEATURES
from dsp.dred.plc import DEFAULT_PATH, FeaturePredictor, cepstral_distance_db
from sim.outputs import write_text
from training import runs
from training.dred.data import CACHE, SHARED, load
from training.dred.plc_torch import CORR, PITCH, PlcNet, export_npz, plc_loss

FILES = runs.ModelFiles.beside(__file__, "plc", CACHE)
BEST = FILES.work / "best.pt"
EVAL = FILES.work / "eval.json"
log = runs.run_log(FILES.work)


def file_ranges(d: dict, min_frames: int) -> np.ndarray:
    """(n_files, 2) frame ranges [start, end) of the files at least ``min_frames`` long."""
    o = d["offsets"] // 160
    r = np.column_stack([o[:-1], o[1:]])
    return r[r[:, 1] - r[:, 0] >= min_frames]


def loss_mask(rng: np.random.Generator, n: int, s: dict) -> np.ndarray:
    """(n,) bool simulated loss pattern in 10 ms frames; the first frames are always known."""
    m = np.zeros(n, dtype=bool)
    t = s["first_known_frames"] + rng.geometric(1.0 / s["known_run_mean"]) - 1
    while t < n:
        top = s["short_gap_max"] if rng.random() < s["p_short_gap"] else s["long_gap_max"]
        length = int(rng.integers(1, top + 1))
        m[t:t + length] = True
        t += length + rng.geometric(1.0 / s["known_run_mean"])
    return m


def sample_batch(rng: np.random.Generator, d: dict, ranges: np.ndarray, s: dict, n: int):
    """``n`` random sequences (features at a random level) and loss masks, as tensors."""
    seq = s["seq_frames"]
    lengths = ranges[:, 1] - ranges[:, 0] - seq
    files = rng.choice(len(ranges), size=n, p=lengths / lengths.sum())
    x = np.empty((n, seq, NB_FEATURES), np.float32)
    for i, k in enumerate(files):
        start = ranges[k, 0] + rng.integers(0, lengths[k] + 1)
        x[i] = d[s["levels"][rng.integers(len(s["levels"]))]][start:start + seq]
    lost = np.stack([loss_mask(rng, seq, s) for _ in range(n)])
    return torch.from_numpy(x), torch.from_numpy(lost)


def norm_stats(d: dict, s: dict) -> tuple[np.ndarray, ...]:
    """Mean, std, min, max per feature over all training levels (the clamp range)."""
    allf = np.concatenate([d[lv] for lv in s["levels"]])
    return allf.mean(0), allf.std(0), allf.min(0), allf.max(0)


def validate(model: PlcNet, val: tuple[torch.Tensor, torch.Tensor], s: dict) -> dict[str, float]:
    """Loss and mean cepstral distance (dB) on lost target frames of the fixed heldout batch."""
    x, lost = val
    with torch.no_grad():
        pred = model.run(x, lost)
        loss, _ = plc_loss(pred, x[:, 1:], s["over_bias"], s["pitch_weight"])
    m = lost[:, 1:].numpy()
    cd = cepstral_distance_db(x[:, 1:].numpy()[m], pred.numpy()[m])
    return {"loss": loss.item(), "cd_lost_db": float(cd.mean())}


def write_manifest(train: dict, heldout: dict, s: dict) -> None:
    def entries(d: dict) -> list[dict]:
        return runs.file_entries(d["files"], d["sha1"])
    write_text(FILES.manifest, json.dumps({
        "shared_data_root": f"../{SHARED.relative_to(SHARED.parents[1])} (referenced, never "
                            "copied)",
        "cache": "training/dred/data.py: 16 kHz, -26 dBov normalized, LPCNet-style features "
                 "at -16/-26/-36 dBov",
        "train_levels": s["levels"],
        "train_frames": int(train["features_26"].shape[0]),
        "train": entries(train),
        "validation_heldout": entries(heldout),
    }, indent=1) + "\n")


def train() -> None:
    s = FILES.load_settings()
    torch.set_num_threads(s["threads"])
    torch.manual_seed(s["seed"])
    d, h = load("train"), load("heldout")
    ranges = file_ranges(d, s["seq_frames"] + 1)
    model = PlcNet(*norm_stats(d, s), **s["model"])
    opt = torch.optim.Adam(model.parameters(), lr=s["lr"])
    rng = np.random.default_rng(s["seed"])
    val = sample_batch(np.random.default_rng(s["seed"] + 1), h,
                       file_ranges(h, s["seq_frames"] + 1), s, s["val_sequences"])
    elapsed, step, best = 0.0, 0, math.inf
    if (ck := runs.resume(FILES.checkpoint, model, opt)) is not None:
        rng.bit_generator.state = ck["rng"]
        elapsed, step, best = ck["elapsed"], ck["step"], ck["best"]
        log(f"resumed at step {step}, {elapsed / 60:.1f} min")
    else:
        n_par = sum(p.numel() for p in model.parameters())
        log(f"start: {len(ranges)} train files, {n_par} parameters, settings {s}")
    budget = s["max_minutes"] * 60.0

    def checkpoint(best_loss: float) -> dict:
        return {"model": model.state_dict(), "opt": opt.state_dict(), "elapsed": elapsed,
                "step": step, "best": best_loss, "rng": rng.bit_generator.state}

    t0 = time.time() - elapsed
    last_ck = last_val = time.time()
    run_loss = {}
    while (elapsed := time.time() - t0) < budget:
        lr = runs.cosine_lr(s["lr"], s["lr_min"], elapsed / budget)
        x, lost = sample_batch(rng, d, ranges, s, s["batch"])
        pred = model.run(x, lost)
        loss, parts = plc_loss(pred, x[:, 1:], s["over_bias"], s["pitch_weight"])
        runs.optimizer_step(opt, loss, model.parameters(), s["grad_clip"], lr)
        step += 1
        for k, v in parts.items():
            run_loss[k] = 0.98 * run_loss.get(k, v) + 0.02 * v
        now = time.time()
        if now - last_val >= s["val_every_s"]:
            last_val = now
            v = validate(model, val, s)
            tag = ""
            if v["loss"] < best:
                best, tag = v["loss"], " *"
                runs.save_checkpoint(BEST, model.state_dict())
            log(f"step {step} {elapsed / 60:.1f} min lr {lr:.2e} train "
                + " ".join(f"{k} {x:.3f}" for k, x in run_loss.items())
                + f" | val loss {v['loss']:.4f} cd_lost {v['cd_lost_db']:.2f} dB{tag}")
        if now - last_ck >= s["checkpoint_every_s"]:
            last_ck = now
            runs.save_checkpoint(FILES.checkpoint, checkpoint(best))
    v = validate(model, val, s)
    if v["loss"] < best:
        runs.save_checkpoint(BEST, model.state_dict())
    runs.save_checkpoint(FILES.checkpoint, checkpoint(min(best, v["loss"])))
    log(f"done: {step} steps in {elapsed / 60:.1f} min, final val {v}")
    export(d, h, s)


def export(d: dict | None = None, h: dict | None = None, s: dict | None = None) -> None:
    s = s or FILES.load_settings()
    d = d if d is not None else load("train")
    h = h if h is not None else load("heldout")
    model = PlcNet(*norm_stats(d, s), **s["model"])
    model.load_state_dict(torch.load(BEST))
    export_npz(model, DEFAULT_PATH)
    write_manifest(d, h, s)
    log(f"exported {DEFAULT_PATH} ({DEFAULT_PATH.stat().st_size} bytes) and {FILES.manifest.name}")


def gap_starts(n: int, e: dict) -> np.ndarray:
    """Gap starts every ``spacing_frames`` with enough history before and room for the gap."""
    return np.arange(e["history_frames"], n - e["gap_frames"] + 1, e["spacing_frames"])


def fit_c0_decay(d: dict, e: dict) -> float:
    """c0 slope per frame (c0 units) of 'repeat last frame, c0 decaying', least squares on
    train gaps that start after a voiced frame (in silence there is nothing to fade)."""
    num = den = 0.0
    k = np.arange(1, e["gap_frames"] + 1)
    for a, b in file_ranges(d, e["history_frames"] + e["gap_frames"]):
        f = d["features_26"][a:b]
        st = gap_starts(b - a, e)
        st = st[f[st - 1, CORR] + 0.5 >= e["voiced_corr"]]
        drop = f[st - 1, 0][:, None] - f[st[:, None] + k[None, :] - 1, 0]
        num += float((drop * k).sum())
        den += float(st.size * (k * k).sum())
    return num / den


def band_rms_db(ref: np.ndarray, est: np.ndarray) -> float:
    """Mean over frames of the RMS band-energy error in dB (10·Δlog10 E; orthonormal DCT)."""
    d = ref[..., :NB_BANDS] - est[..., :NB_BANDS]
    return float(np.mean(10.0 * np.sqrt(np.mean(d * d, axis=-1))))


def gap_metrics(truth: np.ndarray, est: np.ndarray, e: dict) -> dict[str, dict[str, float]]:
    """Errors of gap estimates ``est`` vs ``truth`` (n_gaps, gap_frames, 20) per gap position.

    Cepstral distance (dB, LPCNet formula), band RMS error (dB), and in frames that are voiced
    in the truth: mean absolute pitch error in semitones and the gross (> 20 %) error rate.
    """
    out = {}
    for pos in e["positions"]:
        t, x = truth[:, pos - 1], est[:, pos - 1]
        v = t[:, CORR] + 0.5 >= e["voiced_corr"]
        t_true, t_est = 100 + 50 * t[v, PITCH], 100 + 50 * x[v, PITCH]
        out[str(pos)] = {
            "cd_db": float(cepstral_distance_db(t, x).mean()),
            "band_rms_db": band_rms_db(t, x),
            "semitones_mean": float(np.abs(12 * np.log2(np.maximum(t_est, 1.0) / t_true)).mean()),
            "gross_pct": float(100 * np.mean(np.abs(t_est - t_true) > 0.2 * t_true)),
        }
    return out


def evaluate() -> None:
    """Heldout error at gap positions vs two baselines, 40-frame gap statistics, speed."""
    e = FILES.load_settings()["eval"]
    h = load("heldout")
    decay = fit_c0_decay(load("train"), e)
    plc = FeaturePredictor.load()
    k = np.arange(1, e["gap_frames"] + 1)
    truth, last, pred = [], [], []
    for a, b in file_ranges(h, e["history_frames"] + e["gap_frames"]):
        for level in ("features_16", "features_26", "features_36"):
            f = h[level][a:b]
            st = gap_starts(b - a, e)
            truth.append(f[st[:, None] + k[None, :] - 1])
            last.append(f[st - 1])
            pred.append(plc.predict_gaps(f, st, e["gap_frames"]))
    truth, last, pred = (np.concatenate(v) for v in (truth, last, pred))
    repeat = np.repeat(last[:, None], e["gap_frames"], axis=1)
    decayed = repeat.copy()
    decayed[..., 0] -= decay * k
    estimates = {"plc": pred, "repeat": repeat, "repeat_c0_decay": decayed}
    subsets = {"all": np.ones(truth.shape[0], bool),
               "voiced_start": last[:, CORR] + 0.5 >= e["voiced_corr"]}
    table = {sub: {name: gap_metrics(truth[m], est[m], e) for name, est in estimates.items()}
             for sub, m in subsets.items()}
    stats = {sub: {
        "c0_last_known_mean": float(last[m, 0].mean()),
        "c0_plc_mean_by_pos": [float(pred[m, p - 1, 0].mean()) for p in e["positions"]],
        "c0_truth_mean_by_pos": [float(truth[m, p - 1, 0].mean()) for p in e["positions"]],
        "cep_std_across_gaps_at_40": {"plc": float(pred[m, -1, :NB_BANDS].std(0).mean()),
                                      "truth": float(truth[m, -1, :NB_BANDS].std(0).mean())},
        "max_abs": {"plc": float(np.abs(pred[m]).max()), "truth": float(np.abs(truth[m]).max())},
    } for sub, m in subsets.items()}
    plc.reset()
    frames = h["features_26"][:2000]
    t = time.perf_counter()
    for i, fr in enumerate(frames):
        if i % 4:
            plc.observe(fr)
        else:
            plc.predict()
    us = (time.perf_counter() - t) / frames.shape[0] * 1e6
    report = {"n_gaps": int(truth.shape[0]), "c0_decay_per_frame": decay, "table": table,
              "gap40_stats": stats, "numpy_us_per_frame": us, "settings": e}
    FILES.work.mkdir(parents=True, exist_ok=True)
    write_text(EVAL, json.dumps(report, indent=1) + "\n")
    print(f"{truth.shape[0]} gaps ({int(subsets['voiced_start'].sum())} voiced start); "
          f"c0 decay {decay:.3f}/frame; numpy {us:.1f} us/frame")
    for sub, tab in table.items():
        print(f"{sub}\npos | " + " | ".join(f"{n:>42s}" for n in tab))
        for pos in e["positions"]:
            row = [tab[n][str(pos)] for n in tab]
            print(f"{pos:3d} | " + " | ".join(
                f"cd {r['cd_db']:5.2f} band {r['band_rms_db']:5.2f} dB "
                f"st {r['semitones_mean']:4.2f} gpe {r['gross_pct']:4.1f}%" for r in row))
    print(json.dumps(stats, indent=1))


def main() -> None:
    runs.run_script(__doc__.splitlines()[0], train, {
        "export": ("export the best checkpoint only", export),
        "eval": ("evaluate assets/dred/plc.npz", evaluate)})


if __name__ == "__main__":
    main()
