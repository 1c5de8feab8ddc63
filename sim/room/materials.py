"""Rooms and their materials as pyroomacoustics (pra) sees them.

Walls are always octave-band materials: a target RT60 becomes a flat octave-band ``Material``
from Sabine's formula (measured directivities + ray tracing crash on single-band materials,
research §F4.3), and a flat database entry is spread over the octave bands the same way.
Sabine estimates give the image-source order and the ray-tracing time.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pyroomacoustics as pra

from sim.geometry import polygon_area
from sim.room.settings import OCTAVE_CENTERS_HZ
from sim.scene import SHOEBOX_SURFACES, Room


def _flat_material(alpha: float, scattering: float):
    bands = list(OCTAVE_CENTERS_HZ)
    return pra.Material({"coeffs": [float(alpha)] * len(bands), "center_freqs": bands},
                        {"coeffs": [float(scattering)] * len(bands), "center_freqs": bands})


def _named_material(name: str, scattering: float):
    m = pra.Material(name)
    absorption = dict(m.energy_absorption)
    if len(absorption["coeffs"]) == 1:  # a flat database entry: make it octave-band
        return _flat_material(float(absorption["coeffs"][0]), scattering)
    if scattering:
        sc = {"coeffs": [float(scattering)] * len(absorption["coeffs"]),
              "center_freqs": list(absorption["center_freqs"])}
        return pra.Material(absorption, sc)
    return m


def _surface_areas(room: Room) -> tuple[list[str], np.ndarray]:
    """Surface names (pra order for our own bookkeeping) and their areas in m²."""
    poly = room.floor_polygon()
    h = room.height
    if room.kind == "shoebox":
        lx, ly, lz = room.dimensions_m
        return list(SHOEBOX_SURFACES), np.array([ly * lz, ly * lz, lx * lz, lx * lz,
                                                 lx * ly, lx * ly])
    edges = np.linalg.norm(np.roll(poly, -1, axis=0) - poly, axis=1)
    floor = abs(polygon_area(poly))
    names = [f"wall{i}" for i in range(len(poly))] + ["floor", "ceiling"]
    return names, np.concatenate([edges * h, [floor, floor]])


def surface_materials(room: Room, c: float) -> dict[str, object]:
    """pra octave-band Material per surface name (see `_surface_areas`)."""
    w = room.walls
    names, areas = _surface_areas(room)
    if w.rt60_s is not None:
        # Sabine, exactly as pra.inverse_sabine (which only knows shoeboxes).
        alpha = 24.0 * math.log(10.0) * room.volume_m3() / (c * float(np.sum(areas)) * w.rt60_s)
        if alpha > 1.0:
            raise ValueError(f"RT60 {w.rt60_s} s is too short for this room (Sabine α > 1)")
        return {n: _flat_material(alpha, w.scattering) for n in names}
    if w.material is not None:
        return {n: _named_material(w.material, w.scattering) for n in names}
    if w.materials is not None:
        given = dict(w.materials)
        return {n: _named_material(given[n], w.scattering) for n in names}
    coeffs = [float(a) for a in w.absorption]
    if len(coeffs) == 1:
        return {n: _flat_material(coeffs[0], w.scattering) for n in names}
    freqs = [float(x) for x in w.center_freqs_hz]
    sc = {"coeffs": [float(w.scattering)] * len(coeffs), "center_freqs": freqs}
    return {n: pra.Material({"coeffs": coeffs, "center_freqs": freqs}, dict(sc)) for n in names}


def sabine_rt60_s(room: Room, c: float, longest: bool = False) -> float | None:
    """Sabine estimate of the room's RT60 in s: from the mean absorption over the octave
    bands, or with `longest` the longest of the per-band estimates (None in free field)."""
    if room.is_anechoic:
        return None
    if room.walls.rt60_s is not None:
        return room.walls.rt60_s
    names, areas = _surface_areas(room)
    mats = surface_materials(room, c)
    n_bands = max(len(mats[n].energy_absorption["coeffs"]) for n in names)
    alpha = np.array([np.resize(np.asarray(mats[n].energy_absorption["coeffs"], float), n_bands)
                      for n in names])  # (surfaces, bands)
    alpha = np.clip(alpha, 1e-3, 1.0)
    absorption = areas @ (alpha if longest else alpha.mean(axis=1, keepdims=True))
    return float(24.0 * math.log(10.0) * room.volume_m3() / (c * np.min(absorption)))


def sabine_ism_order(room: Room, c: float) -> int:
    """Image-source order that reaches c·RT60 (pra.inverse_sabine's rule on the bounding box)."""
    rt60 = sabine_rt60_s(room, c)
    if rt60 is None:
        return 0
    poly = room.floor_polygon()
    dims = [*(poly.max(axis=0) - poly.min(axis=0)), room.height]
    radius = min(a * b / math.hypot(a, b) for a, b in itertools.combinations(dims, 2))
    return max(math.ceil(c * rt60 / radius - 1), 1)


def make_pra_room(room: Room, fs_hz: int, c: float, order: int, ray_tracing: bool):
    """An empty pra room (no sources/mics); ray tracing is switched on later (§F4.4)."""
    if room.is_anechoic:
        r = pra.AnechoicRoom(fs=fs_hz, air_absorption=bool(room.air_absorption))
    else:
        mats = surface_materials(room, c)
        if room.kind == "shoebox":
            r = pra.ShoeBox(list(room.dimensions_m), fs=fs_hz, materials=mats, max_order=order,
                            air_absorption=bool(room.air_absorption))
        else:
            poly = np.asarray(room.floor_m, dtype=float)
            n = len(poly)
            walls = [mats[f"wall{i}"] for i in range(n)]
            if polygon_area(poly) < 0:
                # pra wants counter-clockwise corners; reversed, pra edge j runs along our
                # edge n-2-j, so the wall materials follow.
                poly = poly[::-1]
                walls = [walls[(n - 2 - j) % n] for j in range(n)]
            r = pra.Room.from_corners(poly.T, fs=fs_hz, max_order=order, materials=walls,
                                      air_absorption=bool(room.air_absorption))
            r.extrude(room.height_m, materials={"floor": mats["floor"],
                                                "ceiling": mats["ceiling"]})
    r.set_sound_speed(float(c))
    return r

