"""The filter design of the open scene: its parameters, automatic redesign, the latest result.

`DesignController` owns the current `DesignParams` (the last method chosen is remembered in
`gui.shell.settings.DESIGN_METHOD`) and redesigns the document's scene whenever the scene or a
parameter changes. The work is the design job (`workbench.jobs.design`); this module only
decides when to run it and which result to show.

Threading: a redesign (filters, sweet-spot cancellation, 360 × 513 azimuth map, 50 × 40 zone
map) measured 0.2 s for 2 drivers and 0.45 s for 8 on the 2-core development machine, far
more than a frame, so it runs in a worker thread (`JobRunner`), one at a time, and the GUI
stays responsive. Requests coalesce: a change (every mouse move of a drag pushes one) only
marks the design dirty and schedules a check on the next event-loop turn; a redesign then
starts with the *latest* scene and parameters if none is running, otherwise `FOLLOW_PAUSE_MS`
after the running one ends. A drag therefore redesigns again and again, each time for where
the item is at that moment. The pause is for the event loop: each result redraws every shown
design plot on the GUI thread (about 40 ms of its time, paints included), and a redesign
thread that never rests takes the GIL from it for as long again; back to back, with the voice
chain running, a listener's drag held the event loop 86–163 ms at a time (36–66 ms of it the
program's own doing), with the pause 31–108 ms (30–43 ms).

Which result is shown: never one older than what is shown (a newer result or a refusal), and
never one of another method than the current one (those are dropped as stale). A result for
a scene or parameter value that has since moved on (a drag or a slider in progress) is shown
as intermediate (`DesignOutcome.current` False) while the next redesign runs: that is how the
plots follow a drag. Impossible requests are refused before any work (`dsp.design.check_design`,
at once, even while a redesign runs) with DesignError's one-sentence reason, and the plots are
cleared, never left stale.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from PySide6.QtCore import QObject, QTimer, Signal

from dsp.design import check_design
from dsp.params import DesignError, DesignParams
from workbench.gui.scene.document import SceneDocument
from workbench.gui.shell.settings import DESIGN_METHOD
from workbench.gui.shell.signals import connect_signals
from workbench.gui.shell.worker import BusyFlag, JobRunner
from workbench.jobs import design as design_job
from workbench.jobs.design import DesignOutcome, DesignRequest, design_relevant

log = logging.getLogger(__name__)

METHOD_LABELS = {"ctc": "CTC (crosstalk cancellation)", "nullsteer": "Null steering",
                 "beam": "Beamformer", "virtualizer": "Stereo virtualizer"}

METHOD_PRESETS: tuple[tuple[str, dict], ...] = (
    ("CTC, 2 drivers", {"method": "ctc", "robust_cm": 0.0}),
    ("CTC, robust ±5 cm", {"method": "ctc", "robust_cm": 5.0}),
    ("Null Steering, N > 2 drivers", {"method": "nullsteer", "robust_cm": 0.0}),
    ("Null Steering, robust ±5 cm", {"method": "nullsteer", "robust_cm": 5.0}),
    ("Beam, nulls at ±90°", {"method": "beam", "null_angles_deg": (90.0, -90.0)}),
    ("Stereo Virtualizer ±30°", {"method": "virtualizer", "virtual_angle_deg": 30.0}),
)
"""Design ▸ Presets: (menu text, DesignParams changes applied to the current parameters)."""


FOLLOW_PAUSE_MS = 150
"""Milliseconds between the end of a redesign and the start of the next one for a scene or
parameters that moved on meanwhile (a drag, a slider): the results still follow the drag,
about three times a second, and the event loop gets room between them."""


def saved_method() -> str:
    return DESIGN_METHOD.get()


class DesignController(BusyFlag, QObject):
    """Current parameters and result of the design of `document`'s scene.

    Signals: paramsChanged(DesignParams); outcomeChanged(DesignOutcome or None: cleared);
    errorChanged(str: the refusal or failure, "" when none); busyChanged(bool).
    """

    paramsChanged = Signal(object)
    outcomeChanged = Signal(object)
    errorChanged = Signal(str)
    busyChanged = Signal(bool)

    def __init__(self, document: SceneDocument, parent: QObject | None = None):
        super().__init__(parent)
        self.document = document
        self._params = DesignParams(method=saved_method())
        self._probe_cm = 5.0
        self.auto = True
        self._active = True
        self.outcome: DesignOutcome | None = None
        self.error = ""
        self.runner = JobRunner(self)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._kick)
        self._dirty = False
        self._force = False
        self._generation = 0  # the last request started (or refused)
        self._running = 0  # generation of the job in the worker
        self._shown = 0  # generation of what is shown
        self._last_key: tuple | None = None
        document.changed.connect(self.request)
        connect_signals(self.runner, finished=self._on_finished, failed=self._on_failed,
                        done=self._on_done)
        self.adapt_to_scene()

    # -- parameters ------------------------------------------------------------------------------
    @property
    def params(self) -> DesignParams:
        return self._params

    @property
    def probe_cm(self) -> float:
        return self._probe_cm

    def set_params(self, remember: bool = True, **changes) -> None:
        """Change parameters (DesignParams fields) and redesign. remember: a method chosen by
        the user becomes the default of the next session."""
        new = replace(self._params, **changes)
        if new == self._params:
            return
        self._params = new
        if remember and "method" in changes:
            DESIGN_METHOD.set(new.method)
        self.paramsChanged.emit(new)
        self.request()

    def apply_preset(self, changes: dict) -> None:
        self.set_params(**changes)

    def set_probe_cm(self, cm: float) -> None:
        if cm != self._probe_cm:
            self._probe_cm = float(cm)
            self.request()

    def adapt_to_scene(self) -> None:
        """After a new scene was loaded: CTC and null steering are one family told apart by
        the driver count, so switch between them to fit the device; keep the listener index in
        range; a measured plant belongs to the old scene's device and goes. Not remembered as
        the user's choice."""
        scene = self.document.scene
        n = len(scene.device.drivers)
        changes: dict = {}
        if self._params.method == "ctc" and n > 2:
            changes["method"] = "nullsteer"
        elif self._params.method == "nullsteer" and n == 2:
            changes["method"] = "ctc"
        if self._params.listener >= max(len(scene.listeners), 1):
            changes["listener"] = 0
        if self._params.plant is not None:
            changes["plant"] = None
        if changes:
            self.set_params(remember=False, **changes)
        self.request(force=True)

    # -- scheduling ------------------------------------------------------------------------------
    def set_active(self, active: bool) -> None:
        """Whether anything shows the design (its docks); inactive, changes only mark it dirty."""
        if active == self._active:
            return
        self._active = active
        if active and self._dirty:
            self._schedule()

    def set_auto(self, auto: bool) -> None:
        """Redesign on every change (True) or only on `redesign_now` (F6)."""
        self.auto = auto
        if auto:
            self.request()

    def request(self, force: bool = False) -> None:
        """Ask for a redesign of the current scene with the current parameters; it starts on
        the next event-loop turn, or after the running one (coalesced)."""
        if not (self.auto or force):
            return
        self._dirty = True
        self._force = self._force or force
        o = self.outcome
        if o is not None and o.current and not self._made_for_now(o):
            o.current = False
        if self._active or force:
            self._schedule()
            self._set_busy(True)  # pending counts as busy: "updating…", no export

    def _schedule(self) -> None:
        """Check on the next event-loop turn, unless a check is due already (a pause after a
        redesign is never cut short)."""
        if not self._timer.isActive():
            self._timer.start(0)

    def redesign_now(self) -> None:
        self.request(force=True)

    def _kick(self) -> None:
        running = self.runner.is_running
        if not self._dirty or not (self._active or self._force):
            # (Inactive: stays dirty until something shows the design again.)
            if not running:
                self._set_busy(False)
            return
        scene, params, probe = self.document.scene, self._params, self._probe_cm
        key = (design_relevant(scene), params, probe)
        if key == self._last_key and not self._force:
            self._dirty = False  # e.g. a talker moved, or a drag came back
            if not running:
                self._set_busy(False)
            return
        try:
            check_design(scene, params)  # cheap: refusals show at once, even mid-job
        except DesignError as e:
            self._dirty = self._force = False
            self._last_key = key
            self._generation += 1
            self._show_error(str(e), self._generation)
            if not running:
                self._set_busy(False)
            return
        if running:
            return  # starts, with the then-latest scene, when the running one is done
        self._dirty = self._force = False
        self._last_key = key
        self._generation += 1
        self._running = self._generation
        self.runner.start(design_job.run, DesignRequest(scene, params, probe), label="Redesign")
        self._set_busy(True)

    # -- results ---------------------------------------------------------------------------------
    def _on_finished(self, outcome: DesignOutcome) -> None:
        outcome.generation = self._running
        if outcome.generation < self._shown or outcome.params.method != self._params.method:
            log.debug("dropped a stale redesign (generation %d)", outcome.generation)
            return
        outcome.current = self._made_for_now(outcome)
        self._shown = outcome.generation
        self.outcome = outcome
        if self.error:
            self.error = ""
            self.errorChanged.emit("")
        self.outcomeChanged.emit(outcome)

    def _made_for_now(self, o: DesignOutcome) -> bool:
        return (o.params == self._params and o.probe_cm == self._probe_cm
                and design_relevant(o.scene) == design_relevant(self.document.scene))

    def _on_failed(self, error: BaseException, _text: str) -> None:
        if isinstance(error, DesignError):
            message = str(error)
        else:  # a bug: JobRunner logged the traceback; the panel gets one line
            message = f"Redesign failed: {type(error).__name__}: {error}"
        if self._running >= self._shown:
            self._show_error(message, self._running)

    def _show_error(self, message: str, generation: int) -> None:
        self._shown = generation
        if self.outcome is None and self.error == message:
            return  # the same refusal again (a drag that stays impossible)
        self.outcome = None
        self.error = message
        self.outcomeChanged.emit(None)
        self.errorChanged.emit(message)

    def _on_done(self) -> None:
        if self._dirty:
            self._timer.start(FOLLOW_PAUSE_MS)
        else:
            self._set_busy(False)

    # -- shutdown --------------------------------------------------------------------------------
    def shutdown(self, timeout_ms: int = 10000) -> None:
        """Stop scheduling and wait for a running redesign (window closing)."""
        self.auto = False
        self._dirty = False
        self._timer.stop()
        if self.runner.is_running:
            self.runner.cancel()
            if not self.runner.wait(timeout_ms):
                log.warning("the redesign did not stop within %d ms", timeout_ms)
