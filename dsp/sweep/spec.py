"""Sweep specs: which scene, engine, design and metrics, and what varies — validated like scenes.

A spec is a JSON file (or dict)::

    {"schema_version": 1, "kind": "sweep", "scene": "default", "engine": "room_early",
     "seed": 1, "timeout_s": 300,
     "vary": {"listeners[0].position[0]": {"grid": [1.5, 2.0, 2.5]},
              "listeners[0].position[1]": {"uniform": [1.0, 3.0], "n": 10},
              "listeners[0].head_radius": {"normal": [0.0875, 0.006], "n": 4},
              "room.walls.rt60": {"grid": [0.3, 0.6]}},
     "design": {"method": "nullsteer", "max_effort_db": 18, "per_case": false},
     "metrics": ["cancellation_db", "itd_error_us", "ild_error_db", "effort_db"]}

- scene: a scene file (relative to the spec's folder) or preset name, or a scene object.
- vary: paths into the scene as its validation messages write them (the scene written out in
  full, room and device included: `sim.scene_io.scene_to_dict`), or ``design.<parameter>``
  for the design's real-valued parameters. Each gives a grid of values or n seeded draws
  (uniform [lo, hi], normal [mean, sd]); the cases are their product, first path outermost.
  A draw of entry k uses ``numpy.random.default_rng([seed, k])``, so the cases depend only on
  the spec.
- design: `dsp.params.DesignParams` fields (method ctc, nullsteer or virtualizer: the metrics
  need two inputs); ``per_case`` false (default) designs once at the base scene — how does
  that filter hold up — true designs again in every case (needed to vary ``design.*``).
- metrics: any of `METRICS` (default all); timeout_s: per case.

Every error is a `SceneError` naming the field (``vary["listeners[3].position[0]"]: ...``);
values that make a case invalid (a listener outside the room) are not spec errors: that case
fails with the scene's message when it runs.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dsp.params import METHODS
from dsp.sweep.paths import format_path, get_path, parse_path
from sim.scene import content_hash
from sim.scene_fields import Obj, SceneError, fmt, number, read_json

SCHEMA_VERSION = 1
ENGINES = ("freefield", "room_early", "room")
METRICS = ("cancellation_db", "itd_error_us", "ild_error_db", "effort_db")
DESIGN_METHODS = tuple(m for m in METHODS if m != "beam")  # the metrics need two inputs
VARIABLE_DESIGN_FIELDS = ("max_effort_db", "robust_cm", "virtual_angle_deg",
                          "virtual_distance_m")
MAX_CASES = 1_000_000
MAX_VALUES = 100_000
"""Most values (grid entries or draws) of one vary entry."""


@dataclass(frozen=True)
class Vary:
    """One varied field: its path text and steps, the kind (grid, uniform, normal) and its
    values (grid entries or seeded draws, in case order)."""

    path: str
    steps: tuple[str | int, ...]
    kind: str
    values: tuple[float, ...]

    @property
    def is_design(self) -> bool:
        return self.steps[0] == "design"


@dataclass(frozen=True, eq=False)
class SweepSpec:
    """A validated sweep. scene: the base scene written out in full (JSON-ready dict);
    design: DesignParams fields (JSON-ready); source: the spec as read (JSON)."""

    scene: dict
    engine: str
    seed: int
    vary: tuple[Vary, ...]
    design: dict
    per_case: bool
    metrics: tuple[str, ...]
    timeout_s: float
    source: dict

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(v.values) for v in self.vary)

    @property
    def n_cases(self) -> int:
        return math.prod(self.shape)

    def case_values(self, index: int) -> dict[str, float]:
        """Path → value of case `index` (0 .. n_cases − 1)."""
        at = np.unravel_index(index, self.shape) if self.vary else ()
        return {v.path: v.values[int(k)] for v, k in zip(self.vary, at, strict=True)}

    def digest(self) -> str:
        """Content hash of everything that decides the cases and their results."""
        return content_hash("sweep", self.scene, self.engine, self.seed,
                            [(v.path, v.kind, list(v.values)) for v in self.vary], self.design,
                            self.per_case, list(self.metrics))


def _values(o: Obj, path: str, seed: int, k: int) -> tuple[str, tuple[float, ...]]:
    """The kind and values of one vary entry (object with grid, or uniform/normal and n)."""
    kinds = [key for key in ("grid", "uniform", "normal") if o.has(key)]
    if len(kinds) != 1:
        raise SceneError(f"{path} must hold exactly one of grid, uniform, normal", path)
    kind = kinds[0]
    if kind == "grid":
        grid = o.array("grid", MAX_VALUES)
        if not grid:
            raise SceneError(f"{o.sub('grid')} is an empty range (no values)", o.sub("grid"))
        o.done()
        return kind, tuple(number(v, f"{o.sub('grid')}[{i}]", -1e9, 1e9)
                           for i, v in enumerate(grid))
    a, b = o.vector(kind, 2, -1e9, 1e9)
    n = o.integer("n", 0, MAX_VALUES)
    o.done()
    if n == 0:
        raise SceneError(f"{o.sub('n')} = 0: a {kind} draw needs n ≥ 1 values", o.sub("n"))
    rng = np.random.default_rng([seed, k])
    if kind == "uniform":
        if not a < b:
            raise SceneError(f"{o.sub(kind)} = {fmt([a, b])} is an empty range (needs lo < hi)",
                             o.sub(kind))
        draws = rng.uniform(a, b, n)
    else:
        if not b > 0.0:
            raise SceneError(f"{o.sub(kind)} = {fmt([a, b])}: the standard deviation must be"
                             " > 0", o.sub(kind))
        draws = rng.normal(a, b, n)
    return kind, tuple(float(v) for v in draws)


def _check_target(scene: dict, design: dict, steps: tuple, path: str) -> None:
    """The vary path must name a number of the base scene or a real design parameter."""
    if steps[0] == "design":
        if len(steps) != 2 or steps[1] not in VARIABLE_DESIGN_FIELDS:
            raise SceneError(f"{path}: unknown design parameter (can vary:"
                             f" {', '.join('design.' + f for f in VARIABLE_DESIGN_FIELDS)})",
                             path)
        return
    try:
        value = get_path(scene, steps)
    except KeyError as e:
        raise SceneError(f"{path}: unknown path: the scene has no {e.args[0]}", path) from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SceneError(f"{path}: the scene's value there is {fmt(value)}, not a number", path)


def _base_scene(o: Obj, base_dir: Path | None) -> dict:
    from sim.scene_io import load_scene, scene_from_dict
    from sim.scene_json import scene_to_dict

    ref = o.raw("scene")
    if isinstance(ref, dict):
        return scene_to_dict(scene_from_dict(ref, base_dir), base_dir)
    ref = o.string("scene", max_chars=4096)
    local = base_dir / ref if base_dir is not None else None
    target = local if local is not None and local.is_file() else ref
    scene = load_scene(target)
    return scene_to_dict(scene, base_dir)


def _design(o: Obj) -> tuple[dict, bool]:
    method = o.string("method", choices=DESIGN_METHODS)
    out: dict[str, Any] = {"method": method,
                           "n_taps": o.integer("n_taps", 64, 65536, default=1024),
                           "max_effort_db": o.number("max_effort_db", -20.0, 60.0, "dB",
                                                     default=18.0),
                           "robust_cm": o.number("robust_cm", 0.0, 50.0, "cm", default=0.0),
                           "listener": o.integer("listener", 0, 63, default=0),
                           "virtual_angle_deg": o.number("virtual_angle_deg", 1.0, 89.0, "deg",
                                                         default=30.0),
                           "virtual_distance_m": o.number("virtual_distance_m", 0.2, 50.0, "m",
                                                          default=2.5)}
    delay = o.integer("delay_samples", 0, 65536, default=None)
    if delay is not None:
        out["delay_samples"] = delay
    per_case = o.boolean("per_case", default=False)
    o.done()
    return out, per_case


def spec_from_dict(data: Any, base_dir: Path | None = None) -> SweepSpec:
    """Validate a parsed spec; raises SceneError naming the field (no file prefix)."""
    o = Obj(data, "")
    version = o.integer("schema_version", 1, SCHEMA_VERSION)
    del version  # one version so far
    o.string("kind", choices=("sweep",))
    scene = _base_scene(o, base_dir)
    engine = o.string("engine", choices=ENGINES, default="freefield")
    seed = o.integer("seed", 0, 2 ** 63 - 1, default=0)
    timeout_s = o.number("timeout_s", 1.0, 86400.0, "s", default=600.0)
    design, per_case = _design(Obj(o.raw("design"), "design"))
    if design["listener"] >= len(scene["listeners"]):
        raise SceneError(f"design.listener = {design['listener']}: the scene has"
                         f" {len(scene['listeners'])} listener(s)", "design.listener")
    metrics = o.array("metrics", len(METRICS), default=list(METRICS))
    for i, m in enumerate(metrics):
        if m not in METRICS:
            raise SceneError(f"metrics[{i}] = {fmt(m)} must be one of {', '.join(METRICS)}",
                             f"metrics[{i}]")
    if not metrics:
        raise SceneError("metrics is empty (choose from " + ", ".join(METRICS) + ")", "metrics")
    vo = Obj(o.raw("vary"), "vary")
    if not vo.data:
        raise SceneError("vary is empty: a sweep varies at least one path", "vary")
    vary = []
    for k, path in enumerate(vo.data):
        where = vo.sub(path)
        try:
            steps = parse_path(path)
        except ValueError as e:
            raise SceneError(f"{where}: {e}", where) from None
        _check_target(scene, design, steps, where)
        kind, values = _values(Obj(vo.raw(path), where), where, seed, k)
        vary.append(Vary(format_path(steps), steps, kind, values))
    vo.done()
    if any(v.is_design for v in vary) and not per_case:
        raise SceneError("vary holds design parameters: they need design.per_case = true",
                         "design.per_case")
    o.done()
    spec = SweepSpec(scene=scene, engine=engine, seed=seed, vary=tuple(vary), design=design,
                     per_case=per_case, metrics=tuple(metrics), timeout_s=timeout_s,
                     source=data)
    if spec.n_cases > MAX_CASES:
        raise SceneError(f"vary makes {spec.n_cases} cases, more than {MAX_CASES}", "vary")
    return spec


def load_spec(path: str | os.PathLike) -> SweepSpec:
    """Read and validate a sweep spec file; SceneError names the file and the field."""
    path = Path(path)
    data = read_json(path)
    try:
        return spec_from_dict(data, path.parent)
    except SceneError as e:
        raise e.in_file(str(path)) from None
