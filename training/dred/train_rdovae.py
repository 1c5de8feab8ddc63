"""Train the DRED RDO-VAE on one CPU thread; resumable; exports assets/dred/rdovae.npz.

    python -m training.dred.train_rdovae            # train (resumes from .cache/dred/rdovae/)
    python -m training.dred.train_rdovae --export   # weights + fitted Laplace tables -> assets
    python -m training.dred.train_rdovae --eval     # held-out rate/distortion with the numpy model

Data: the feature cache of :mod:`training.dred.data` (features at -16/-26/-36 dBov, one level
drawn per sequence). Each training sequence is ``seq_steps`` 20 ms encoder steps; the decoder
is run from ``ends_per_seq`` random packet ends per sequence over the full 26 chunks (newest
first), so the initial state is learnt at every position and every history length (a shorter
history is a prefix of the same backward run). Quality levels are drawn per packet end: half
the time the age pattern ``q(i)`` of a random (q0, dq), otherwise independently per chunk.

Rate control: the loss per chunk is ``D / sqrt(lambda_q) + sqrt(lambda_q) * bits`` (libopus's
normalization); ``lambda_q`` is steered multiplicatively so each level's mean bits per chunk
track ``target_bits`` (libopus 1.5's ``dred_bits_table``).
Settings: rdovae_settings.json beside this file. Log: .cache/dred/rdovae/train.log.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")  # one core, as the sender and receiver run

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from dsp.dred.laplace import (  # noqa: E402
    DEFAULT_MAX_ABS,
    dead_zone_quantize,
    fit_laplace,
    laplace_pmf,
)
from dsp.dred.rdovae import RdoVae  # noqa: E402
from sim.outputs import write_npz, write_text  # noqa: E402
from training import runs  # noqa: E402
from training.dred.data import CACHE as DATA_CACHE  # noqa: E402
from training.dred.data import REPO, load  # noqa: E402
from training.dred.rdovae_torch import (  # noqa: E402
    CHUNK_FRAMES,
    N_LEVELS,
    NB_FEATURES,
    RdoVaeTorch,
    export_weights,
    frame_loss,
    quality_levels,
)

FILES = runs.ModelFiles.beside(__file__, "rdovae", DATA_CACHE)
ASSET = REPO / "assets" / "dred" / "rdovae.npz"
ASSET_VERSION = 1


class Windows:
    """Random feature windows ``(B, frames, 20)`` that never cross a file boundary."""

    def __init__(self, split: dict, levels: list[int], frames: int, rng: np.random.Generator):
        self.feats = [split[f"features_{lv}"] for lv in levels]
        bounds = split["offsets"] // 160
        lo, hi = bounds[:-1], bounds[1:] - frames
        ok = hi > lo
        self.lo, self.span = lo[ok], (hi - lo)[ok]
        self.p = self.span / self.span.sum()
        self.frames, self.rng = frames, rng

    def batch(self, size: int) -> np.ndarray:
        f = self.rng.choice(self.lo.size, size=size, p=self.p)
        start = self.lo[f] + self.rng.integers(0, self.span[f])
        lv = self.rng.integers(0, len(self.feats), size)
        idx = start[:, None] + np.arange(self.frames)
        return np.stack([self.feats[v][i] for v, i in zip(lv, idx, strict=True)])


def draw_levels(rng: np.random.Generator, shape: tuple[int, ...], chunks: int,
                p_age: float) -> np.ndarray:
    """Quality level per chunk ``(*shape, chunks)``, newest first (see module docstring)."""
    age = quality_levels(rng.integers(0, N_LEVELS, shape), rng.integers(0, 8, shape),
                         np.full(shape, N_LEVELS - 1), chunks)
    indep = rng.integers(0, N_LEVELS, (*shape, chunks))
    return np.where(rng.random(shape)[..., None] < p_age, age, indep)


def draw_ends(rng: np.random.Generator, batch: int, n_ends: int, steps: int,
              chunks: int) -> np.ndarray:
    """Distinct packet-end steps ``(batch, n_ends)`` whose oldest chunk starts at frame >= 0."""
    first = 2 * (chunks - 1) + 1
    return np.stack([first + rng.choice(steps - first, n_ends, replace=False)
                     for _ in range(batch)])


def forward(model: RdoVaeTorch, feats: torch.Tensor, ends: np.ndarray, q: np.ndarray,
            ) -> dict[str, torch.Tensor]:
    """Run encoder, quantizers and backward decoder for each packet end.

    feats ``(B, 2S, 20)``, ends ``(B, E)``, q ``(B, E, C)`` -> per-chunk frame losses
    ``(B, E, C, 4)``, latent bits ``(B, E, C)``, state bits ``(B, E)``, decoded and true
    features ``(B, E, C, 4, 20)``.
    """
    b, e = ends.shape
    c = q.shape[-1]
    z, s = model.encode(feats)
    steps = torch.from_numpy(ends[..., None] - 2 * np.arange(c))  # (B, E, C) newest first
    bi = torch.arange(b)[:, None, None]
    zq, zbits = model.quantize(z[bi, steps], torch.from_numpy(q), "latent")
    sq, sbits = model.quantize(s[torch.arange(b)[:, None], torch.from_numpy(ends)],
                               torch.from_numpy(q[..., 0]), "state")
    y = model.decode(sq.reshape(b * e, -1), zq.reshape(b * e, c, -1))
    y = y.reshape(b, e, c, CHUNK_FRAMES, NB_FEATURES)
    frames = 2 * steps[..., None] - 2 + torch.arange(CHUNK_FRAMES)  # (B, E, C, 4)
    true = feats[torch.arange(b)[:, None, None, None], frames]
    return {"loss": frame_loss(y, true), "zbits": zbits, "sbits": sbits, "pred": y, "true": true}


def rd_loss(out: dict[str, torch.Tensor], q: np.ndarray, lam: np.ndarray) -> torch.Tensor:
    lq = torch.from_numpy(lam[q]).float()  # (B, E, C)
    d = out["loss"].mean(dim=-1)
    per_chunk = d / lq.sqrt() + lq.sqrt() * out["zbits"]
    state = lq[..., 0].sqrt() * out["sbits"]
    return (per_chunk.sum(dim=-1) + state).mean() / q.shape[-1]


def cepstral_distance_db(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """LPCNet cepstral distortion per frame (dB): 10/ln10 * sqrt(2 * sum (c - c_hat)^2)."""
    return 10 / np.log(10) * np.sqrt(2 * np.sum((pred[..., :18] - true[..., :18]) ** 2, axis=-1))


def _val_set(settings: dict) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    held = load("heldout")
    w = Windows(held, [26], 2 * settings["seq_steps"], rng)
    feats = w.batch(settings["val_windows"])
    last = settings["seq_steps"] - 1
    ends = np.stack([[last, last - 1]] * feats.shape[0])
    return {"feats": feats, "ends": ends}


def validate(model: RdoVaeTorch, val: dict, chunks: int) -> dict[int, tuple[float, ...]]:
    """Per level q (all chunks at q): cepstral distance dB, voiced pitch error (samples), bits."""
    model.eval()
    res = {}
    with torch.no_grad():
        feats = torch.from_numpy(val["feats"])
        for lv in (0, 3, 6, 9, 12, 15):
            q = np.full((*val["ends"].shape, chunks), lv)
            out = forward(model, feats, val["ends"], q)
            pred, true = out["pred"].numpy(), out["true"].numpy()
            voiced = true[..., 19] > 0.0
            perr = 50 * np.abs(pred[..., 18] - true[..., 18])[voiced]
            res[lv] = (float(cepstral_distance_db(pred, true).mean()), float(perr.mean()),
                       float(out["zbits"].mean()), float(out["sbits"].mean()))
    model.train()
    return res


def train(settings: dict, cache: Path, log) -> None:
    torch.set_num_threads(settings["threads"])
    torch.manual_seed(settings["seed"])
    chunks, steps = settings["chunks"], settings["seq_steps"]
    data = load("train")
    model = RdoVaeTorch(**settings["model"])
    quant = [p for n, p in model.named_parameters() if n.startswith("q_")]
    net = [p for n, p in model.named_parameters() if not n.startswith("q_")]
    opt = torch.optim.Adam([{"params": net, "lr": settings["lr"]},
                            {"params": quant, "lr": settings["lr_quant"]}])
    lo, hi = settings["lambda_init"]
    state = {"step": 0, "elapsed_s": 0.0, "log_lambda": np.geomspace(lo, hi, N_LEVELS).tolist(),
             "rate_ema": list(settings["target_bits"])}
    state["log_lambda"] = np.log(state["log_lambda"]).tolist()
    ckpt = cache / "ckpt.pt"
    if (ck := runs.resume(ckpt, model, opt)) is not None:
        state = ck["state"]
        log(f"resumed at step {state['step']} ({state['elapsed_s'] / 60:.1f} min trained)")
    else:
        f = np.concatenate([data[f"features_{lv}"] for lv in settings["levels_dbov"]])
        model.feat_mean.copy_(torch.from_numpy(f.mean(0)))
        model.feat_std.copy_(torch.from_numpy(f.std(0) + 1e-3))
    rng = np.random.default_rng(settings["seed"] + state["step"])
    windows = Windows(data, settings["levels_dbov"], 2 * steps, rng)
    val = _val_set(settings)
    target = np.array(settings["target_bits"])
    log_lam, rate_ema = np.array(state["log_lambda"]), np.array(state["rate_ema"])
    budget_s = settings["max_minutes"] * 60
    run_start = time.time() - state["elapsed_s"]
    t_ck = t_log = time.time()
    losses = []
    while state["elapsed_s"] < budget_s:
        frac = state["elapsed_s"] / budget_s
        lrs = [runs.cosine_lr(lr0, settings["lr_min"], frac)
               for lr0 in (settings["lr"], settings["lr_quant"])]
        feats = torch.from_numpy(windows.batch(settings["batch"]))
        ends = draw_ends(rng, settings["batch"], settings["ends_per_seq"], steps, chunks)
        q = draw_levels(rng, ends.shape, chunks, settings["p_age_pattern"])
        out = forward(model, feats, ends, q)
        loss = rd_loss(out, q, np.exp(log_lam))
        runs.optimizer_step(opt, loss, model.parameters(), settings["grad_clip"], lrs)
        # steer lambda_q towards the target rate of each level (multiplicative, smoothed)
        zb = out["zbits"].detach().numpy()
        for lv in range(N_LEVELS):
            m = q == lv
            if m.any():
                rate_ema[lv] = settings["rate_ema"] * rate_ema[lv] + (
                    1 - settings["rate_ema"]) * zb[m].mean()
        log_lam += settings["lambda_eta"] * np.clip(np.log(rate_ema / target), -1, 1)
        losses.append(loss.item())
        state["step"] += 1
        state["elapsed_s"] = time.time() - run_start
        state["log_lambda"], state["rate_ema"] = log_lam.tolist(), rate_ema.tolist()
        if time.time() - t_log > 60:
            log(f"step {state['step']} {state['elapsed_s'] / 60:.1f} min loss "
                f"{np.mean(losses):.4f} bits q0/5/10/15 "
                + " ".join(f"{rate_ema[i]:.1f}" for i in (0, 5, 10, 15))
                + " lambda " + " ".join(f"{math.exp(log_lam[i]):.1e}" for i in (0, 5, 10, 15)))
            losses, t_log = [], time.time()
        if time.time() - t_ck > settings["checkpoint_every_s"] or state["elapsed_s"] >= budget_s:
            v = validate(model, val, chunks)
            state["val"] = v
            runs.save_checkpoint(ckpt, {"model": model.state_dict(), "opt": opt.state_dict(),
                                   "state": state, "settings": settings})
            log("val (q: cep dB / pitch err samples / bits per chunk / state bits) "
                + "  ".join(f"{k}: {a:.2f}/{b:.1f}/{c:.1f}/{d:.1f}" for k, (a, b, c, d)
                            in v.items()))
            t_ck = time.time()
    log(f"done: {state['step']} steps in {state['elapsed_s'] / 60:.1f} min")


def _quant_arrays(model: RdoVaeTorch) -> dict[str, np.ndarray]:
    scale = model.q_log_scale.detach().exp().numpy().astype(np.float32)
    dead = torch.nn.functional.softplus(model.q_dead_raw.detach()).numpy().astype(np.float32)
    dz = model.latent_dim
    return {"latent_scale": scale[:, :dz], "latent_dead_zone": dead[:, :dz],
            "state_scale": scale[:, dz:], "state_dead_zone": dead[:, dz:]}


def encode_split(vae: RdoVae, split: dict, levels: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """All latents and states of a split (every file at every level), rows concatenated."""
    bounds = split["offsets"] // 160
    zs, ss = [], []
    for lv in levels:
        f = split[f"features_{lv}"]
        for a, b in itertools.pairwise(bounds):
            z, s = vae.encode(f[a:b])
            zs.append(z)
            ss.append(s)
    return np.concatenate(zs), np.concatenate(ss)


def fit_tables(x: np.ndarray, scale: np.ndarray, dead: np.ndarray, part: str
               ) -> dict[str, np.ndarray]:
    """Laplace (p0, r) per (level, dim) fitted to the integer symbols of ``x`` ``(n, dim)``
    at every level, and the mean ideal bits of one vector under those tables."""
    p0s, rs, bits = [], [], []
    for q in range(N_LEVELS):
        sym = dead_zone_quantize(x, scale[q], dead[q])
        p0, r = fit_laplace(sym)
        pmf = laplace_pmf(p0, r)
        idx = sym + DEFAULT_MAX_ABS
        bits.append(-np.log2(pmf[np.arange(x.shape[1]), idx]).sum(axis=1).mean())
        p0s.append(p0)
        rs.append(r)
    return {f"{part}_p0": np.array(p0s), f"{part}_r": np.array(rs),
            f"{part}_bits": np.array(bits)}


def _alive(x: np.ndarray, scale: np.ndarray, dead: np.ndarray) -> np.ndarray:
    """Dimensions with a non-zero symbol at some level ``(dim,)`` bool."""
    return np.any([np.any(dead_zone_quantize(x, scale[q], dead[q]) != 0, axis=0)
                   for q in range(N_LEVELS)], axis=0)


def _prune(arrays: dict[str, np.ndarray], keep_z: np.ndarray, keep_s: np.ndarray
           ) -> dict[str, np.ndarray]:
    """Remove latent/state dimensions: encoder head rows, decoder input columns, tables."""
    out = dict(arrays)
    for head, cons, keep, part in (("enc_z", "dec_in", keep_z, "latent"),
                                   ("enc_s", "dec_init1", keep_s, "state")):
        out[f"w_{head}__weight"] = arrays[f"w_{head}__weight"][keep]
        out[f"w_{head}__bias"] = arrays[f"w_{head}__bias"][keep]
        out[f"w_{cons}__weight"] = arrays[f"w_{cons}__weight"][:, keep]
        for k in ("scale", "dead_zone", "p0", "r"):
            out[f"{part}_{k}"] = arrays[f"{part}_{k}"][:, keep]
    return out


def export(settings: dict, cache: Path, log) -> Path:
    """Write the float16 weights and the Laplace tables fitted on the training set."""
    ck = torch.load(cache / "ckpt.pt", weights_only=False)
    model = RdoVaeTorch(**settings["model"])
    model.load_state_dict(ck["model"])
    arrays = {"version": np.array(ASSET_VERSION), **export_weights(model), **_quant_arrays(model)}
    for part in ("latent", "state"):  # provisional tables: encoding does not use them
        dim = arrays[f"{part}_scale"].shape[1]
        arrays |= {f"{part}_p0": np.full((N_LEVELS, dim), 0.5),
                   f"{part}_r": np.full((N_LEVELS, dim), 0.5), f"{part}_bits": np.zeros(N_LEVELS)}
    vae = RdoVae(arrays)
    t = time.time()
    z, s = encode_split(vae, load("train"), settings["levels_dbov"])
    log(f"encoded {z.shape[0]} training steps with the numpy model in {time.time() - t:.0f} s")
    # the rate term leaves some dimensions at symbol 0 at every level: drop them from the
    # network (the decoder then sees exactly the 0 it saw in training)
    keep_z = _alive(z, arrays["latent_scale"], arrays["latent_dead_zone"])
    keep_s = _alive(s, arrays["state_scale"], arrays["state_dead_zone"])
    arrays = _prune(arrays, keep_z, keep_s)
    log(f"kept {keep_z.sum()} of {keep_z.size} latent and {keep_s.sum()} of {keep_s.size} "
        "state dimensions")
    # only every other latent is sent, but both parities come from the same encoder: use all
    arrays |= fit_tables(z[:, keep_z], arrays["latent_scale"], arrays["latent_dead_zone"],
                         "latent")
    arrays |= fit_tables(s[:, keep_s], arrays["state_scale"], arrays["state_dead_zone"], "state")
    ASSET.parent.mkdir(parents=True, exist_ok=True)
    write_npz(ASSET, arrays)
    log("bits per chunk q0..15: " + " ".join(f"{b:.1f}" for b in arrays["latent_bits"]))
    log("state bits q0..15: " + " ".join(f"{b:.1f}" for b in arrays["state_bits"]))
    log(f"wrote {ASSET} ({ASSET.stat().st_size / 1024:.0f} KiB)")
    write_manifest(settings, ck["state"], arrays)
    return ASSET


def write_manifest(settings: dict, state: dict, arrays: dict[str, np.ndarray]) -> None:
    """rdovae_manifest.json: the exact training/validation files (sha1 from the feature
    cache), the settings, the training run and the fitted rate table."""
    train, held = load("train"), load("heldout")

    def files(split: dict) -> list[dict]:
        return runs.file_entries(split["files"], split["sha1"])

    manifest = {
        "shared_data_root": "../shared/data (files are referenced, never copied)",
        "features": "dsp.dred.features.compute_features of -26 dBov speech at -16/-26/-36 dBov "
                    "(training.dred.data cache)",
        "train_files": files(train),
        "heldout_files": files(held),
        "heldout_note": "LibriSpeech test-other speakers: validation and evaluation only",
        "settings": settings,
        "training": {"steps": state["step"], "wall_minutes": round(state["elapsed_s"] / 60, 1),
                     "threads": settings["threads"],
                     "final_lambda": np.exp(state["log_lambda"]).round(7).tolist()},
        "latent_dim": int(arrays["latent_scale"].shape[1]),
        "state_dim": int(arrays["state_scale"].shape[1]),
        "latent_bits_per_chunk_train": np.round(arrays["latent_bits"], 2).tolist(),
        "state_bits_train": np.round(arrays["state_bits"], 2).tolist(),
    }
    if FILES.manifest.is_file():  # keep an evaluation of the same asset
        old = json.loads(FILES.manifest.read_text())
        if old.get("training") == manifest["training"] and "heldout_eval" in old:
            manifest["heldout_eval"] = old["heldout_eval"]
    write_text(FILES.manifest, json.dumps(manifest, indent=1) + "\n")


def _packet_ends(n_steps: int, chunks: int, hop: int) -> np.ndarray:
    return np.arange(2 * (chunks - 1) + 1, n_steps, hop)


def evaluate(settings: dict, log, hop: int = 5) -> dict:
    """Held-out rate, distortion and speed of the shipped asset (numpy model + payload codec);
    packets every ``hop`` steps of each held-out file at -26 dBov, each with 26 chunks."""
    from dsp.dred.payload import DEFAULT_DQ, DEFAULT_Q0, DredCodec

    vae = RdoVae.load(ASSET)
    codec = DredCodec(vae)
    held = load("heldout")
    bounds = held["offsets"] // 160
    chunks = settings["chunks"]
    files = []
    t_enc = n_steps = 0.0
    for a, b in itertools.pairwise(bounds):
        f = held["features_26"][a:b]
        t = time.perf_counter()
        z, s = vae.encode(f)
        t_enc += time.perf_counter() - t
        n_steps += z.shape[0]
        files.append((f, z, s))
    res: dict = {"encode_ms_per_20ms_step": 1e3 * t_enc / n_steps}

    def run(q0: int, dq: int) -> dict:
        bits, cep, pitch, t_pack, t_dec, by_age = [], [], [], 0.0, 0.0, []
        for f, z, s in files:
            for j in _packet_ends(z.shape[0], chunks, hop):
                steps = j - 2 * np.arange(chunks)
                t = time.perf_counter()
                data = codec.pack(s[j], z[steps], q0, dq)
                t_pack += time.perf_counter() - t
                t = time.perf_counter()
                y = codec.features(codec.unpack(data))
                t_dec += time.perf_counter() - t
                true = f[2 * steps[-1] - 2: 2 * j + 2]
                bits.append(8 * len(data))
                cd = cepstral_distance_db(y, true)
                cep.append(cd.mean())
                by_age.append(cd.reshape(chunks, CHUNK_FRAMES).mean(axis=1)[::-1])
                voiced = true[:, 19] > 0.0
                pitch.append(50 * np.abs(y[voiced, 18] - true[voiced, 18]))
        p = np.concatenate(pitch)
        return {"payload_bits_mean": float(np.mean(bits)), "payload_bits_max": int(np.max(bits)),
                "cepstral_distance_db": float(np.mean(cep)),
                "cepstral_distance_db_by_age_newest_first": np.round(
                    np.mean(by_age, axis=0), 2).tolist(),
                "pitch_abs_err_samples_voiced": float(p.mean()),
                "pitch_gross_err_frac_voiced": float(np.mean(p > 10)),
                "pack_ms": 1e3 * t_pack / len(bits), "unpack_decode_ms": 1e3 * t_dec / len(bits)}

    # bits per chunk on held-out latents (every step, both parities) under the shipped tables
    lat = vae.latent_tables
    z_all = np.concatenate([z for _, z, _ in files])
    held_bits = []
    for q in range(N_LEVELS):
        sym = dead_zone_quantize(z_all, lat.scale[q], lat.dead_zone[q]) + DEFAULT_MAX_ABS
        held_bits.append(-np.log2(lat.pmf[q][np.arange(vae.latent_dim), sym]).sum(axis=1).mean())
    res["bits_per_chunk_train"] = np.round(lat.mean_bits, 2).tolist()
    res["bits_per_chunk_heldout"] = np.round(held_bits, 2).tolist()
    res["per_level_dq0"] = {}
    for q in range(N_LEVELS):
        r = run(q, 0)
        res["per_level_dq0"][q] = {k: round(v, 3) for k, v in r.items() if not isinstance(v, list)}
        log(f"q {q:2d}: {held_bits[q]:5.1f} bits/chunk, cep {r['cepstral_distance_db']:.2f} dB, "
            f"pitch err {r['pitch_abs_err_samples_voiced']:.2f} samples "
            f"(gross {100 * r['pitch_gross_err_frac_voiced']:.1f} %), "
            f"payload {r['payload_bits_mean']:.0f} bits")
    res["default"] = {"q0": DEFAULT_Q0, "dq": DEFAULT_DQ, **run(DEFAULT_Q0, DEFAULT_DQ)}
    log(f"default q0={DEFAULT_Q0} dq={DEFAULT_DQ}: {res['default']}")
    log(f"encode {res['encode_ms_per_20ms_step']:.3f} ms per 20 ms step")
    manifest = json.loads(FILES.manifest.read_text())
    manifest["heldout_eval"] = res
    write_text(FILES.manifest, json.dumps(manifest, indent=1) + "\n")
    return res


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--export", action="store_true", help="write assets/dred/rdovae.npz")
    ap.add_argument("--eval", action="store_true", help="held-out evaluation of the asset")
    ap.add_argument("--settings", type=Path, default=FILES.settings, help="settings json")
    ap.add_argument("--cache", type=Path, default=FILES.work, help="checkpoint/log folder")
    args = ap.parse_args(argv)
    settings = json.loads(args.settings.read_text())
    args.cache.mkdir(parents=True, exist_ok=True)
    log = runs.run_log(args.cache)
    if args.export:
        export(settings, args.cache, log)
    elif args.eval:
        evaluate(settings, log)
    else:
        train(settings, args.cache, log)


if __name__ == "__main__":
    main()
