"""sim/outputs.py: atomic writes that keep modes, refuse read-only targets, survive SIGKILL, and
never let an output land on an input."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from sim.outputs import OutputError, refuse_overwrite, write_bytes, write_file, write_text


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
