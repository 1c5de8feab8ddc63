"""Write data_manifest.json: the exact speech/noise files (and parts) the training used.

    python -m training.percepnet.manifest
"""

from __future__ import annotations

import hashlib
import json

from sim.outputs import write_text
from training.percepnet.data import HERE, SHARED, load_settings, noise_files, speech_files


def _sha1(path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()[:16]


def build() -> dict:
    s = load_settings()
    train = speech_files("train")
    held = speech_files("heldout")
    held_speakers = sorted({p.parent.name for p in held})
    train_speakers = sorted({p.name.split("-")[0] if p.suffix == ".flac" else p.name.split("_")[3]
                             for p in train})
    assert not set(held_speakers) & set(train_speakers), "held-out speaker in training data"
    return {
        "shared_data_root": "../shared/data (files are referenced, never copied)",
        "sample_rate_hz": s["fs_hz"],
        "speech_train": [{"file": str(p.relative_to(SHARED)), "sha1_16": _sha1(p)} for p in train],
        "speech_train_speakers": train_speakers,
        "speech_heldout_speakers": held_speakers,
        "speech_heldout_note": "LibriSpeech test-other speakers: validation and tests only, never "
                               "trained on (also not used for babble)",
        "noise": [{"file": str(p.relative_to(SHARED)), "sha1_16": _sha1(p),
                   "train_part": f"first {s['noise_train_fraction']:.0%}",
                   "eval_part": f"last {1 - s['noise_train_fraction']:.0%}"}
                  for p in noise_files()],
        "synthesized_noise": ["babble (3–7 summed training utterances)", "coloured noise "
                              "(−6…+3 dB/octave)", "fan (band-passed noise + rotor harmonics)",
                              "mains hum 50/60 Hz with harmonics"],
        "reverberation": f"{s['n_rooms']} pyroomacoustics shoebox rooms (RT60 0.15–0.7 s, ISM), "
                         f"target keeps the first {s['early_ms']:.0f} ms",
        "settings": s,
    }


def main() -> None:
    out = HERE / "data_manifest.json"
    write_text(out, json.dumps(build(), indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
