"""Frames and small geometric helpers.

Room frame: x and y horizontal, z up, metres. Yaw is measured counter-clockwise from +x in
degrees, seen from above. A device's local frame has +x pointing to its front, +y to its left
and +z up; its yaw turns that frame about z.
"""

from __future__ import annotations

import numpy as np


def yaw_matrix(yaw_deg: float) -> np.ndarray:
    """Rotation (3, 3) that turns local coordinates into room coordinates for a yaw in degrees."""
    a = np.deg2rad(yaw_deg)
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def direction_from_angles(azimuth_deg: float, elevation_deg: float) -> np.ndarray:
    """Unit vector (3,) for an azimuth (ccw from +x) and elevation (up from horizontal), degrees."""
    az, el = np.deg2rad(azimuth_deg), np.deg2rad(elevation_deg)
    return np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])


def angles_from_direction(v: np.ndarray) -> tuple[float, float]:
    """(azimuth_deg, elevation_deg) of a non-zero vector (3,)."""
    x, y, z = np.asarray(v, dtype=float)
    return float(np.degrees(np.arctan2(y, x))), float(np.degrees(np.arctan2(z, np.hypot(x, y))))


def points_in_polygon(x: np.ndarray, y: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Which points lie inside or on the edge of a simple polygon (n, 2) vertices.

    x, y: coordinates in m, any matching shape S. Returns bool array of shape S.
    Even-odd ray casting, vectorized over points and edges.
    """
    px = np.asarray(x, dtype=float)[..., None]
    py = np.asarray(y, dtype=float)[..., None]
    poly = np.asarray(polygon, dtype=float)
    xa, ya = poly[:, 0], poly[:, 1]
    xb, yb = np.roll(xa, -1), np.roll(ya, -1)
    # On an edge counts as inside: a listener against a wall is still in the room.
    cross = (xb - xa) * (py - ya) - (yb - ya) * (px - xa)
    within = (np.minimum(xa, xb) - 1e-12 <= px) & (px <= np.maximum(xa, xb) + 1e-12)
    within &= (np.minimum(ya, yb) - 1e-12 <= py) & (py <= np.maximum(ya, yb) + 1e-12)
    on_edge = np.any(within & (np.abs(cross) < 1e-12), axis=-1)
    straddles = (ya > py) != (yb > py)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_cross = xa + (py - ya) * (xb - xa) / (yb - ya)
    odd = np.count_nonzero(straddles & (px < x_cross), axis=-1) % 2 == 1
    return on_edge | odd


def point_in_polygon(x: float, y: float, polygon: np.ndarray) -> bool:
    """True when (x, y) lies inside or on the edge of a simple polygon (n, 2)."""
    return bool(points_in_polygon(x, y, polygon))


def polygon_area(polygon: np.ndarray) -> float:
    """Signed area in m² of a polygon (n, 2); positive when the vertices run counter-clockwise."""
    p = np.asarray(polygon, dtype=float)
    return 0.5 * float(np.sum(p[:, 0] * np.roll(p[:, 1], -1) - np.roll(p[:, 0], -1) * p[:, 1]))


def polygon_is_simple(polygon: np.ndarray) -> bool:
    """True when no two non-adjacent edges of the polygon (n, 2) intersect."""
    p = np.asarray(polygon, dtype=float)
    n = len(p)
    a, b = p, np.roll(p, -1, axis=0)

    def orient(p1, p2, p3):
        return np.sign((p2[..., 0] - p1[..., 0]) * (p3[..., 1] - p1[..., 1])
                       - (p2[..., 1] - p1[..., 1]) * (p3[..., 0] - p1[..., 0]))

    i, j = np.triu_indices(n, k=2)
    keep = ~((i == 0) & (j == n - 1))  # first and last edges share a vertex
    i, j = i[keep], j[keep]
    o1, o2 = orient(a[i], b[i], a[j]), orient(a[i], b[i], b[j])
    o3, o4 = orient(a[j], b[j], a[i]), orient(a[j], b[j], b[i])
    return not bool(np.any((o1 * o2 < 0) & (o3 * o4 < 0)))
