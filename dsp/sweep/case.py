"""One sweep case as a task runs it (locally or on a Dask worker): plain data in, small arrays
out, and a failure is a result, not an exception.

`shared_data(spec, design)` is what every task of a sweep gets (the base scene as JSON, engine,
metrics, timeout, the base design's filters unless designs are per case); `run_case(shared,
case)` builds the case's scene from the base scene and the case's path values (through the
scene reader, so an invalid case fails with the scene's own message, e.g. a listener outside
the room), designs when designs are per case, and computes `dsp.sweep.metrics`. It returns
a dict: case, values, status ("ok" / "failed"), error (one line), seconds, positions_m (L, 3)
and metrics {name: (L, B)} (None when failed).

The per-case timeout is cooperative: the case's `Deadline` state raises `CaseTimeout` at the
next progress check (the room engine checks between its stages) once it is past.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from dsp.sweep.metrics import listener_metrics
from dsp.sweep.paths import get_path, parse_path, with_values
from dsp.sweep.spec import SweepSpec
from sim.scene_fields import SceneError, one_line
from sim.task import TaskState

MAX_ERROR_CHARS = 300


class CaseTimeout(Exception):
    """A case ran past its timeout."""


class Deadline(TaskState):
    """A TaskState whose `check` raises CaseTimeout once `timeout_s` have passed."""

    def __init__(self, timeout_s: float):
        super().__init__()
        self.timeout_s = float(timeout_s)
        self._end = time.monotonic() + self.timeout_s

    def check(self) -> None:
        super().check()
        if time.monotonic() > self._end:
            raise CaseTimeout(f"timed out after {self.timeout_s:g} s")


def design_case(scene, design: dict):
    """`dsp.design.design` of the scene with the spec's design fields (a DesignResult)."""
    from dsp.design import design as make_design
    from dsp.params import DesignParams

    return make_design(scene, DesignParams(**design))


def shared_data(spec: SweepSpec, base_design=None) -> dict[str, Any]:
    """What every task of `spec` gets; base_design: the DesignResult at the base scene (None
    when designs are per case)."""
    shared: dict[str, Any] = {"scene": spec.scene, "engine": spec.engine,
                              "metrics": spec.metrics, "design": spec.design,
                              "per_case": spec.per_case, "timeout_s": spec.timeout_s}
    if base_design is not None:
        f = base_design.filters
        shared.update(fir=f.fir, fs_hz=f.fs_hz, delay_samples=f.delay_samples,
                      effort_db=base_design.effort_db, effort_freqs_hz=base_design.freqs_hz)
    return shared


def case_scene(base_scene: dict, values: dict[str, float]):
    """The Scene of a case: the base scene (JSON) with the case's scene-path values (made
    integers where the base holds an integer and the value is whole), through the scene
    reader (SceneError names the field of an invalid case); design paths are ignored."""
    from sim.scene_io import scene_from_dict

    assign = {}
    for path, value in values.items():
        steps = parse_path(path)
        if steps[0] != "design":
            whole = isinstance(get_path(base_scene, steps), int) and float(value).is_integer()
            assign[steps] = int(value) if whole else value
    return scene_from_dict(with_values(base_scene, assign))


def _compute(shared: dict, values: dict[str, float], state: Deadline) -> dict:
    from dsp.filterset import FilterSet

    steps = {p: parse_path(p) for p in values}
    scene = case_scene(shared["scene"], values)
    state.check()
    if shared["per_case"]:
        design = dict(shared["design"])
        design.update({s[1]: values[p] for p, s in steps.items() if s[0] == "design"})
        d = design_case(scene, design)
        filters, effort, effort_f = d.filters, d.effort_db, d.freqs_hz
        state.check()
    else:
        filters = FilterSet(fir=shared["fir"], fs_hz=shared["fs_hz"],
                            delay_samples=shared["delay_samples"])
        effort, effort_f = shared["effort_db"], shared["effort_freqs_hz"]
    metrics = listener_metrics(scene, filters, shared["engine"], tuple(shared["metrics"]),
                               effort, effort_f, state)
    positions = np.array([li.position_m for li in scene.listeners], dtype=float)
    return {"positions_m": positions, "metrics": metrics}


def run_case(shared: dict, case: dict) -> dict:
    """Compute case {"case": index, "values": {path: value}}; never raises (but on cancel)."""
    t0 = time.perf_counter()
    state = Deadline(shared["timeout_s"])
    out: dict[str, Any] = {"case": int(case["case"]), "values": dict(case["values"]),
                           "status": "ok", "error": "", "positions_m": None, "metrics": None}
    try:
        out.update(_compute(shared, case["values"], state))
    except (SceneError, CaseTimeout) as e:
        out.update(status="failed", error=one_line(str(e), MAX_ERROR_CHARS))
    except Exception as e:  # any failure is this case's result; the sweep goes on
        out.update(status="failed",
                   error=one_line(f"{type(e).__name__}: {e}", MAX_ERROR_CHARS))
    out["seconds"] = time.perf_counter() - t0
    return out


def run_cases(shared: dict, cases: list[dict]) -> list[dict]:
    """`run_case` over consecutive cases in one task: neighbours share most of their scene,
    so the caches of the process that runs them (directivities, grids) serve the next."""
    return [run_case(shared, case) for case in cases]
