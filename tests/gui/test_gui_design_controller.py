"""DesignController scheduling: coalescing to the latest scene, one job at a time, stale
results dropped, refusals before any work, nothing done while nothing shows the design.

A fake design job (`workbench.jobs.design.run`) stands in for the dsp work (it blocks until the
test lets it go), so these tests are about when and with what the controller redesigns."""

import threading
import time

import pytest

from sim.scene_io import load_scene
from workbench.gui.design import controller as dc
from workbench.gui.scene import edits
from workbench.gui.scene.document import SceneDocument
from workbench.gui.shell.settings import DESIGN_METHOD
from workbench.jobs import design as design_job
from workbench.jobs.design import DesignOutcome


class FakeCompute:
    """Records (scene, params) per call; each call waits for one `release()` unless `free`
    (checked while waiting: the first job may start while fixtures are set up)."""

    def __init__(self):
        self.calls = []
        self._releases = threading.Semaphore(0)
        self.started = threading.Event()
        self.free = False

    def release(self):
        self._releases.release()

    def __call__(self, request, state=None):
        scene, params = request.scene, request.params
        self.calls.append((scene, params))
        self.started.set()
        deadline = time.monotonic() + 10
        while not self.free and not self._releases.acquire(timeout=0.01):
            assert time.monotonic() < deadline, "the test never released the fake design"
        return DesignOutcome(scene=scene, params=params, probe_cm=request.probe_cm,
                             redesign=None, probe=None, responses=None, summary=None,
                             virtual=None, wall_ms=1.0)


@pytest.fixture
def fake(monkeypatch):
    f = FakeCompute()
    monkeypatch.setattr(design_job, "run", f)
    return f


@pytest.fixture
def controller(qtbot, fake):
    doc = SceneDocument(load_scene("design-stereo-2"))
    c = dc.DesignController(doc)
    yield c
    fake.free = True
    fake.release()
    c.shutdown()


def moved(doc, dy):
    x, y, z = doc.scene.listeners[0].position_m
    return edits.with_position(doc.scene, ("listener", 0), (x, y + dy, z))


def test_first_design_starts_on_the_next_turn_and_is_shown(qtbot, fake):
    fake.free = True
    c = dc.DesignController(SceneDocument(load_scene("design-stereo-2")))
    try:
        assert fake.calls == [] and c.is_busy  # scheduled, nothing run inside the constructor
        with qtbot.waitSignal(c.outcomeChanged, timeout=5000) as blocker:
            pass
        o = blocker.args[0]
        assert o.current and o.params.method == "ctc" and len(fake.calls) == 1
        qtbot.waitUntil(lambda: not c.is_busy, timeout=5000)
    finally:
        c.shutdown()


def test_edits_coalesce_to_one_redesign_with_the_latest_scene(controller, fake, qtbot):
    doc = controller.document
    qtbot.waitUntil(fake.started.is_set, timeout=5000)  # the first design is running
    for _ in range(5):  # a drag: five moves while it runs
        doc.push(moved(doc, 0.05), "Move", merge_key=("move", 1))
    latest = doc.scene
    shown = []
    controller.outcomeChanged.connect(shown.append)
    fake.started.clear()
    fake.release()  # the first design finishes ...
    qtbot.waitUntil(lambda: len(shown) == 1, timeout=5000)
    assert not shown[0].current  # ... and is shown as intermediate: the scene moved on
    qtbot.waitUntil(fake.started.is_set, timeout=5000)
    assert len(fake.calls) == 2  # one follow-up for all five moves
    assert fake.calls[1][0] == latest
    fake.release()
    qtbot.waitUntil(lambda: len(shown) == 2, timeout=5000)
    assert shown[1].current and shown[1].scene == latest
    qtbot.waitUntil(lambda: not controller.is_busy, timeout=5000)
    assert len(fake.calls) == 2


def test_a_result_of_another_method_is_dropped(controller, fake, qtbot):
    qtbot.waitUntil(fake.started.is_set, timeout=5000)  # CTC running
    shown = []
    controller.outcomeChanged.connect(shown.append)
    controller.set_params(method="virtualizer")
    fake.started.clear()
    fake.release()  # the CTC result arrives: stale, dropped
    qtbot.waitUntil(fake.started.is_set, timeout=5000)
    assert shown == [] and controller.outcome is None
    assert fake.calls[1][1].method == "virtualizer"
    fake.release()
    qtbot.waitUntil(lambda: len(shown) == 1, timeout=5000)
    assert shown[0].params.method == "virtualizer" and shown[0].current


def test_refusal_is_immediate_and_outranks_the_running_job(controller, fake, qtbot):
    qtbot.waitUntil(fake.started.is_set, timeout=5000)
    errors, shown = [], []
    controller.errorChanged.connect(errors.append)
    controller.outcomeChanged.connect(shown.append)
    controller.set_params(method="nullsteer")  # 2 drivers: refused without any work
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert "nullsteer needs more than 2 drivers" in errors[-1]
    assert shown == [None] and controller.outcome is None
    fake.release()
    qtbot.waitUntil(lambda: not controller.runner.is_running, timeout=5000)
    qtbot.wait(20)
    assert shown == [None] and controller.error  # the CTC result did not come back
    assert len(fake.calls) == 1


def test_nothing_runs_while_nothing_shows_the_design(controller, fake, qtbot):
    fake.free = True
    qtbot.waitUntil(lambda: controller.outcome is not None, timeout=5000)
    qtbot.waitUntil(lambda: not controller.is_busy, timeout=5000)
    controller.set_active(False)
    doc = controller.document
    doc.push(moved(doc, 0.1), "Move")
    qtbot.wait(30)
    assert len(fake.calls) == 1 and not controller.is_busy
    controller.set_active(True)
    qtbot.waitUntil(lambda: len(fake.calls) == 2, timeout=5000)
    assert fake.calls[1][0] == doc.scene


def test_moving_a_talker_does_not_redesign(qtbot, fake):
    fake.free = True
    doc = SceneDocument(load_scene("default"))
    c = dc.DesignController(doc)
    try:
        assert c.params.method == "nullsteer"  # 5 drivers: CTC's family member
        qtbot.waitUntil(lambda: c.outcome is not None and not c.is_busy, timeout=5000)
        x, y, z = doc.scene.sources[0].position_m
        doc.push(edits.with_position(doc.scene, ("source", 0), (x + 0.2, y, z)), "Move")
        qtbot.wait(30)
        assert len(fake.calls) == 1 and not c.is_busy and c.outcome.current
    finally:
        c.shutdown()


def test_the_chosen_method_is_remembered_not_the_adapted_one(qtbot, fake):
    fake.free = True
    doc = SceneDocument(load_scene("design-soundbar-8"))
    c = dc.DesignController(doc)
    try:
        assert c.params.method == "nullsteer"  # adapted to 8 drivers, not remembered
        assert not DESIGN_METHOD.is_stored()
        c.set_params(method="beam")
        assert DESIGN_METHOD.get() == "beam"
    finally:
        c.shutdown()
    c2 = dc.DesignController(SceneDocument(load_scene("design-soundbar-8")))
    try:
        assert c2.params.method == "beam"
    finally:
        c2.shutdown()
