"""Training-side plumbing of the PercepNet model: stage settings and shard files (no torch)."""

import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from training.percepnet.data import load_settings, stage_settings, write_shard  # noqa: E402


def test_stages_inherit_in_order_and_unknown_stage_is_named():
    base = load_settings()
    s1 = stage_settings(base, "finetune")
    s2 = stage_settings(base, "finetune2")
    assert stage_settings(base, None) == base
    assert s1["stoi_weight"] == base["finetune"]["stoi_weight"] > 0 == base.get("stoi_weight", 0)
    # stage 2 keeps stage 1's loss and overrides only its own keys (data, schedule)
    assert s2["stoi_weight"] == s1["stoi_weight"]
    assert s2["lr"] == base["finetune2"]["lr"] and s2["shards"] != base.get("shards", "shards")
    with pytest.raises(ValueError, match="finetune9"):
        stage_settings(base, "finetune9")


class _Mixer:
    fs = 16000

    def item(self, rng):
        x = 0.1 * rng.standard_normal(self.fs // 2)
        return x, 0.5 * x


def test_shard_is_written_whole_under_its_final_name_only(tmp_path):
    path = tmp_path / "shard_00007.npz"
    write_shard(_Mixer(), path, seed=3, n_items=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    z = np.load(path)
    n_frames = z["g"].shape[1]
    assert z["x"].shape == (2, n_frames + 3, 56)
    assert z["g"].shape == z["r"].shape == (2, n_frames, 27)
    # 6 dB of attenuation in every non-silent band (the target is half the noisy signal)
    assert np.allclose(z["g"][:, 5:-5], 0.5, atol=0.02)
