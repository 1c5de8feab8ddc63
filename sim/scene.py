"""The acoustic world as immutable dataclasses: room, device with drivers and microphones,
listeners, sources and simulation settings.

Every quantity is SI (m, s, Hz) except angles, which are degrees. Positions of drivers and
microphones are in the device's local frame (+x front, +y left, +z up, metres from the device
origin); everything else is in the room frame (see `sim.geometry`). The dataclasses are frozen:
an edit makes a new scene with `dataclasses.replace`, which keeps undo and caching simple.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace

import numpy as np

from sim.constants import DEFAULT_HEAD_RADIUS_M, SPEED_OF_SOUND_M_S
from sim.directivity import Directivity, Omni
from sim.geometry import direction_from_angles, point_in_polygon, yaw_matrix

Vec3 = tuple[float, float, float]

SHOEBOX_SURFACES = ("east", "west", "north", "south", "floor", "ceiling")
"""pyroomacoustics names of the six shoebox surfaces (east = x max, north = y max)."""


@dataclass(frozen=True)
class Walls:
    """How the room's surfaces absorb. Exactly one of the four descriptions is set.

    rt60_s: reverberation time target in s (uniform absorption from Sabine's formula).
    material: a pyroomacoustics material name for every surface.
    materials: surface name -> pyroomacoustics material name (shoebox surfaces, or
        "wall0".. "wallN-1", "floor", "ceiling" for a polygon room).
    absorption: octave-band energy absorption coefficients (0..1) at `center_freqs_hz`.
    """

    rt60_s: float | None = None
    material: str | None = None
    materials: tuple[tuple[str, str], ...] | None = None
    absorption: tuple[float, ...] | None = None
    center_freqs_hz: tuple[float, ...] | None = None
    scattering: float = 0.0


@dataclass(frozen=True)
class Room:
    """A shoebox, a polygon floor plan extruded to a height, or free field ("anechoic").

    dimensions_m: (Lx, Ly, Lz) for a shoebox; floor_m: ((x, y), ...) vertices of the floor plan;
    height_m: extrusion height of a polygon room.
    """

    kind: str = "shoebox"
    dimensions_m: Vec3 | None = (5.0, 4.0, 2.7)
    floor_m: tuple[tuple[float, float], ...] | None = None
    height_m: float | None = None
    walls: Walls = field(default_factory=lambda: Walls(rt60_s=0.4))
    air_absorption: bool = True
    name: str = ""

    @property
    def is_anechoic(self) -> bool:
        return self.kind == "anechoic"

    def floor_polygon(self) -> np.ndarray | None:
        """Floor outline (n, 2) in m, or None for free field."""
        if self.kind == "shoebox":
            lx, ly, _ = self.dimensions_m
            return np.array([[0.0, 0.0], [lx, 0.0], [lx, ly], [0.0, ly]])
        if self.kind == "polygon":
            return np.asarray(self.floor_m, dtype=float)
        return None

    @property
    def height(self) -> float | None:
        """Ceiling height in m (None in free field)."""
        if self.kind == "shoebox":
            return self.dimensions_m[2]
        return self.height_m

    def contains(self, point: np.ndarray) -> bool:
        """True when a room-frame point (3,) in m lies inside the room (always, in free field)."""
        if self.is_anechoic:
            return True
        x, y, z = (float(v) for v in point)
        return 0.0 <= z <= self.height and point_in_polygon(x, y, self.floor_polygon())

    def volume_m3(self) -> float | None:
        from sim.geometry import polygon_area

        poly = self.floor_polygon()
        return None if poly is None else abs(polygon_area(poly)) * self.height

    def surface_m2(self) -> float | None:
        """Total area of walls, floor and ceiling in m² (None in free field)."""
        from sim.geometry import polygon_area

        poly = self.floor_polygon()
        if poly is None:
            return None
        perimeter = float(np.sum(np.linalg.norm(np.roll(poly, -1, axis=0) - poly, axis=1)))
        return 2.0 * abs(polygon_area(poly)) + perimeter * self.height


@dataclass(frozen=True)
class Transducer:
    """What drivers and microphones have alike: a name, a position (m) and an axis [azimuth,
    elevation] (deg) in the device frame, and a directivity about that axis."""

    name: str
    position_m: Vec3
    axis_deg: tuple[float, float] = (0.0, 0.0)
    directivity: Directivity = field(default_factory=Omni)


@dataclass(frozen=True)
class Driver(Transducer):
    """A loudspeaker driver, with its gain (dB)."""

    gain_db: float = 0.0


@dataclass(frozen=True)
class Microphone(Transducer):
    """A device microphone (omni or cardioid family)."""


@dataclass(frozen=True)
class Device:
    """A loudspeaker device placed in the room: origin position (m) and yaw (deg)."""

    name: str
    position_m: Vec3
    yaw_deg: float = 0.0
    drivers: tuple[Driver, ...] = ()
    microphones: tuple[Microphone, ...] = ()
    model: str = ""

    def _to_room(self, local: np.ndarray) -> np.ndarray:
        rotation = yaw_matrix(self.yaw_deg)
        return np.asarray(self.position_m) + np.asarray(local, dtype=float) @ rotation.T

    def driver_positions(self) -> np.ndarray:
        """Room-frame driver positions (n_drivers, 3) in m."""
        return self._to_room(np.array([d.position_m for d in self.drivers]).reshape(-1, 3))

    def driver_axes(self) -> np.ndarray:
        """Room-frame unit axes (n_drivers, 3)."""
        local = np.array([direction_from_angles(*d.axis_deg) for d in self.drivers]).reshape(-1, 3)
        return local @ yaw_matrix(self.yaw_deg).T

    def mic_positions(self) -> np.ndarray:
        """Room-frame microphone positions (n_mics, 3) in m."""
        return self._to_room(np.array([m.position_m for m in self.microphones]).reshape(-1, 3))

    def mic_axes(self) -> np.ndarray:
        """Room-frame microphone unit axes (n_mics, 3)."""
        local = np.array([direction_from_angles(*m.axis_deg) for m in self.microphones])
        return local.reshape(-1, 3) @ yaw_matrix(self.yaw_deg).T


@dataclass(frozen=True)
class Hrtf:
    """Head model: the analytic rigid sphere, or a SOFA SimpleFreeFieldHRIR `file`."""

    type: str = "sphere"
    file: str | None = None


@dataclass(frozen=True)
class Listener:
    """A listener: head centre (m), yaw (deg, where the nose points), head radius (m) and ear
    azimuths relative to the nose (deg, left first, positive to the left)."""

    name: str
    position_m: Vec3
    yaw_deg: float = 0.0
    head_radius_m: float = DEFAULT_HEAD_RADIUS_M
    ear_angles_deg: tuple[float, float] = (100.0, -100.0)
    hrtf: Hrtf = field(default_factory=Hrtf)


@dataclass(frozen=True)
class Source:
    """A talker or noise source: position (m), signal reference and level (dB SPL at 1 m).

    signal: "builtin:<name>" (see `BUILTIN_SIGNALS`) or the path of an audio file.
    """

    name: str
    kind: str
    position_m: Vec3
    signal: str = "builtin:pink-noise"
    level_db: float = 60.0


BUILTIN_SIGNALS = ("pink-noise", "white-noise", "speech-shaped-noise")


@dataclass(frozen=True)
class Simulation:
    """Settings of the transfer engines.

    fs_hz: sample rate; c_m_s: speed of sound; ism_order: image-source order of the room engine
    (None: 3 with ray tracing, else from Sabine); ray_tracing: hybrid ISM + ray tracing for the
    late tail; early_ms: length kept by the fast "early only" mode; ir_length_s: free-field and
    room IR length (None: automatic).
    """

    fs_hz: int = 48000
    c_m_s: float = SPEED_OF_SOUND_M_S
    ism_order: int | None = None
    ray_tracing: bool = True
    early_ms: float = 50.0
    ir_length_s: float | None = None


@dataclass(frozen=True)
class Scene:
    name: str
    room: Room
    device: Device
    listeners: tuple[Listener, ...] = ()
    sources: tuple[Source, ...] = ()
    simulation: Simulation = field(default_factory=Simulation)
    description: str = ""

    def with_listener(self, index: int, **changes) -> Scene:
        """A copy with listener `index` changed (keyword arguments of `Listener`)."""
        listeners = list(self.listeners)
        listeners[index] = replace(listeners[index], **changes)
        return replace(self, listeners=tuple(listeners))

    def with_source(self, index: int, **changes) -> Scene:
        sources = list(self.sources)
        sources[index] = replace(sources[index], **changes)
        return replace(self, sources=tuple(sources))

    def with_device(self, **changes) -> Scene:
        return replace(self, device=replace(self.device, **changes))


def content_hash(*parts: object) -> str:
    """Stable SHA-256 hex digest of dataclasses / plain values, for caching results.

    A dataclass part becomes {"__type__": class name, fields…}; a dataclass inside another
    becomes its fields alone (as `dataclasses.asdict` has it). A directivity contributes its
    `Directivity.hash_fields` under the name "Directivity", whatever its kind.
    """
    from dataclasses import fields, is_dataclass

    def fields_of(o) -> dict:
        items = (o.hash_fields() if isinstance(o, Directivity)
                 else {f.name: getattr(o, f.name) for f in fields(o)})
        return {k: plain(v, nested=True) for k, v in items.items()}

    def plain(o, nested=False):
        if is_dataclass(o):
            if nested:
                return fields_of(o)
            name = "Directivity" if isinstance(o, Directivity) else type(o).__name__
            return {"__type__": name, **fields_of(o)}
        if isinstance(o, (list, tuple)):
            return [plain(v, nested) for v in o]
        if isinstance(o, dict):
            return {str(k): plain(v, nested) for k, v in o.items()}
        if isinstance(o, float):
            return repr(o)
        return o

    text = json.dumps([plain(p) for p in parts], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
