"""SIGKILL at any instant of a multi-file dsp write (an export of every format, a render folder)
leaves every file whole: each one present loads and equals its old or its new content, and
nothing else is left but hidden temp files (issue 12: "0 truncated or 0-byte outputs after
SIGKILL at any point").

A child process announces each `sim.outputs.write_file` call and the end of each batch's renames
on stdout; the parent kills it at a random instant after the first announcement, over the span
its writing takes."""

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from dsp.export import export
from dsp.filterset import FilterSet

REPO = Path(__file__).resolve().parents[1]
TIMING_KEYS = ("wall_s", "setup_s", "rtf")  # report.json fields that differ run to run

PRELUDE = f"""
import sys
sys.path.insert(0, {str(REPO)!r})
import sim.outputs as outputs
_write_file = outputs.write_file
def _announce(path, fill):
    print("write", flush=True)
    return _write_file(path, fill)
outputs.write_file = _announce  # before dsp imports it by name
_commit = outputs._commit
def _announce_commit(staged):
    _commit(staged)
    print("committed", flush=True)
outputs._commit = _announce_commit
import numpy as np
"""

# Alternates the new and the old filters (sys.argv[2], [3]: .npy) for ever: any instant falls
# in some write.
EXPORT_LOOP = PRELUDE + """
import itertools
from dsp.export import export
from dsp.filterset import FilterSet
firs = [np.load(sys.argv[2]), np.load(sys.argv[3])]
for k in itertools.count():
    export(FilterSet(fir=firs[k % 2], fs_hz=48000, delay_samples=16, meta={}), sys.argv[1])
"""

RENDER = PRELUDE + """
from dsp.offline_render import RenderRequest, render_to_folder
from sim.scene_io import load_scene
x = np.load(sys.argv[2])
render_to_folder(load_scene("design-stereo-2"), x, sys.argv[1], RenderRequest(cues=False))
print("done", flush=True)
"""


def _filters(seed: int) -> FilterSet:
    return FilterSet(fir=np.random.default_rng(seed).standard_normal((2, 3, 512)), fs_hz=48000,
                     delay_samples=16, meta={})


def _content(path: Path):
    """What a file holds, as loaded by its reader (WAV and SOFA headers carry timestamps)."""
    if path.suffix == ".wav":
        return sf.read(path, always_2d=True)[0]
    if path.suffix == ".sofa":
        import sofar

        return np.asarray(sofar.read_sofa(str(path), verify=False, verbose=False).Data_IR)
    if path.suffix == ".npz":
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    if path.suffix == ".json":
        doc = json.loads(path.read_text())
        return {k: v for k, v in doc.items() if k not in TIMING_KEYS}
    return path.read_bytes()


def _same(a, b) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray):
        if not (isinstance(b, np.ndarray) and a.shape == b.shape and a.dtype == b.dtype):
            return False
        if a.dtype.kind != "f":
            return bool(np.array_equal(a, b))
        return bool(np.allclose(a, b, rtol=0.0, atol=1e-12))  # renders: another process
    return a == b


def _contents(folder: Path) -> dict:
    return {p.name: _content(p) for p in folder.iterdir() if not p.name.startswith(".")}


def _kill_after_first_write(args: list[str], delay_s: float) -> None:
    proc = subprocess.Popen([sys.executable, "-c", *args], stdout=subprocess.PIPE)
    try:
        assert proc.stdout.readline() == b"write\n"
        time.sleep(delay_s)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
        proc.stdout.close()


def _check_whole(folder: Path, old: dict, new: dict) -> tuple[int, int]:
    """Every visible file is the old or the new one; returns (old count, new count)."""
    counts = [0, 0]
    for p in folder.iterdir():
        if p.name.startswith("."):
            assert ".tmp" in p.name, p.name  # a temp file the kill left behind, never a target
            continue
        assert p.stat().st_size > 0, p.name
        got = _content(p)
        is_old, is_new = p.name in old and _same(got, old[p.name]), _same(got, new[p.name])
        assert is_old or is_new, f"{p.name} is neither the old nor the new file"
        counts[is_new and not is_old] += 1
    return counts[0], counts[1]


def test_export_of_every_format_killed_at_random_instants(tmp_path):
    ref_old, ref_new, work = (tmp_path / n for n in ("old", "new", "work"))
    for folder, seed in ((ref_old, 1), (ref_new, 2), (work, 1)):
        folder.mkdir()
        export(_filters(seed), folder)
    fir_old, fir_new = tmp_path / "old.npy", tmp_path / "new.npy"
    np.save(fir_old, _filters(1).fir)
    np.save(fir_new, _filters(2).fir)
    old, new = _contents(ref_old), _contents(ref_new)
    # Every file tells old from new but the CamillaDSP YAML, which names the FIR files only.
    assert [k for k in new if _same(old[k], new[k])] == ["filters_camilladsp.yml"]
    rng = np.random.default_rng(12)
    seen_new = 0
    for delay in rng.uniform(0.0, 1.0, 8):
        _kill_after_first_write([EXPORT_LOOP, str(work), str(fir_new), str(fir_old)],
                                float(delay))
        seen_new += _check_whole(work, old, new)[1]
    assert seen_new > 0  # the kills did land after writes, not only before them


def test_render_folder_killed_at_random_instants(tmp_path):
    from dsp.offline_render import RenderRequest, render_to_folder
    from dsp.signals import speech_like
    from sim.scene_io import load_scene

    s = speech_like(48000, 2.0, seed=4)
    quiet, loud = 0.1 * np.stack([s, s], 1), 0.5 * np.stack([s, -s], 1)
    np.save(tmp_path / "loud.npy", loud)
    ref_old, ref_new = tmp_path / "old", tmp_path / "new"
    render_to_folder(load_scene("design-stereo-2"), quiet, ref_old, RenderRequest(cues=False))
    old = _contents(ref_old)
    # A full run first: the new content, and how long the writing takes (first write → the
    # batch's renames done); every file goes through the writer, as one batch.
    proc = subprocess.Popen([sys.executable, "-c", RENDER, str(ref_new),
                             str(tmp_path / "loud.npy")], stdout=subprocess.PIPE)
    assert proc.stdout.readline() == b"write\n"
    t0 = time.perf_counter()
    lines = [proc.stdout.readline() for _ in range(5)]
    span = time.perf_counter() - t0
    assert lines == [b"write\n"] * 4 + [b"committed\n"]  # 4 WAVs and report.json, one batch
    assert proc.stdout.read() == b"done\n" and proc.wait() == 0
    new = _contents(ref_new)
    assert sorted(new) == sorted(old) == ["binaural_A.wav", "binaural_B.wav", "binaural_X.wav",
                                          "drivers.wav", "report.json"]
    rng = np.random.default_rng(5)
    for k, delay in enumerate(rng.uniform(0.0, 1.2 * span, 8)):
        work = tmp_path / f"work{k}"
        shutil.copytree(ref_old, work)
        _kill_after_first_write([RENDER, str(work), str(tmp_path / "loud.npy")], float(delay))
        _check_whole(work, old, new)
