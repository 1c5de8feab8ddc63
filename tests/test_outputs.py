"""sim/outputs.py: atomic writes that keep modes, refuse read-only targets, survive SIGKILL, and
never let an output land on an input."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from sim.outputs import (
    OutputError,
    batch,
    refuse_overwrite,
    write_bytes,
    write_file,
    write_npz,
    write_text,
)


def test_new_file_gets_the_umask_mode_and_no_temp_is_left(tmp_path):
    old = os.umask(0o022)
    try:
        write_text(tmp_path / "a.json", "{}\n")
    finally:
        os.umask(old)
    assert (tmp_path / "a.json").read_text() == "{}\n"
    assert oct((tmp_path / "a.json").stat().st_mode & 0o777) == oct(0o644)
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_existing_mode_is_kept(tmp_path):
    p = tmp_path / "x.txt"
    p.write_text("old")
    p.chmod(0o640)
    write_text(p, "new")
    assert p.read_text() == "new" and p.stat().st_mode & 0o777 == 0o640


def test_read_only_target_is_refused_naming_it(tmp_path):
    p = tmp_path / "keep.wav"
    p.write_bytes(b"precious")
    p.chmod(0o444)
    with pytest.raises(OutputError, match=r"keep\.wav: is read-only") as e:
        write_bytes(p, b"x")
    assert e.value.filename == str(p)
    assert p.read_bytes() == b"precious" and [q.name for q in tmp_path.iterdir()] == ["keep.wav"]


def test_a_failing_writer_leaves_the_old_file_and_no_temp(tmp_path):
    p = tmp_path / "out.wav"
    p.write_bytes(b"good")

    def fill(tmp):
        tmp.write_bytes(b"half")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_file(p, fill)
    assert p.read_bytes() == b"good" and [q.name for q in tmp_path.iterdir()] == ["out.wav"]


def test_errors_name_the_target_not_the_temp(tmp_path):
    with pytest.raises(OutputError) as e:
        write_text(tmp_path / "missing" / "r.json", "{}")
    assert "missing/r.json" in str(e.value) and ".tmp" not in str(e.value)
    (tmp_path / "d").mkdir()
    with pytest.raises(OutputError, match="is a folder"):
        write_text(tmp_path / "d", "{}")


def test_temp_name_keeps_the_suffix_for_format_guessing_writers(tmp_path):
    seen = []
    write_file(tmp_path / "x.sofa", lambda tmp: (seen.append(tmp.suffix), tmp.write_bytes(b"1")))
    assert seen == [".sofa"]


def test_sigkill_during_a_write_leaves_the_previous_file_whole(tmp_path):
    target = tmp_path / "big.bin"
    target.write_bytes(b"A" * 1000)
    code = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {os.getcwd()!r})
        from sim.outputs import write_file
        def fill(tmp):
            with open(tmp, "wb") as f:
                f.write(b"B" * 100000)
                f.flush()
                os.kill(os.getpid(), signal.SIGKILL)
        write_file({str(target)!r}, fill)
    """)
    proc = subprocess.run([sys.executable, "-c", code])
    assert proc.returncode == -signal.SIGKILL
    assert target.read_bytes() == b"A" * 1000


def test_refuse_overwrite_catches_same_path_links_and_input_folders(tmp_path):
    src = tmp_path / "in.wav"
    src.write_bytes(b"x")
    link = tmp_path / "link.wav"
    link.symlink_to(src)
    hard = tmp_path / "hard.wav"
    os.link(src, hard)
    for out in (src, tmp_path / "." / "in.wav", link, hard):
        with pytest.raises(OutputError, match="would overwrite the input file"):
            refuse_overwrite([out], [src])
    folder = tmp_path / "in"
    folder.mkdir()
    with pytest.raises(OutputError, match="inside the input folder"):
        refuse_overwrite([folder / "a.wav"], [folder])
    refuse_overwrite([tmp_path / "out.wav", tmp_path / "other" / "in.wav"], [src, folder])


def test_a_batch_replaces_all_its_targets_together_or_none(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("old a")
    b.write_text("old b")
    with batch():
        write_text(a, "new a")
        assert a.read_text() == "old a"  # staged, not yet renamed
        with batch():  # a nested batch joins the outer one
            write_text(b, "new b")
        assert b.read_text() == "old b"
    assert (a.read_text(), b.read_text()) == ("new a", "new b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]

    with pytest.raises(RuntimeError, match="late failure"), batch():
        write_text(a, "newer a")
        write_text(tmp_path / "c.txt", "c")
        raise RuntimeError("late failure")
    assert a.read_text() == "new a" and sorted(p.name for p in tmp_path.iterdir()) == [
        "a.txt", "b.txt"]


def test_a_read_only_target_in_a_batch_is_refused_before_anything_is_replaced(tmp_path):
    first, locked = tmp_path / "first.json", tmp_path / "locked.json"
    first.write_text("1")
    locked.write_text("2")
    locked.chmod(0o444)
    with pytest.raises(OutputError, match=r"locked\.json: is read-only"), batch():
        write_text(first, "one")
        write_text(locked, "two")
    assert (first.read_text(), locked.read_text()) == ("1", "2")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first.json", "locked.json"]


def test_write_npz_any_suffix_and_mode(tmp_path):
    import numpy as np

    p = tmp_path / "weights.bin"  # numpy.savez on a path would have written weights.bin.npz
    p.write_bytes(b"old")
    p.chmod(0o640)
    write_npz(p, {"x": np.arange(3), "meta": np.array("{}")}, compressed=True)
    with np.load(p) as z:
        assert z["x"].tolist() == [0, 1, 2] and str(z["meta"]) == "{}"
    assert p.stat().st_mode & 0o777 == 0o640 and [q.name for q in tmp_path.iterdir()] == [
        "weights.bin"]
