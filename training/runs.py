"""The plumbing every training script shares (DRED RDO-VAE, vocoder and PLC; PercepNet): where a
model's training files lie, the run's log, checkpoints written atomically and resumed, the cosine
learning-rate schedule, one optimizer step with the gradient norm clipped, the file lists of
the data manifests and a script's command line."""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from sim.outputs import write_file


@dataclass(frozen=True)
class ModelFiles:
    """One model's training files: its settings and data manifest (JSON, committed) beside the
    script, its checkpoints and log in a work folder (ignored)."""

    settings: Path
    manifest: Path
    work: Path

    @classmethod
    def beside(cls, script: str, name: str, cache: Path) -> ModelFiles:
        """<name>_settings.json and <name>_manifest.json next to `script`; work: cache/<name>."""
        here = Path(script).resolve().parent
        return cls(here / f"{name}_settings.json", here / f"{name}_manifest.json", cache / name)

    @property
    def checkpoint(self) -> Path:
        return self.work / "ckpt.pt"

    def load_settings(self) -> dict:
        return json.loads(self.settings.read_text())


def run_log(folder: Path) -> Callable[[str], None]:
    """A `log(message)` that prints "HH:MM:SS message" and appends it to folder/train.log
    (the folder is made when missing)."""
    path = Path(folder) / "train.log"

    def log(message: str) -> None:
        line = f"{time.strftime('%H:%M:%S')} {message}"
        print(line, flush=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as fh:
            fh.write(line + "\n")

    return log


def save_checkpoint(path: Path, state: object) -> None:
    """`torch.save(state)` to `path`, atomically (a crash leaves the previous checkpoint)."""
    write_file(path, lambda tmp: torch.save(state, tmp))


def resume(path: Path, model: torch.nn.Module, opt: torch.optim.Optimizer,
           key: str = "model") -> dict | None:
    """Put the model (its state under `key`) and optimizer states of the checkpoint at `path`
    back; returns the checkpoint, or None when there is none yet."""
    if not path.is_file():
        return None
    ck = torch.load(path, weights_only=False)
    model.load_state_dict(ck[key])
    opt.load_state_dict(ck["opt"])
    return ck


def cosine_lr(lr_max: float, lr_min: float, fraction: float) -> float:
    """The learning rate `fraction` (0 … 1) of the way through a cosine decay."""
    return lr_min + 0.5 * (lr_max - lr_min) * (1 + math.cos(math.pi * fraction))


def optimizer_step(opt: torch.optim.Optimizer, loss: torch.Tensor,
                   params: Iterable[torch.Tensor], grad_clip: float,
                   lr: float | Sequence[float]) -> None:
    """Set the learning rate (one for every parameter group, or one per group), back-propagate
    `loss`, clip the gradient norm of `params` to `grad_clip` and step."""
    lrs = [lr] * len(opt.param_groups) if isinstance(lr, (int, float)) else lr
    for group, value in zip(opt.param_groups, lrs, strict=True):
        group["lr"] = value
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, grad_clip)
    opt.step()


def file_entries(files: Sequence, sha1: Sequence) -> list[dict]:
    """A data manifest's list of files: {"file", "sha1_16"} per file."""
    return [{"file": str(f), "sha1_16": str(h)} for f, h in zip(files, sha1, strict=True)]


def run_script(description: str, train: Callable[[], object],
               actions: dict[str, tuple[str, Callable[[], object]]],
               argv: list[str] | None = None) -> None:
    """A training script's command line: --NAME runs actions[NAME] = (help, function) instead of
    training (the first named in `actions` wins when several are given); no flag: `train()`."""
    ap = argparse.ArgumentParser(description=description)
    for name, (help_text, _run) in actions.items():
        ap.add_argument(f"--{name}", action="store_true", help=help_text)
    args = ap.parse_args(argv)
    chosen = [run for name, (_help, run) in actions.items() if getattr(args, name)]
    (chosen[0] if chosen else train)()
