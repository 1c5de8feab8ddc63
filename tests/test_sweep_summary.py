"""Sweep summaries: the floor map as a raster for drawing (grid positions one to one, scattered
positions snapped, the lowest value kept)."""

from __future__ import annotations

import numpy as np

from dsp.sweep.summary import FloorMap, floor_raster


def _fmap(x, y, median, p10=None) -> FloorMap:
    x, y, median = (np.asarray(v, dtype=float) for v in (x, y, median))
    return FloorMap("cancellation_db", x, y, median,
                    median - 1 if p10 is None else np.asarray(p10, float),
                    np.ones(x.size, dtype=int))


def test_a_grid_of_positions_maps_one_to_one_onto_cells():
    gx, gy = np.meshgrid(np.linspace(1.0, 3.25, 10), [2.0, 2.5])  # 10 × 2: unequal axes
    values = np.arange(20.0)
    x, y, grid = floor_raster(_fmap(gx.ravel(), gy.ravel(), values), "p10")
    np.testing.assert_allclose(x, np.linspace(1.0, 3.25, 10))
    np.testing.assert_allclose(y, [2.0, 2.5])
    np.testing.assert_array_equal(grid, (values - 1).reshape(2, 10))


def test_missing_positions_are_nan_scattered_ones_snapped_with_the_lowest_kept():
    x, y, grid = floor_raster(_fmap([0.0, 1.0, 2.0, 0.0], [0.0, 0.0, 1.0, 1.0], [5, 6, 7, 8]))
    np.testing.assert_array_equal(grid, [[5, 6, np.nan], [8, np.nan, 7]])
    rng = np.random.default_rng(1)
    px, py = rng.uniform(1, 3, 30), rng.uniform(1, 2, 30)
    x, y, grid = floor_raster(_fmap(px, py, px))
    assert grid.shape == (31, 31)  # cells of extent / count on each axis
    ix = np.round((px - px.min()) / (x[1] - x[0])).astype(int)
    iy = np.round((py - py.min()) / (y[1] - y[0])).astype(int)
    assert np.all(grid[iy, ix] <= px)
    assert np.isfinite(grid).sum() == len(set(zip(iy, ix, strict=True)))
    x, y, grid = floor_raster(_fmap([2.0], [3.0], [9.0]))
    assert (x.tolist(), y.tolist(), grid.tolist()) == ([2.0], [3.0], [[9.0]])
