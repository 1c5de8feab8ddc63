"""A bad autosave never stops start-up (issue 12 item 5): every broken state a fuzzing pass
found (and their neighbours) is set aside — renamed `.bad-<time>`, kept — and reported in the
log and the status bar, a good autosave beside them is still offered, and the next start is
clean."""

import json
import logging
import os

import pytest

from sim.scene_io import load_scene, scene_to_json
from workbench.gui.app import build_window
from workbench.gui.shell import main_window as main_window_module
from workbench.gui.shell.recovery import BAD_SUFFIX, Recovery

DEAD_PID = 2_000_000_000  # above any pid_max: no such process
GOOD_META = {"path": None, "name": "default", "saved_at": 1.7e9}


def _scene_text():
    return scene_to_json(load_scene("default"))


def _meta(**changes):
    return json.dumps({**GOOD_META, **changes})


def _nested(depth):
    return "[" * depth + "]" * depth


# name → (scene file content, meta file content); None = absent, a dict {"dir": True} = a
# folder in its place, {"link": "x"} = a symlink to x.
BROKEN = {
    "saved_at text": (_scene_text, lambda: _meta(saved_at="yesterday")),
    "saved_at null": (_scene_text, lambda: _meta(saved_at=None)),
    "saved_at bool": (_scene_text, lambda: _meta(saved_at=True)),
    "saved_at 1e20": (_scene_text, lambda: _meta(saved_at=1e20)),
    "saved_at NaN": (_scene_text, lambda: _meta(saved_at=float("nan"))),
    "saved_at inf": (_scene_text, lambda: _meta(saved_at=float("inf"))),
    "saved_at object": (_scene_text, lambda: _meta(saved_at={"t": 1})),
    "meta a list": (_scene_text, lambda: json.dumps([GOOD_META])),
    "meta a number": (_scene_text, lambda: "42"),
    "meta not json": (_scene_text, lambda: "{saved_at: 1"),
    "meta not utf-8": (_scene_text, lambda: b"\xff\xfe\x00{"),
    "meta empty": (_scene_text, lambda: ""),
    "meta nested 100k deep": (_scene_text, lambda: _nested(100_000)),
    "meta a folder": (_scene_text, lambda: {"dir": True}),
    "name a number": (_scene_text, lambda: _meta(name=7)),
    "path a number": (_scene_text, lambda: _meta(path=3)),
    "path with NUL": (_scene_text, lambda: _meta(path="/tmp/a\0b.json")),
    "scene missing": (lambda: None, lambda: _meta()),
    "scene garbage": (lambda: os.urandom(512), lambda: _meta()),
    "scene empty": (lambda: b"", lambda: _meta()),
    "scene not a scene": (lambda: '{"schema_version": 1, "kind": "scene"}', lambda: _meta()),
    "scene nested 100k deep": (lambda: _nested(100_000), lambda: _meta()),
    "scene a folder": (lambda: {"dir": True}, lambda: _meta()),
    "scene a dangling link": (lambda: {"link": "nowhere.json"}, lambda: _meta()),
}


def _put(path, content):
    if content is None:
        return
    if isinstance(content, dict) and content.get("dir"):
        path.mkdir()
        (path / "inside.txt").write_text("x")
    elif isinstance(content, dict):
        path.symlink_to(content["link"])
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")


def leave_autosave(directory, pid, scene, meta):
    directory.mkdir(parents=True, exist_ok=True)
    _put(directory / f"autosave-{pid}.json", scene())
    _put(directory / f"autosave-{pid}.meta.json", meta())


def _autosaves(directory):
    return sorted(p.name for p in directory.iterdir() if BAD_SUFFIX not in p.name)


@pytest.mark.parametrize("state", BROKEN)
def test_a_broken_autosave_is_set_aside_and_reported_and_the_next_start_is_clean(
        state, qtbot, tmp_path, monkeypatch, dialogs, caplog):
    directory = tmp_path / "recovery"
    leave_autosave(directory, DEAD_PID, *BROKEN[state])
    before = sorted(p.name for p in directory.iterdir())
    asked = []
    monkeypatch.setattr(main_window_module, "ask_restore_recovery",
                        lambda parent, leftover: asked.append(leftover) or True)
    with caplog.at_level(logging.WARNING):
        w = build_window(recovery_dir=directory)
    qtbot.addWidget(w)
    assert asked == [] and dialogs.calls == []
    assert w.document.scene == load_scene("default") and not w.isWindowModified()
    assert _autosaves(directory) == []
    kept = sorted(p.name for p in directory.iterdir())
    assert [k.split(BAD_SUFFIX)[0] for k in kept] == before  # renamed, none deleted
    assert any(f"Autosave autosave-{DEAD_PID}" in r.message for r in caplog.records)
    assert f"autosave-{DEAD_PID}" in w.statusBar().currentMessage()
    assert "could not be used" in w.statusBar().currentMessage()
    caplog.clear()
    again = build_window(recovery_dir=directory)
    qtbot.addWidget(again)
    assert asked == [] and not any("Autosave" in r.message for r in caplog.records)
    assert sorted(p.name for p in directory.iterdir()) == kept


def test_broken_autosaves_all_at_once_leave_the_good_one_offered(qtbot, tmp_path, monkeypatch,
                                                                 dialogs, caplog):
    directory = tmp_path / "recovery"
    for i, (scene, meta) in enumerate(BROKEN.values()):
        leave_autosave(directory, DEAD_PID + i, scene, meta)
    edited = load_scene("soundbar-8-studio")
    leave_autosave(directory, DEAD_PID - 1, lambda: scene_to_json(edited),
           lambda: _meta(name=edited.name))
    (directory / "autosave-99999999999999999999.json").write_text("not ours")  # no such pid
    asked = []
    monkeypatch.setattr(main_window_module, "ask_restore_recovery",
                        lambda parent, leftover: asked.append(leftover.name) or True)
    with caplog.at_level(logging.WARNING):
        w = build_window(recovery_dir=directory)
    qtbot.addWidget(w)
    assert asked == [edited.name] and w.document.scene == edited and w.isWindowModified()
    assert len([r for r in caplog.records if "could not be used" in r.message]) == len(BROKEN)
    assert f"and {len(BROKEN) - 1} more" in w.statusBar().currentMessage()
    assert _autosaves(directory) == sorted(["autosave-99999999999999999999.json",
                                            f"autosave-{os.getpid()}.json",  # the restored
                                            f"autosave-{os.getpid()}.meta.json"])
    w.document.undo_stack.setClean()


def test_a_scene_without_its_meta_is_still_offered(qtbot, tmp_path, monkeypatch):
    """A crash between the two writes leaves the scene alone: it is the work to restore."""
    directory = tmp_path / "recovery"
    leave_autosave(directory, DEAD_PID, _scene_text, lambda: None)
    scan = Recovery(directory).scan()
    assert [r.name for r in scan.found] == [f"autosave-{DEAD_PID}"] and scan.set_aside == []
    assert scan.found[0].saved_at == (directory / f"autosave-{DEAD_PID}.json").stat().st_mtime


def test_a_leftover_that_cannot_be_renamed_is_reported_and_start_up_goes_on(
        qtbot, tmp_path, monkeypatch, dialogs):
    directory = tmp_path / "recovery"
    leave_autosave(directory, DEAD_PID, lambda: "garbage", _meta)

    def refuse(self, target):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(type(directory), "rename", refuse)
    w = build_window(recovery_dir=directory)
    qtbot.addWidget(w)
    assert "could not move it aside" in w.statusBar().currentMessage()
    assert (directory / f"autosave-{DEAD_PID}.json").exists()  # never deleted
