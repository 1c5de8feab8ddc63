"""Feature cache for the DRED models: 16 kHz speech and its LPCNet-style features.

    python -m training.dred.data          # writes .cache/dred/{train,heldout}.npz

train: LibriSpeech train-clean-100 (251 speakers) + CMU ARCTIC from ../shared/data/speech;
heldout: the 6 LibriSpeech test-other speakers, which no DRED model ever trains on (the tests
and `awb dred eval` use them). Audio is level-normalized to -26 dBov (active speech level
approximated by the RMS of the loudest 50 % of 10 ms frames). Features are stored at three
levels (-16, -26, -36 dBov) so feature-domain models see level variation; the vocoder
recomputes features from audio segments on the fly.
Nothing from ../shared/data is copied into the repository: the cache is an ignored folder.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from dsp.dred.features import FRAME_SIZE, SAMPLE_RATE, compute_features
from dsp.percepnet.audio_io import load_mono
from sim.outputs import write_npz

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data"
SPEECH = SHARED / "speech"
CACHE = REPO / ".cache" / "dred"
LEVELS_DBOV = (-16.0, -26.0, -36.0)
TARGET_DBOV = -26.0


def speech_files(split: str) -> list[Path]:
    """Training or held-out speech files, sorted (raises FileNotFoundError without shared data)."""
    if not SPEECH.is_dir():
        raise FileNotFoundError(f"{SPEECH} is missing: DRED trains on ../shared/data/speech")
    if split == "train":
        return sorted((SPEECH / "librispeech_train-clean-100").glob("*.flac")) + sorted(
            (SPEECH / "cmu_arctic").glob("*.wav"))
    if split == "heldout":
        return sorted((SPEECH / "librispeech_test-other").glob("*/*.flac"))
    raise ValueError(f"split must be 'train' or 'heldout', not {split!r}")


def active_level_dbov(x: np.ndarray) -> float:
    """Level in dB re full scale (RMS re 1.0) of the loudest half of the 10 ms frames."""
    n = x.size // FRAME_SIZE
    e = np.mean(x[: n * FRAME_SIZE].reshape(n, FRAME_SIZE) ** 2, axis=1)
    loud = np.sort(e)[n // 2:]
    return float(10 * np.log10(np.mean(loud) + 1e-20))


def normalize(x: np.ndarray, dbov: float = TARGET_DBOV) -> np.ndarray:
    """``x`` scaled so its active level is ``dbov`` (float32)."""
    return (x * 10 ** ((dbov - active_level_dbov(x)) / 20)).astype(np.float32)


def load_speech(path: Path) -> np.ndarray:
    """Mono 16 kHz float audio of a speech file, level-normalized to -26 dBov."""
    x, _ = load_mono(path, SAMPLE_RATE)
    return normalize(x)


def _sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()[:16]


def build(split: str) -> Path:
    """Write ``.cache/dred/<split>.npz``: audio (concatenated), per-file offsets, features."""
    files = speech_files(split)
    audio, feats = [], {lv: [] for lv in LEVELS_DBOV}
    offsets = [0]
    for p in files:
        x = load_speech(p)
        x = x[: x.size // FRAME_SIZE * FRAME_SIZE]
        audio.append(x)
        offsets.append(offsets[-1] + x.size)
        for lv in LEVELS_DBOV:
            gain = 10 ** ((lv - TARGET_DBOV) / 20)
            feats[lv].append(compute_features(x * gain).astype(np.float32))
    CACHE.mkdir(parents=True, exist_ok=True)
    out = CACHE / f"{split}.npz"
    write_npz(out, {"audio": np.concatenate(audio), "offsets": np.array(offsets),
                    "files": np.array([str(p.relative_to(SHARED)) for p in files]),
                    "sha1": np.array([_sha1(p) for p in files]),
                    **{f"features_{int(-lv)}": np.concatenate(feats[lv])
                       for lv in LEVELS_DBOV}})
    return out


def load(split: str) -> dict[str, np.ndarray]:
    """The cached arrays of a split (builds the cache first if it is missing)."""
    path = CACHE / f"{split}.npz"
    if not path.exists():
        build(split)
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def main() -> None:
    for split in ("heldout", "train"):
        print(f"wrote {build(split)}")


if __name__ == "__main__":
    main()
