"""The design job: one redesign of a scene and what the design panel shows beside it (filters,
sweet-spot cancellation and its probe, maps, filter responses, headline numbers). Behind
`awb design` (with `workbench.jobs.export`) and the Design panel's automatic redesign.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from dsp.analysis import Cancellation, FilterResponses, cancellation_probe, filter_responses
from dsp.design import Redesign, redesign
from dsp.params import DesignParams
from dsp.summary import DesignSummary, summarize
from sim.scene import Scene
from sim.task import TaskState, check, report


@dataclass(frozen=True)
class DesignRequest:
    """scene and params to design; probe_cm: the lateral head displacement (cm) the
    cancellation is also probed at (0: no probe)."""

    scene: Scene
    params: DesignParams
    probe_cm: float = 5.0


@dataclass
class DesignOutcome:
    """One redesign and what the panel and plots show of it.

    scene, params, probe_cm: what it was made for; redesign: `dsp.design.Redesign`; probe:
    worst of ±probe_cm lateral (None for the beam or without a probe); responses: filter
    magnitude/phase/IR; summary: the headline numbers; virtual: `dsp.report`'s virtualizer
    figures (ITD/ILD error vs the reference pair) for the virtualizer; wall_ms: time in the
    job. generation and current belong to whoever shows it (the GUI's DesignController: the
    request number, and whether it was made for the scene and parameters of now).
    """

    scene: Scene
    params: DesignParams
    probe_cm: float
    redesign: Redesign
    probe: Cancellation | None
    responses: FilterResponses
    summary: DesignSummary
    virtual: dict | None
    wall_ms: float
    generation: int = 0
    current: bool = True

    @property
    def filters(self):
        return self.redesign.design.filters


def run(request: DesignRequest, state: TaskState | None = None) -> DesignOutcome:
    """Redesign plus what the panel shows beside it (all `dsp`). Raises `dsp.params.DesignError`
    for a design that cannot be made (one sentence)."""
    t0 = time.perf_counter()
    scene, params = request.scene, request.params
    report(state, 0.0, "designing")
    r = redesign(scene, params)
    check(state)
    probe = None
    if request.probe_cm > 0 and r.cancellation is not None:
        report(state, 0.7, "probing the sweet spot")
        probe = cancellation_probe(scene, r.design.filters, request.probe_cm / 100.0,
                                   params.listener)
    virtual = None
    if params.method == "virtualizer":
        from dsp.report import virtualizer_metrics

        report(state, 0.8, "comparing with the reference pair")
        virtual = virtualizer_metrics(scene, r.design.filters, params.listener)
    report(state, 1.0)
    return DesignOutcome(scene=scene, params=params, probe_cm=request.probe_cm, redesign=r,
                         probe=probe, responses=filter_responses(r.design.filters),
                         summary=summarize(r, probe), virtual=virtual,
                         wall_ms=1e3 * (time.perf_counter() - t0))


def design_relevant(scene: Scene) -> Scene:
    """The part of a scene a design depends on (talkers and noise sources do not count)."""
    return replace(scene, sources=()) if scene.sources else scene


def parse_angles(text: str) -> tuple[float, ...] | None:
    """'90, -90' → (90.0, -90.0) (commas, semicolons or spaces between); None when it is not a
    list of numbers. The beam's null directions as the Design panel and `awb design` take them."""
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    try:
        return tuple(float(p) for p in parts) or None
    except ValueError:
        return None
