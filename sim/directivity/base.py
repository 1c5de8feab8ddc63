"""What every directivity kind is, and the registry that finds a kind by its scene-file name.

A kind is a frozen dataclass deriving from `Directivity`, holding its parameters, with one
response function (`Directivity.response`) and its own scene-file read/write; `register` makes
it known by its `kind` name. Adding a kind is adding one class: the engines, the scene files,
the plant tables and the GUI ask the class, never the name.

SI units; angles in rad.  Complex responses use the numpy-FFT sign convention (a delay
``tau`` is ``exp(-1j * 2 * pi * f * tau)``).  The local frame of a transducer has x along its
axis.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Protocol

import numpy as np
from numpy.typing import ArrayLike


def unit(v: ArrayLike) -> np.ndarray:
    """`v` (..., 3) scaled to unit length along the last axis."""
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def angle_off_axis(axis: ArrayLike, directions: ArrayLike) -> np.ndarray:
    """Angle between an axis and directions.

    Args:
        axis: axis vector, shape (3,) or (..., 3); need not be unit length.
        directions: direction vectors, shape (..., 3); need not be unit length.

    Returns:
        Angles in rad, in [0, pi], shape broadcast(axis, directions)[:-1].
    """
    a = np.asarray(axis, dtype=float)
    d = np.asarray(directions, dtype=float)
    # atan2 of |a x d| and a.d stays accurate near 0 and pi, where arccos does not.
    return np.arctan2(np.linalg.norm(np.cross(a, d), axis=-1), np.sum(a * d, axis=-1))


def cos_off_axis(frame: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Cosine of the angle between the axis (column 0 of `frame` (3, 3)) and unit
    `directions` (..., 3), clipped to [-1, 1]; shape (...)."""
    return np.clip(directions @ frame[:, 0], -1.0, 1.0)


class ParamReader(Protocol):
    """One directivity object of a scene file being read (`sim.scene_io` provides it). Each
    method checks one key and raises the file format's error naming the field path."""

    def string(self, key: str, default: Any = ..., choices: tuple[str, ...] | None = None
               ) -> str: ...

    def number(self, key: str, lo: float, hi: float, unit: str = "", default: Any = ...,
               lo_open: bool = False) -> float: ...

    def integer(self, key: str, lo: int, hi: int, default: Any = ...) -> int: ...

    def file(self, key: str, what: str) -> str:
        """Absolute path of the existing `what` file (e.g. "SOFA") the key names."""
        ...

    def folder(self, key: str, what: str) -> str:
        """Absolute path of the existing folder of `what` files (e.g. "FRD") the key names."""
        ...

    def error(self, key: str, message: str) -> Exception:
        """The format's error for `message` about the field `key` (to raise)."""
        ...


@dataclass(frozen=True)
class Directivity:
    """Radiation (driver) or pickup (microphone) pattern: the base of every kind.

    Subclasses set `kind` and `grid_taps`, hold their parameters as fields, and implement
    `response`, `read` and `write` (and `pra_pattern` when `grid_taps` is None).
    """

    kind: ClassVar[str]
    """Name in scene files ("type") and in the registry."""
    grid_taps: ClassVar[int | None] = None
    """How the room engine (pyroomacoustics) takes the pattern: None → as pyroomacoustics'
    own directivity object (`pra_pattern`), which makes the kind usable on a microphone too;
    n → `response` sampled on a direction grid into IRs n taps long at 48 kHz (drivers only)."""
    axisymmetric: ClassVar[bool] = True
    """The response is real and depends on the off-axis angle only (so it can be tabulated
    over that angle, `dsp.plant_table`)."""

    def response(self, freqs_hz: np.ndarray, frame: np.ndarray, directions: np.ndarray,
                 c: float, fs_hz: int) -> np.ndarray:
        """Gain toward room-frame unit `directions` (..., 3) at `freqs_hz` (F,).

        frame: (3, 3) rotation whose column 0 is the transducer axis; c: speed of sound,
        m/s; fs_hz: the sample rate the caller works at (measured patterns are resampled).
        Returns (..., F), real or complex.
        """
        raise NotImplementedError

    def pra_pattern(self, axis: np.ndarray) -> object | None:
        """pyroomacoustics' directivity object along the room-frame unit `axis` (3,); None
        for omni. Only kinds with `grid_taps` None have one."""
        raise TypeError(f"directivity {self.kind!r} has no pyroomacoustics form; the room"
                        f" engine samples it on a grid ({self.grid_taps} taps)")

    @classmethod
    def read(cls, reader: ParamReader) -> Directivity:
        """The kind's parameters from a scene-file object (its "type" already read)."""
        raise NotImplementedError

    def write(self, rel: Callable[[str], str]) -> dict[str, Any]:
        """The kind's parameters for a scene file (without "type"); `rel` turns an absolute
        file path into the form stored in the file."""
        raise NotImplementedError

    @property
    def file(self) -> str | None:
        """The file the response is read from, if any (caches stamp it, so that an edited
        file counts as a change)."""
        return None

    @property
    def radius_m(self) -> float | None:
        """Radius of the radiating surface in m, where the kind has one (for drawing)."""
        return None

    def hash_fields(self) -> dict[str, Any]:
        """What identifies the pattern in cache keys (`sim.scene.content_hash`): "type" and
        the parameters, over the fields every kind had when all were one dataclass, so that
        keys, disk caches and the ray tracer's seeds (drawn from keys) stay as they were."""
        return {**_HASH_BASE, "type": self.kind,
                **{f.name: getattr(self, f.name) for f in fields(self)}}

    def describe(self) -> str:
        """Short text for tables and tooltips."""
        return self.kind


_HASH_BASE = {"p": 0.5, "radius_m": 0.025, "rear_db": -15.0, "file": None, "receiver": 0}

_KINDS: dict[str, type[Directivity]] = {}


def register(cls: type[Directivity]) -> type[Directivity]:
    """Class decorator: make a kind known by its `kind` name."""
    if cls.kind in _KINDS:
        raise ValueError(f"directivity kind {cls.kind!r} is registered twice")
    _KINDS[cls.kind] = cls
    return cls


def kind_names(microphone: bool = False) -> tuple[str, ...]:
    """Registered kind names in registration order; with `microphone`, only the kinds a
    microphone can have (those with a pyroomacoustics form)."""
    return tuple(k for k, cls in _KINDS.items() if not microphone or cls.grid_taps is None)


def directivity_class(kind: str) -> type[Directivity]:
    """The class registered as `kind`; ValueError names the known kinds."""
    try:
        return _KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown directivity kind {kind!r} (known: "
                         f"{', '.join(_KINDS)})") from None


def read_directivity(reader: ParamReader, microphone: bool = False) -> Directivity:
    """The directivity a scene-file object describes: "type" picks the kind (one a
    microphone can have, with `microphone`), which reads its own parameters."""
    return _KINDS[reader.string("type", choices=kind_names(microphone))].read(reader)


def write_directivity(d: Directivity, rel: Callable[[str], str] = str) -> dict[str, Any]:
    """The scene-file object of `d`: {"type": kind, parameters…}."""
    return {"type": d.kind, **d.write(rel)}
