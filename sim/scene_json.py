"""Scene, device and room as JSON: the dicts their files hold (`SCHEMA_VERSION`) and indented
text with short number lists on one line. File paths (SOFA files, signals) are written relative to a
base folder when one is given. Loading and validation: `sim.scene_io`."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from sim.directivity import write_directivity
from sim.scene import Device, Driver, Room, Scene

SCHEMA_VERSION = 1
"""The version of the scene, device and room files this code writes (and reads up to)."""


def _rel(p: str, base_dir: Path | None) -> str:
    if base_dir is None:
        return p
    try:
        return os.path.relpath(p, base_dir)
    except ValueError:  # another drive on Windows
        return p


def _vec(v) -> list[float]:
    return [float(x) for x in v]


def room_to_dict(room: Room) -> dict:
    out: dict[str, Any] = {"type": room.kind}
    if room.name:
        out["name"] = room.name
    if room.is_anechoic:
        return out
    if room.kind == "shoebox":
        out["dimensions"] = _vec(room.dimensions_m)
    else:
        out["floor"] = [_vec(p) for p in room.floor_m]
        out["height"] = room.height_m
    w = room.walls
    walls: dict[str, Any]
    if w.rt60_s is not None:
        walls = {"rt60": w.rt60_s}
    elif w.material is not None:
        walls = {"material": w.material}
    elif w.materials is not None:
        walls = {"materials": dict(w.materials)}
    else:
        walls = {"absorption": list(w.absorption), "center_freqs": list(w.center_freqs_hz)}
    if w.scattering:
        walls["scattering"] = w.scattering
    out["walls"] = walls
    out["air_absorption"] = room.air_absorption
    return out


def _transducer_dict(t, base_dir: Path | None) -> dict:
    out = {"name": t.name, "position": _vec(t.position_m), "axis_deg": _vec(t.axis_deg),
           "directivity": write_directivity(t.directivity, lambda p: _rel(p, base_dir))}
    if isinstance(t, Driver) and t.gain_db:
        out["gain_db"] = t.gain_db
    return out


def _parts(device: Device, base_dir: Path | None) -> dict:
    return {"drivers": [_transducer_dict(x, base_dir) for x in device.drivers],
            "microphones": [_transducer_dict(x, base_dir) for x in device.microphones]}


def device_to_dict(device: Device, description: str = "",
                   base_dir: Path | None = None) -> dict:
    """JSON-ready dict of a device file (kind "device": its name, description, drivers and
    microphones in the device frame; its placement in a room is the scene's, not written)."""
    out = {"schema_version": SCHEMA_VERSION, "kind": "device", "name": device.name}
    if description:
        out["description"] = description
    out.update(_parts(device, base_dir))
    return out


def scene_to_dict(scene: Scene, base_dir: Path | None = None) -> dict:
    """JSON-ready dict of a scene with room and device written out in full; file paths are
    made relative to `base_dir` when given."""
    s, d = scene.simulation, scene.device
    sim = {"fs": s.fs_hz, "c": s.c_m_s, "ray_tracing": s.ray_tracing, "early_ms": s.early_ms}
    if s.ism_order is not None:
        sim["ism_order"] = s.ism_order
    if s.ir_length_s is not None:
        sim["ir_length"] = s.ir_length_s
    device = {"name": d.name, "position": _vec(d.position_m), "yaw_deg": d.yaw_deg,
              **_parts(d, base_dir)}
    if d.model:
        device["model"] = d.model
    listeners = []
    for li in scene.listeners:
        hrtf = {"type": li.hrtf.type}
        if li.hrtf.type == "sofa":
            hrtf["file"] = _rel(li.hrtf.file, base_dir)
        listeners.append({"name": li.name, "position": _vec(li.position_m), "yaw_deg": li.yaw_deg,
                          "head_radius": li.head_radius_m,
                          "ear_angles_deg": _vec(li.ear_angles_deg), "hrtf": hrtf})
    sources = [{"name": x.name, "kind": x.kind, "position": _vec(x.position_m),
                "signal": x.signal if x.signal.startswith("builtin:") else _rel(x.signal, base_dir),
                "level_db": x.level_db} for x in scene.sources]
    out = {"schema_version": SCHEMA_VERSION, "kind": "scene", "name": scene.name}
    if scene.description:
        out["description"] = scene.description
    out.update(simulation=sim, room=room_to_dict(scene.room), device=device,
               listeners=listeners, sources=sources)
    return out


def to_json(data: Any) -> str:
    """Indented JSON with short number lists (positions, angles) kept on one line."""
    text = json.dumps(data, indent=2)
    number_list = re.compile(r"\[\s*(-?[\d.eE+-]+(?:,\s*-?[\d.eE+-]+)*)\s*\]")
    return number_list.sub(lambda m: "[" + ", ".join(m.group(1).split()).replace(",,", ",") + "]",
                           text) + "\n"


def scene_to_json(scene: Scene, base_dir: Path | None = None) -> str:
    return to_json(scene_to_dict(scene, base_dir))
