"""What a sweep's results say: percentile curves per band, per-listener scalars, floor maps of
the median and P10 over the swept positions, and a JSON-ready summary. Read by the report
(`workbench.jobs.sweep_report`) and the GUI's Sweep panel; input: the rows of
`dsp.sweep.results.read_results` (failed cases are counted, never averaged).

Scalars per case × listener: cancellation_db is the mean over `CANCELLATION_BAND_HZ` (the
Design panel's headline band), ild_error_db the largest over `VIRTUAL_BAND_HZ` (the design
report's virtualization band), itd_error_us the broadband value, effort_db the largest over
all bands. Pn is the n-th percentile: for cancellation P10 is the level 90 % of the listeners
exceed (the bad tail); for the errors and the effort the bad tail is P90.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dsp.report import VIRTUAL_BAND_HZ
from dsp.summary import CANCELLATION_BAND_HZ

PERCENTILES = (10, 50, 90)
FLOOR_GRID_M = 1e-3  # positions closer than this are one floor-map point
RASTER_CELL_M = 0.1  # cell of a raster axis along which all positions are one value


@dataclass
class BandPercentiles:
    """metric; band_hz (B,); p10, p50, p90 (B,) over every ok case × listener; n rows."""

    metric: str
    band_hz: np.ndarray
    p10: np.ndarray
    p50: np.ndarray
    p90: np.ndarray
    n: int


@dataclass
class FloorMap:
    """One point per swept listener position: x_m, y_m (P,); median and p10 (P,) of the metric
    over the cases there; count (P,) of cases."""

    metric: str
    x_m: np.ndarray
    y_m: np.ndarray
    median: np.ndarray
    p10: np.ndarray
    count: np.ndarray


def ok_rows(frame):
    return frame[frame["status"] == "ok"]


def band_percentiles(frame, metric: str) -> BandPercentiles:
    """P10/P50/P90 of `metric` per band over the ok rows."""
    rows = ok_rows(frame)
    q = rows.groupby("band_hz")[metric].quantile([p / 100 for p in PERCENTILES]).unstack()
    return BandPercentiles(metric, q.index.to_numpy(dtype=float),
                           *(q[p / 100].to_numpy(dtype=float) for p in PERCENTILES),
                           n=int(rows["case"].nunique()))


def listener_scalars(frame):
    """One row per ok case × listener: case, listener, x_m, y_m, the varied values and the
    scalar of each metric present (see the module docstring)."""
    rows = ok_rows(frame)
    keys = ["case", "listener"]
    band = rows["band_hz"]
    reducers = {
        "cancellation_db": (band.between(*CANCELLATION_BAND_HZ), "mean"),
        "ild_error_db": (band.between(*VIRTUAL_BAND_HZ), "max"),
        "itd_error_us": (band.notna(), "first"),
        "effort_db": (band.notna(), "max"),
    }
    fixed = [c for c in rows.columns
             if c not in (*keys, "band_hz", "status", "error", "seconds", *reducers)]
    out = rows.groupby(keys, sort=True)[fixed].first()
    for metric, (mask, how) in reducers.items():
        if metric in rows.columns:
            out[metric] = rows[mask].groupby(keys, sort=True)[metric].agg(how)
    return out.reset_index()


def floor_map(frame, metric: str = "cancellation_db") -> FloorMap:
    """Median and P10 of the per-listener `metric` scalar at each swept (x, y) position."""
    s = listener_scalars(frame)
    x = np.round(s["x_m"] / FLOOR_GRID_M) * FLOOR_GRID_M
    y = np.round(s["y_m"] / FLOOR_GRID_M) * FLOOR_GRID_M
    g = s.assign(x=x, y=y).groupby(["x", "y"], sort=True)[metric]
    med, p10, n = g.median(), g.quantile(0.1), g.count()
    xy = med.index.to_frame(index=False)
    return FloorMap(metric, xy["x"].to_numpy(float), xy["y"].to_numpy(float),
                    med.to_numpy(float), p10.to_numpy(float), n.to_numpy(int))


def _raster_axis(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cell centres (n,) of one axis and each value's cell index: the median step between
    the distinct values (a grid's step), but no finer than one cell per value over their
    extent (scattered draws)."""
    u = np.unique(v)
    step = float(np.median(np.diff(u))) if u.size > 1 else 0.0
    step = max(step, (u[-1] - u[0]) / v.size) or RASTER_CELL_M
    index = np.round((v - u[0]) / step).astype(int)
    return u[0] + step * np.arange(index.max() + 1), index


def floor_raster(fmap: FloorMap, which: str = "median"
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The floor map on a regular grid, to draw as an image: x_m (nx,), y_m (ny,) cell centres
    and values (ny, nx) of `which` ("median" or "p10"), NaN where no swept position lies. A
    grid of positions maps one to one onto cells; scattered positions are snapped to cells of
    at least their extent / their count, the lowest value kept where several share one."""
    x, ix = _raster_axis(fmap.x_m)
    y, iy = _raster_axis(fmap.y_m)
    grid = np.full((y.size, x.size), np.nan)
    np.fmin.at(grid, (iy, ix), getattr(fmap, which))
    return x, y, grid


def _stats(values: np.ndarray) -> dict:
    v = values[np.isfinite(values)]
    if v.size == 0:
        return {"n": 0}
    out = {"n": int(v.size), "min": float(v.min()), "max": float(v.max())}
    out.update({f"p{p}": float(np.percentile(v, p)) for p in PERCENTILES})
    return out


def summarize(frame, info: dict, worst: int = 5) -> dict:
    """JSON-ready summary: case counts, failures by message, per-band percentiles and scalar
    statistics per metric, and the `worst` case × listeners by cancellation."""
    metrics = [m for m in info.get("metrics", []) if m in frame.columns]
    cases = frame.groupby("case")["status"].first()
    failed = frame[frame["status"] == "failed"]
    out = {"engine": info.get("engine"), "n_cases_planned": info.get("n_cases"),
           "n_cases_done": int(cases.size), "n_ok": int((cases == "ok").sum()),
           "n_failed": int((cases == "failed").sum()), "vary": info.get("vary", []),
           "failures": [{"error": str(msg), "cases": int(n)} for msg, n in
                        failed["error"].value_counts().head(10).items()],
           "bands": {}, "scalars": {}}
    if out["n_ok"] == 0:
        return out
    for m in metrics:
        bp = band_percentiles(frame, m)
        out["bands"][m] = {"band_hz": bp.band_hz.tolist(), "p10": bp.p10.tolist(),
                           "p50": bp.p50.tolist(), "p90": bp.p90.tolist()}
    scalars = listener_scalars(frame)
    for m in metrics:
        out["scalars"][m] = _stats(scalars[m].to_numpy(float))
    if "cancellation_db" in scalars:
        rows = scalars.nsmallest(worst, "cancellation_db")
        cols = ["case", "listener", "x_m", "y_m", *out["vary"], "cancellation_db"]
        out["worst_cancellation"] = [{k: (int(r[k]) if k in ("case", "listener")
                                          else float(r[k])) for k in cols}
                                     for _, r in rows.iterrows()]
    return out
