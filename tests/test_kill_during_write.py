"""SIGKILL at any instant of a multi-file dsp write (an export of every format, a render folder)
and of `awb enhance`, `awb dred simulate`, `awb render` and `awb design` leaves every file
whole: each one present loads and equals its old or its new content (never 0 bytes, the
previous output's mode kept), and nothing else is left but hidden temp files (issue 12: "0
truncated or 0-byte outputs after SIGKILL at any point").

A child process announces each `sim.outputs.write_file` call and the end of each batch's renames
on stdout; the parent kills it at a random instant after the first announcement, over the span
its writing takes. The commands (the `awb` entry point in a child, free-field engine, short
inputs) are killed at random instants of their whole run and as soon as a temp file of their
write shows."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dsp.export import export
from dsp.filterset import FilterSet

REPO = Path(__file__).resolve().parents[1]
TIMING_KEYS = ("wall_s", "setup_s", "rtf", "timing_ms", "rtf_encode", "rtf_decode")
"""Report fields that differ run to run (render, design, dred)."""

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
import pytest
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


def _kill_after_first_write(args: list[str], delay_s: float, after_commit: bool = False) -> None:
    """SIGKILL `delay_s` after the child's first write, or after its first committed batch."""
    proc = subprocess.Popen([sys.executable, "-c", *args], stdout=subprocess.PIPE)
    try:
        assert proc.stdout.readline() == b"write\n"
        while after_commit and proc.stdout.readline() != b"committed\n":
            pass
        time.sleep(delay_s)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
        proc.stdout.close()


def _first_batch_s(args: list[str]) -> float:
    """Seconds from a child's first write to its first committed batch (the span kills must
    cover, however loaded the machine is)."""
    proc = subprocess.Popen([sys.executable, "-c", *args], stdout=subprocess.PIPE)
    try:
        assert proc.stdout.readline() == b"write\n"
        start = time.monotonic()
        while proc.stdout.readline() != b"committed\n":
            pass
        return time.monotonic() - start
    finally:
        proc.kill()
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
    args = [EXPORT_LOOP, str(work), str(fir_new), str(fir_old)]
    span = _first_batch_s(args)
    shutil.rmtree(work)
    shutil.copytree(ref_old, work)
    rng = np.random.default_rng(12)
    seen_new = 0
    # Random instants over the first batches, and two kills just after the first batch's
    # renames, in the old batch's writes: those must show the new files (a random draw alone
    # can miss that window on a loaded machine).
    kills = [(d, False) for d in rng.uniform(0.0, 2.5 * span, 6)]
    kills += [(d, True) for d in rng.uniform(0.0, 0.05 * span, 2)]
    for delay, after_commit in kills:
        _kill_after_first_write(args, float(delay), after_commit)
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


# -- the commands: awb enhance, dred simulate, render, design -------------------------------------

CLI = PRELUDE + """
from workbench.cli.main import main
sys.exit(main(sys.argv[1:]))
"""
MODE = 0o640
"""The previous outputs' mode: kept by every file present after a kill."""


def _awb(argv: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", CLI, *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)


def _restore(work: Path, old_ref: Path) -> None:
    """The work folder as the previous run left it (outputs at MODE), no temp files."""
    shutil.rmtree(work)
    shutil.copytree(old_ref, work)  # copy2: modes kept


def _temps(work: Path) -> list[str]:
    return [n for n in os.listdir(work) if n.startswith(".") and ".tmp" in n]


def _kill_when_a_temp_appears(argv: list[str], work: Path) -> bool:
    """Spawn, wait for the first write to begin, kill as soon as its temp file shows in `work`;
    True when the kill landed mid-write (a temp file is left behind)."""
    proc = _awb(argv)
    try:
        while proc.stdout.readline() not in (b"write\n", b""):
            pass
        deadline = time.perf_counter() + 5.0
        while not _temps(work) and proc.poll() is None and time.perf_counter() < deadline:
            pass  # busy: a single file's temp lives for milliseconds
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
        proc.stdout.close()
    return bool(_temps(work))


def _kill_at(argv: list[str], delay_s: float) -> None:
    proc = _awb(argv)
    time.sleep(delay_s)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()


def _check_outputs(work: Path, old: dict, new: dict) -> None:
    """_check_whole, and every file present keeps the previous outputs' mode."""
    _check_whole(work, old, new)
    for p in work.iterdir():
        if not p.name.startswith("."):
            assert p.stat().st_mode & 0o777 == MODE, f"{p.name}: {oct(p.stat().st_mode)}"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    from dsp.signals import speech_like

    folder = tmp_path_factory.mktemp("inputs")
    s = speech_like(16000, 0.6, seed=7)
    sf.write(folder / "speech.wav", 0.3 * s, 16000, subtype="PCM_16")
    s = speech_like(48000, 0.4, seed=8)
    sf.write(folder / "programme.wav", 0.3 * np.stack([s, -s], 1), 48000, subtype="PCM_16")
    return folder


def _commands(inputs: Path, work: Path) -> dict[str, tuple[list[str], list[str]]]:
    """name: (argv of the new run, the option that makes the previous run's outputs differ)."""
    out = str(work)
    return {
        "enhance": (["enhance", str(inputs / "speech.wav"), f"{out}/enhanced.wav"],
                    ["--no-postfilter"]),
        "dred": (["dred", "simulate", str(inputs / "speech.wav"), "--out", f"{out}/received.wav",
                  "--report", f"{out}/received.json", "--loss", "ge:0.3,4", "--no-dred",
                  "--no-neural-plc", "--quiet"], ["--seed", "1"]),
        "render": (["render", "design-stereo-2", str(inputs / "programme.wav"), "--out", out,
                    "--engine", "freefield", "--no-cues", "--taps", "512", "--quiet"],
                   ["--taps", "256"]),
        "design": (["design", "design-stereo-2", "--method", "ctc", "--taps", "256", "--out", out,
                    "--format", "json,npz,wav", "--report", f"{out}/report.json"],
                   ["--taps", "128"]),
    }


@pytest.mark.parametrize("command", ["enhance", "dred", "render", "design"])
def test_awb_killed_at_random_instants_and_mid_write_leaves_every_output_whole(
        tmp_path, inputs, command):
    """A previous output (mode 0640) in place; the command run to the end once (the new
    content, its duration), then killed at random instants of its run and as soon as a temp
    file of its write shows (again, up to 3 times, until a kill lands mid-write): every file
    present is whole (loads, old or new, never 0 bytes) and keeps its mode."""
    from dsp.percepnet.model import weight_path
    from workbench.cli.main import main as awb

    if command == "enhance" and not weight_path("float16").is_file():
        pytest.skip("PercepNet weights not built")
    work, old_ref = tmp_path / "work", tmp_path / "old"
    work.mkdir()
    argv, old_option = _commands(inputs, work)[command]
    assert awb([*argv, *old_option]) == 0
    for p in work.iterdir():
        p.chmod(MODE)
    old = _contents(work)
    shutil.copytree(work, old_ref)
    t0 = time.perf_counter()
    proc = _awb(argv)
    out = proc.communicate()[0]
    duration = time.perf_counter() - t0
    assert proc.returncode == 0 and out.count(b"write\n") == len(old), out
    new = _contents(work)
    assert sorted(new) == sorted(old) and all(not _same(old[k], new[k]) for k in old
                                              if not k.endswith(".yml"))
    _check_outputs(work, old, new)  # a whole run keeps the modes too
    rng = np.random.default_rng(sorted(_commands(inputs, work)).index(command))
    for delay in rng.uniform(0.4, 1.0, 2) * duration:
        _restore(work, old_ref)
        _kill_at(argv, float(delay))
        _check_outputs(work, old, new)
    for _attempt in range(3):
        _restore(work, old_ref)
        mid_write = _kill_when_a_temp_appears(argv, work)
        _check_outputs(work, old, new)
        if mid_write:
            break
    assert mid_write, "no kill landed while a file was being written"
