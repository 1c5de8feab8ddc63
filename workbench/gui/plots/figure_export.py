"""Plots to PNG or PDF through matplotlib (pyqtgraph's own SVG exporter is broken).

The plot docks hand over their data, not a screen grab: `curves_figure`, `heatmap_figure`,
`polar_figure` and `zone_figure` draw it on a matplotlib `Figure` (no pyplot, no GUI
backend) in a light, print-friendly style whatever the app's theme, and `save_figure` writes
it atomically, in the format of the file's suffix (.png or .pdf).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.outputs import write_bytes

FIGURE_FILTER = "PNG image (*.png);;PDF document (*.pdf)"
FORMATS = {".png": "png", ".pdf": "pdf"}
FREQ_TICKS_HZ = (20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000)
FIGURE_SIZE_IN = (7.0, 4.2)


@dataclass
class Series:
    """One curve: x, y (NaN breaks the line), legend label, colour and line style."""

    x: np.ndarray
    y: np.ndarray
    label: str = ""
    color: str = "#1f6feb"
    width: float = 1.5
    style: str = "-"
    marker: str = ""


@dataclass
class Marker:
    """A point drawn on a map: position, label, colour and matplotlib marker."""

    x: float
    y: float
    label: str = ""
    color: str = "#303841"
    marker: str = "o"


def freq_label(f: float) -> str:
    return f"{f / 1000:g}k" if f >= 1000 else f"{f:g}"


def _figure(size: tuple[float, float] = FIGURE_SIZE_IN):
    from matplotlib.figure import Figure

    return Figure(figsize=size, dpi=100, layout="constrained")


def _freq_axis(ax, lo: float, hi: float) -> None:
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    ax.xaxis.set_major_locator(FixedLocator([f for f in FREQ_TICKS_HZ if lo <= f <= hi]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: freq_label(v)))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("frequency (Hz)")


def curves_figure(series: Sequence[Series], *, title: str, xlabel: str = "", ylabel: str = "",
                  logx: bool = False, xlim: tuple[float, float] | None = None,
                  ylim: tuple[float, float] | None = None,
                  hlines: Sequence[tuple[float, str]] = ()):
    """Line plot; logx: a frequency axis (Hz, log); hlines: (y, label) reference lines."""
    fig = _figure()
    ax = fig.add_subplot()
    for s in series:
        ax.plot(s.x, s.y, s.style, color=s.color, lw=s.width, marker=s.marker or None,
                ms=3.5, label=s.label or None)
    for y, label in hlines:
        ax.axhline(y, color="#8a94a3", lw=1.0, ls=":", label=label or None)
    if logx:
        lo, hi = xlim or (min(float(np.nanmin(s.x[s.x > 0])) for s in series),
                          max(float(np.nanmax(s.x)) for s in series))
        _freq_axis(ax, lo, hi)
    elif xlim:
        ax.set_xlim(*xlim)
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylim:
        ax.set_ylim(*ylim)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    if any(s.label for s in series) or any(label for _, label in hlines):
        ax.legend(fontsize="small", loc="best")
    return fig


def heatmap_figure(values: np.ndarray, x_edges: np.ndarray, y_edges: np.ndarray, *,
                   title: str, xlabel: str, ylabel: str, cbar_label: str, vmin: float,
                   vmax: float, cmap: str = "inferno", logx: bool = False,
                   yticks: Sequence[float] | None = None):
    """Colour map of values (ny, nx) over cell edges x (nx + 1,), y (ny + 1,); logx: the x
    axis is frequency in Hz on a log scale."""
    fig = _figure()
    ax = fig.add_subplot()
    mesh = ax.pcolormesh(x_edges, y_edges, values, cmap=cmap, vmin=vmin, vmax=vmax,
                         shading="flat", rasterized=True)
    if logx:
        _freq_axis(ax, float(x_edges[0]), float(x_edges[-1]))
    if xlabel:
        ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if yticks is not None:
        ax.set_yticks(list(yticks))
    ax.set_title(title)
    fig.colorbar(mesh, ax=ax, label=cbar_label, extend="both")
    return fig


def polar_figure(az_deg: np.ndarray, series: Sequence[Series], *, title: str,
                 r_min_db: float, r_max_db: float, rays: Sequence[tuple[float, str]] = ()):
    """Polar plot in dB, 0° at the top and angles counter-clockwise (the device frame seen
    from above); series y are dB (clipped to the radial range); rays: (angle, label) marks."""
    fig = _figure((5.6, 5.2))
    ax = fig.add_subplot(projection="polar")
    ax.set_theta_zero_location("N")
    ax.set_theta_direction(1)
    for s in series:
        ax.plot(np.radians(az_deg), np.clip(s.y, r_min_db, r_max_db), s.style, color=s.color,
                lw=s.width, label=s.label or None)
    for angle, label in rays:
        ax.plot([np.radians(angle)] * 2, [r_min_db, r_max_db], ":", color="#8a94a3", lw=1.0)
        ax.annotate(label, (np.radians(angle), r_max_db), fontsize="small", color="#5b6573",
                    ha="center")
    ax.set_rlim(r_min_db, r_max_db)
    ax.set_rlabel_position(135)
    ax.set_title(title)
    if any(s.label for s in series):
        ax.legend(fontsize="small", loc="lower right", bbox_to_anchor=(1.12, -0.08))
    return fig


def zone_figure(values: np.ndarray, x_m: np.ndarray, y_m: np.ndarray, *, title: str,
                cbar_label: str, vmin: float, vmax: float, cmap: str = "viridis",
                markers: Sequence[Marker] = (), outline: np.ndarray | None = None):
    """A floor map (ny, nx) over cell centres x_m, y_m (room metres, equal aspect), with the
    room outline (K, 2) and markers for drivers and listeners."""
    fig = _figure((6.4, 5.0))
    ax = fig.add_subplot()

    def edges(c: np.ndarray) -> np.ndarray:
        step = c[1] - c[0] if c.size > 1 else 1.0
        return np.concatenate([c - step / 2, [c[-1] + step / 2]])

    mesh = ax.pcolormesh(edges(x_m), edges(y_m), np.ma.masked_invalid(values), cmap=cmap,
                         vmin=vmin, vmax=vmax, shading="flat", rasterized=True)
    if outline is not None:
        closed = np.vstack([outline, outline[:1]])
        ax.plot(closed[:, 0], closed[:, 1], color="#303841", lw=1.5)
    for m in markers:
        ax.plot(m.x, m.y, m.marker, color=m.color, ms=6, mec="white", mew=0.8)
        if m.label:
            ax.annotate(m.label, (m.x, m.y), xytext=(5, 5), textcoords="offset points",
                        fontsize="small", color=m.color)
    ax.set_aspect("equal")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    ax.set_title(title)
    fig.colorbar(mesh, ax=ax, label=cbar_label, extend="both", shrink=0.85)
    return fig


def save_figure(fig, path: str | Path, dpi: int = 150) -> Path:
    """Write fig as PNG or PDF (by suffix) atomically; returns the path."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path.name}: a figure is saved as .png or .pdf")
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi)
    write_bytes(path, buf.getvalue())
    return path


def ask_figure_path(parent, suggestion: str | Path) -> Path | None:
    """Ask where to save a figure (PNG or PDF); None when cancelled."""
    from PySide6.QtWidgets import QFileDialog

    chosen, selected = QFileDialog.getSaveFileName(parent, "Save Figure", str(suggestion),
                                                   FIGURE_FILTER)
    if not chosen:
        return None
    path = Path(chosen)
    if path.suffix.lower() not in FORMATS:
        path = path.with_suffix(".pdf" if (selected or "").startswith("PDF") else ".png")
    return path
