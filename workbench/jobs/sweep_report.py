"""The sweep report job: figures and a summary of a sweep's results folder. No Qt.

`run(request, state)` reads the results (`dsp.sweep.results.read_results`), summarizes them
(`dsp.sweep.summary`) and writes into `request.out` (created when its parent exists), each
figure as PNG and PDF (matplotlib, Agg canvas, no pyplot state):

- percentiles: P10/P50/P90 of cancellation and of the virtualization (ILD) error vs frequency;
- floor_map: the median and the P10 of the per-listener cancellation at every swept position,
  on the room's floor plan with the device;
- histograms: effort, ITD error and ILD error over the case × listeners;
- summary.json (`dsp.sweep.summary.summarize`).

Every file goes through `sim.outputs.write_file` (atomic); the output folder may not lie
inside the results folder. A folder that is not a sweep's results raises `OutputError`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dsp.sweep import summary as S
from dsp.sweep.results import read_results
from sim.outputs import OutputError, refuse_overwrite, write_file, write_text
from sim.task import TaskState, report

FORMATS = ("png", "pdf")
_LABELS = {"cancellation_db": "cancellation (dB)", "ild_error_db": "ILD error (dB)",
           "itd_error_us": "ITD error (µs)", "effort_db": "effort (dB)"}


@dataclass
class ReportRequest:
    """results: a sweep's results folder; out: the report folder."""

    results: str | Path
    out: str | Path


@dataclass
class ReportOutcome:
    """files written (paths) and the summary dict."""

    files: list[Path] = field(default_factory=list)
    summary: dict = field(default_factory=dict)


def _figure(n_panels: int, width: float = 5.0, height: float = 3.6):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * n_panels, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig, [fig.add_subplot(1, n_panels, k + 1) for k in range(n_panels)]


def _empty(ax, text: str = "no finished case") -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)


def percentile_figure(frame, metrics: list[str]):
    """P10–P90 band and P50 line per band of cancellation and ILD error."""
    shown = [m for m in ("cancellation_db", "ild_error_db") if m in metrics] or metrics[:1]
    fig, axes = _figure(len(shown))
    for ax, m in zip(axes, shown, strict=True):
        ax.set_xscale("log")
        ax.set_xlabel("frequency (Hz)")
        ax.set_ylabel(_LABELS[m])
        ax.grid(True, which="both", alpha=0.3)
        if S.ok_rows(frame).empty:
            _empty(ax)
            continue
        bp = S.band_percentiles(frame, m)
        ax.fill_between(bp.band_hz, bp.p10, bp.p90, alpha=0.3, label="P10 – P90")
        ax.plot(bp.band_hz, bp.p50, label="P50")
        ax.set_title(f"{_LABELS[m]}, {bp.n} cases")
        ax.legend(fontsize="small")
    return fig


def _floor_outline(ax, scene: dict) -> None:
    """The room's floor plan and the device, from the results' base scene (JSON)."""
    room = scene.get("room", {})
    if room.get("type") == "shoebox":
        w, d = room["dimensions"][:2]
        floor = [(0, 0), (w, 0), (w, d), (0, d)]
    else:
        floor = [tuple(p) for p in room.get("floor", [])]
    if floor:
        xs, ys = zip(*[*floor, floor[0]], strict=True)
        ax.plot(xs, ys, color="0.3", lw=1)
    dev = scene.get("device", {}).get("position")
    if dev:
        ax.plot(dev[0], dev[1], marker="s", color="k", ms=6, label="device")


def floor_figure(frame, info: dict):
    """Median and P10 of the per-listener cancellation at each swept position."""
    fig, axes = _figure(2, 4.6, 4.2)
    metric = "cancellation_db" if "cancellation_db" in frame.columns else info["metrics"][0]
    fmap = S.floor_map(frame, metric) if not S.ok_rows(frame).empty else None
    for ax, (title, key) in zip(axes, (("median", "median"), ("P10", "p10")), strict=True):
        _floor_outline(ax, info.get("scene", {}))
        ax.set_aspect("equal")
        ax.set_xlabel("x (m)")
        ax.set_ylabel("y (m)")
        ax.set_title(f"{title} {_LABELS[metric]}")
        if fmap is None:
            _empty(ax)
            continue
        sc = ax.scatter(fmap.x_m, fmap.y_m, c=getattr(fmap, key), cmap="viridis", marker="s",
                        s=40, edgecolors="none")
        fig.colorbar(sc, ax=ax, shrink=0.8)
    return fig


def histogram_figure(frame, metrics: list[str]):
    """Histograms of effort (per case), ITD and ILD error (per case × listener)."""
    shown = [m for m in ("effort_db", "itd_error_us", "ild_error_db") if m in metrics]
    fig, axes = _figure(max(len(shown), 1), 4.0, 3.2)
    scalars = S.listener_scalars(frame) if not S.ok_rows(frame).empty else None
    for ax, m in zip(axes, shown, strict=False):
        ax.set_xlabel(_LABELS[m])
        ax.set_ylabel("cases" if m == "effort_db" else "case × listeners")
        if scalars is None:
            _empty(ax)
            continue
        v = scalars.drop_duplicates("case")[m] if m == "effort_db" else scalars[m]
        v = v.to_numpy(float)
        ax.hist(v[np.isfinite(v)], bins=30)
    if not shown:
        _empty(axes[0], "no effort or ITD/ILD metric in this sweep")
    return fig


def _save(fig, folder: Path, stem: str) -> list[Path]:
    return [write_file(folder / f"{stem}.{fmt}", lambda tmp, fmt=fmt: fig.savefig(tmp,
                                                                              format=fmt))
            for fmt in FORMATS]


def run(request: ReportRequest, state: TaskState | None = None) -> ReportOutcome:
    """Write the report; see the module docstring."""
    results, out = Path(request.results), Path(request.out)
    frame, info = read_results(results)
    refuse_overwrite([out], [results])
    if not out.parent.is_dir():
        raise OutputError(out, f"folder {out.parent} does not exist")
    if out.exists() and not out.is_dir():
        raise OutputError(out, "is a file, expected a folder")
    out.mkdir(exist_ok=True)
    outcome = ReportOutcome()
    metrics = list(info.get("metrics", []))
    figures = (("percentiles", lambda: percentile_figure(frame, metrics)),
               ("floor_map", lambda: floor_figure(frame, info)),
               ("histograms", lambda: histogram_figure(frame, metrics)))
    for k, (stem, draw) in enumerate(figures):
        report(state, k / (len(figures) + 1), stem)
        outcome.files += _save(draw(), out, stem)
    outcome.summary = S.summarize(frame, info)
    outcome.files.append(write_text(out / "summary.json",
                                    json.dumps(outcome.summary, indent=1) + "\n"))
    report(state, 1.0, "report written")
    return outcome
