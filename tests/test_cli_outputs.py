"""The commands' outputs (issue 12, build items 2 and 3).

No command destroys its input: an output that would replace a file the command reads (the same
path, through `./`, a symlink or a hard link, a reference or trace file, the scene file or a file
it names, a folder mode's inputs) is refused before any work with exit 2 and one line naming the
output and the input; the input keeps its bytes and nothing new is written. The seven cases the
fuzzing pass found first, then their variants; the panels' save paths are tested with the
panels (tests/gui).

A run whose files cannot all be written (a read-only target among them) writes none of them:
exit 2, one line naming the target."""

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dsp.signals import speech_like
from sim.presets import find_preset
from workbench.cli.main import main as awb

LINE = re.compile(r"awb: error: (?P<out>.+): would overwrite (the input file|inside the input"
                  r" folder) (?P<src>.+); choose another output")


def _wav(path: Path, fs: int, channels: int, seed: int) -> None:
    s = speech_like(fs, 0.5, seed=seed)
    s = 0.5 * s / np.max(np.abs(s))
    sf.write(path, np.stack([s] * channels, 1) if channels > 1 else s, fs, subtype="PCM_16")


@pytest.fixture
def work(tmp_path, monkeypatch):
    """A folder of inputs, and the current folder (relative paths as a user types them)."""
    monkeypatch.chdir(tmp_path)
    for name in ("in.wav", "clean.wav", "E/a.wav", "E/b.wav", "S/drivers.wav"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        _wav(tmp_path / name, 16000, 1, seed=len(name))
    for name in ("X/binaural_A.wav", "X/L.wav"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        _wav(tmp_path / name, 48000, 2, seed=len(name))
    (tmp_path / "trace.txt").write_text("0\n1\n" * 20)
    (tmp_path / "curve.csv").write_text("freq_hz, gain_db\n100, 20\n8000, 20\n")
    scene = json.loads(find_preset("design-stereo-2", "scene").path.read_text())
    for name in ("scene.json", "D/scene.json", "X/report.json"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(json.dumps(scene))
    # A scene that names a signal file where `awb render` writes (S/drivers.wav).
    scene["sources"] = [{"name": "talker", "kind": "talker", "position": [1.0, 1.0, 0.0],
                         "signal": "drivers.wav", "level_db": 60.0}]
    (tmp_path / "S/scene.json").write_text(json.dumps(scene))
    (tmp_path / "link.wav").symlink_to("in.wav")
    os.link(tmp_path / "in.wav", tmp_path / "hard.wav")
    (tmp_path / "scene_link.json").symlink_to("scene.json")
    for folder in ("D", "E", "X"):
        (tmp_path / f"{folder}link").symlink_to(folder)
    return tmp_path


RENDER = ["render", "design-stereo-2", "--engine", "freefield", "--no-cues", "--quiet"]
DESIGN = ["design", "--method", "ctc", "--taps", "256"]
DRED = ["dred", "simulate", "in.wav", "--loss", "ge:0.2,10", "--quiet"]

# id: (argv, the output the line names, the input it names)
CASES = {
    # the seven cases of the issue
    "enhance-in-in": (["enhance", "in.wav", "in.wav"], "in.wav", "in.wav"),
    "dred-out-in": ([*DRED, "--out", "in.wav"], "in.wav", "in.wav"),
    "design-report-scene": ([*DESIGN, "scene.json", "--out", "F", "--report", "scene.json"],
                            "scene.json", "scene.json"),
    "design-export-scene": ([*DESIGN, "D/scene.json", "--out", "D", "--stem", "scene",
                             "--format", "json"], "D/scene.json", "D/scene.json"),
    "enhance-dir-dir": (["enhance", "--in-dir", "E", "--out-dir", "E"], "E/a.wav", "E/a.wav"),
    "render-input-in-out": ([*RENDER[:2], "X/binaural_A.wav", *RENDER[2:], "--out", "X"],
                            "X/binaural_A.wav", "X/binaural_A.wav"),
    "upmix-input-in-out": (["upmix", "X/L.wav", "--out", "X"], "X/L.wav", "X/L.wav"),
    # variants: ./ paths, links, hard links
    "enhance-dot": (["enhance", "in.wav", "./in.wav"], "in.wav", "in.wav"),
    "enhance-symlink": (["enhance", "in.wav", "link.wav"], "link.wav", "in.wav"),
    "enhance-hardlink": (["enhance", "in.wav", "hard.wav"], "hard.wav", "in.wav"),
    "enhance-oracle": (["enhance", "in.wav", "clean.wav", "--oracle", "clean.wav"],
                       "clean.wav", "clean.wav"),
    "enhance-dir-symlink": (["enhance", "--in-dir", "E", "--out-dir", "Elink"],
                            "Elink/a.wav", "E/a.wav"),
    "enhance-dir-dot": (["enhance", "--in-dir", "E", "--out-dir", "./E/."], "E/a.wav",
                        "E/a.wav"),
    "dred-report-in": ([*DRED, "--out", "out.wav", "--report", "in.wav"], "in.wav", "in.wav"),
    "dred-hardlink": ([*DRED, "--out", "hard.wav"], "hard.wav", "in.wav"),
    "dred-trace": (["dred", "simulate", "in.wav", "--loss-trace", "trace.txt", "--out",
                    "trace.txt"], "trace.txt", "trace.txt"),
    "design-report-symlink": ([*DESIGN, "scene.json", "--out", "F", "--report",
                               "scene_link.json"], "scene_link.json", "scene.json"),
    "design-target-curve": ([*DESIGN, "scene.json", "--target-curve", "curve.csv", "--out", "F",
                             "--report", "curve.csv"], "curve.csv", "curve.csv"),
    "design-export-symlinked-folder": ([*DESIGN, "D/scene.json", "--out", "Dlink", "--stem",
                                        "scene", "--format", "npz,json"], "Dlink/scene.json",
                                       "D/scene.json"),
    "render-scene-as-report": ([*RENDER[:1], "X/report.json", "in.wav", *RENDER[2:], "--out",
                                "X"], "X/report.json", "X/report.json"),
    "render-scene-signal": ([*RENDER[:1], "S/scene.json", "in.wav", *RENDER[2:], "--out", "S"],
                            "S/drivers.wav", "S/drivers.wav"),
    "render-symlinked-folder": ([*RENDER[:2], "X/binaural_A.wav", *RENDER[2:], "--out",
                                 "Xlink", "--path", "A"], "Xlink/binaural_A.wav",
                                "X/binaural_A.wav"),
    "upmix-dot": (["upmix", "./X/L.wav", "--out", "X/."], "X/L.wav", "X/L.wav"),
    "upmix-symlinked-folder": (["upmix", "Xlink/L.wav", "--out", "X"], "X/L.wav",
                               "Xlink/L.wav"),
    # the evaluations' reports: not inside a folder they read
    "dred-eval-report": (["dred", "eval", "--speech", "E", "--report", "E/a.wav"], "E/a.wav",
                         "E"),
    "eval-ns-report": (["eval-ns", "--speech", "E", "--noise", "X", "--report", "X/r.json"],
                       "X/r.json", "X"),
}


def _tree(root: Path) -> dict:
    """Every file and link below root (hidden ones too): its bytes, mode and link target."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_symlink():
            out[str(p)] = ("link", os.readlink(p))
        elif p.is_file():
            out[str(p)] = (p.read_bytes(), p.stat().st_mode)
        else:
            out[str(p)] = "folder"
    return out


@pytest.mark.parametrize("case", list(CASES))
def test_an_output_on_an_input_is_refused_and_nothing_is_written(work, case, capsys):
    argv, out, src = CASES[case]
    before = _tree(work)
    assert awb(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    m = LINE.fullmatch(err[0])
    assert m, err[0]
    assert os.path.normpath(m["out"]) == os.path.normpath(out)
    assert Path(m["src"]).resolve() == (work / src).resolve()
    assert _tree(work) == before  # the input's bytes, and nothing new (no temp either)


def test_the_same_commands_write_where_nothing_is_an_input(work, capsys):
    """The guard refuses outputs on inputs only: beside them, the commands write."""
    assert awb(["enhance", "in.wav", "E/in.wav"]) == 0
    assert awb(["upmix", "X/L.wav", "--out", "Y"]) == 0
    assert awb([*DESIGN, "D/scene.json", "--out", "D", "--stem", "ctc", "--format", "json",
                "--report", "D/report.json"]) == 0
    assert {p.name for p in (work / "Y").iterdir()} == {"L.wav", "R.wav", "C.wav"}
    assert {"ctc.json", "report.json", "scene.json"} <= {p.name for p in (work / "D").iterdir()}
    assert (work / "E/in.wav").is_file()


# id: (argv, the read-only target among the run's outputs, the outputs that must not appear)
READ_ONLY = {
    "dred-report": ([*DRED, "--no-dred", "--no-neural-plc", "--out", "out.wav", "--report",
                     "F/r.json"], "F/r.json", ["out.wav"]),
    "enhance-folder": (["enhance", "--in-dir", "E", "--out-dir", "F"], "F/b.wav", ["F/a.wav"]),
    "render": ([*RENDER[:2], "X/L.wav", *RENDER[2:], "--out", "F"], "F/binaural_X.wav",
               ["F/drivers.wav", "F/binaural_A.wav", "F/report.json"]),
    "design": ([*DESIGN, "scene.json", "--out", "F", "--format", "json,npz", "--report",
                "F/report.json"], "F/report.json", ["F/filters.json", "F/filters.npz"]),
    "upmix": (["upmix", "X/L.wav", "--out", "F"], "F/C.wav", ["F/L.wav", "F/R.wav"]),
}


@pytest.mark.parametrize("case", list(READ_ONLY))
def test_a_run_that_cannot_write_one_of_its_files_writes_none(work, case, capsys):
    argv, locked, absent = READ_ONLY[case]
    (work / "F").mkdir()
    (work / locked).write_bytes(b"keep")
    (work / locked).chmod(0o444)
    before = _tree(work)
    assert awb(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"awb: error: {locked}: is read-only; not replaced (make it writable or"
                   " choose another name)"]
    assert _tree(work) == before and not any((work / p).exists() for p in absent)
