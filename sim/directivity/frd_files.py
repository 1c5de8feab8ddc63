"""Folders of FRD files (one measured polar angle per file), as VituixCAD and REW users keep
them: reading them into polar tables, and writing a model out as such a folder.

An FRD file is text, one row per frequency: frequency (Hz), magnitude (dB), phase (°),
separated by whitespace, commas or semicolons; lines starting with ``*``, ``#``, ``;`` or
``"`` and blank lines are comments. Frequencies rise strictly; every value is finite.

File names (case-insensitive, suffix ``.frd``): ``<driver>[ _][<plane>][ _]<angle>.frd`` with
plane ``hor``/``horizontal``/``h`` or ``ver``/``vert``/``vertical``/``v`` (none: horizontal)
and the angle in degrees, signed or not, e.g. "woofer hor 30.frd", "woofer_hor_-30.frd",
"woofer 30.frd", "woofer ver 20.frd". Horizontal angles are positive toward the driver's left
(+y of its local frame, counter-clockwise seen from above, as azimuths in the scene), vertical
ones upward (+z). A folder may hold several drivers; one is chosen by name.

What a folder must hold (else `FrdError` naming the file or folder and what was expected):
horizontal files including 0°; angles in −180..180; after mirroring (below), no gap between
neighbouring angles around the circle wider than `MAX_GAP_DEG`. A plane measured on one side
only (all angles ≥ 0 or all ≤ 0) is mirrored: the response at −a is taken to be the one at a,
as for a driver symmetric about that plane. The vertical plane is optional (without it the
pattern is taken as the same in every plane through the axis, `sim.directivity.frd`); with it,
the same rules apply to it. −180° is the same direction as 180°: where both are given, 180° is
used.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.constants import SPEED_OF_SOUND_M_S
from sim.outputs import batch, write_text

MAX_GAP_DEG = 30.0
"""Widest gap allowed between neighbouring measured angles of a plane (after mirroring)."""

MAX_FILE_BYTES = 4_000_000
"""Largest FRD file read (a 1/96-octave sweep over 20 Hz–20 kHz is ~40 kB)."""

_NAME = re.compile(
    r"^(?P<driver>.*?)(?:(?:^|[ _]+)(?P<plane>horizontal|hor|h|vertical|vert|ver|v))?[ _]*"
    r"(?P<angle>[+-]?\d+(?:\.\d+)?)\.frd$", re.IGNORECASE)
_COMMENT = ("*", "#", ";", '"')
_SPLIT = re.compile(r"[\s,;]+")


class FrdError(ValueError):
    """An FRD file or folder that cannot be used; the message names it and what was expected."""


@dataclass(frozen=True)
class FrdName:
    """What a file name says: driver name, plane ("hor" | "ver"), angle in degrees."""

    driver: str
    plane: str
    angle_deg: float


def parse_name(name: str) -> FrdName | None:
    """The driver, plane and angle a file name gives, None if it does not follow the pattern
    (see the module docstring)."""
    m = _NAME.match(name)
    if m is None:
        return None
    plane = (m["plane"] or "h").lower()
    return FrdName(m["driver"].strip(" _"), "ver" if plane.startswith("v") else "hor",
                   float(m["angle"]))


def read_frd(path: Path) -> np.ndarray:
    """One FRD file as rows (N, 3): frequency Hz (strictly rising, > 0), magnitude dB,
    phase °. FrdError names the file (and the line) and what was expected."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise FrdError(f"{path}: larger than {MAX_FILE_BYTES // 1_000_000} MB; expected an"
                           " FRD text file")
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        raise FrdError(f"{path}: cannot be read ({e.strerror or e})") from None
    rows = []
    for n, line in enumerate(text.splitlines(), start=1):
        s = line.strip()
        if not s or s.startswith(_COMMENT):
            continue
        cols = [c for c in _SPLIT.split(s) if c]
        if len(cols) != 3:
            raise FrdError(f"{path}, line {n}: {len(cols)} columns; expected 3 (frequency Hz,"
                           " magnitude dB, phase °)")
        try:
            row = [float(c) for c in cols]
        except ValueError:
            raise FrdError(f"{path}, line {n}: {s[:60]!r} is not three numbers; expected"
                           " frequency Hz, magnitude dB, phase °") from None
        if not all(math.isfinite(v) for v in row):
            raise FrdError(f"{path}, line {n}: {s[:60]!r} holds a NaN or infinite value;"
                           " expected finite numbers")
        rows.append(row)
    if len(rows) < 2:
        raise FrdError(f"{path}: {len(rows)} data rows; expected at least 2 rows of frequency"
                       " Hz, magnitude dB, phase °")
    data = np.array(rows)
    if data[0, 0] <= 0.0:
        raise FrdError(f"{path}: frequency {data[0, 0]:g} Hz; expected frequencies above 0 Hz")
    bad = np.flatnonzero(np.diff(data[:, 0]) <= 0.0)
    if bad.size:
        k = int(bad[0])
        raise FrdError(f"{path}: frequency {data[k + 1, 0]:g} Hz follows {data[k, 0]:g} Hz;"
                       " expected strictly rising frequencies")
    return data


@dataclass(frozen=True)
class PlaneFiles:
    """One measured plane: angles (A,) in degrees, ascending, as measured (not mirrored),
    and the file of each."""

    angles_deg: tuple[float, ...]
    files: tuple[Path, ...]


def scan_folder(folder: Path, driver: str = "") -> tuple[str, PlaneFiles, PlaneFiles | None]:
    """The driver's horizontal and (optional) vertical files in `folder`.

    driver: the name the files start with; "" when the folder holds one driver. Returns the
    driver name, the horizontal plane and the vertical plane (None when not measured).
    FrdError for an unreadable name, several drivers without a choice, a missing driver, no
    horizontal files, an angle out of −180..180 or given twice, no 0°, or a gap wider than
    `MAX_GAP_DEG`.
    """
    try:
        names = sorted(p.name for p in folder.iterdir() if p.suffix.lower() == ".frd")
    except OSError as e:
        raise FrdError(f"{folder}: cannot be listed ({e.strerror or e}); expected a folder of"
                       " FRD files") from None
    parsed = {}
    for name in names:
        p = parse_name(name)
        if p is None:
            raise FrdError(f"{folder / name}: name not understood; expected '<driver> [hor|ver]"
                           " <angle>.frd', e.g. 'woofer hor -30.frd'")
        parsed[name] = p
    drivers = sorted({p.driver for p in parsed.values()})
    if not drivers:
        raise FrdError(f"{folder}: no .frd files; expected one per angle, e.g. 'woofer hor"
                       " 30.frd'")
    if not driver:
        if len(drivers) > 1:
            raise FrdError(f"{folder}: holds FRD files of {len(drivers)} drivers"
                           f" ({', '.join(map(repr, drivers))}); expected a driver name")
        driver = drivers[0]
    elif driver not in drivers:
        raise FrdError(f"{folder}: no FRD files of driver {driver!r}; expected names starting"
                       f" with it (found: {', '.join(map(repr, drivers))})")
    planes = {}
    for plane in ("hor", "ver"):
        chosen = {n: p for n, p in parsed.items() if p.driver == driver and p.plane == plane}
        if not chosen and plane == "hor":
            raise FrdError(f"{folder}: no horizontal FRD files of driver {driver!r}; expected"
                           f" e.g. '{driver} hor 0.frd' (the horizontal plane is required)")
        planes[plane] = _plane(folder, chosen, plane) if chosen else None
    return driver, planes["hor"], planes["ver"]


def _plane(folder: Path, chosen: dict[str, FrdName], plane: str) -> PlaneFiles:
    """One plane's files ordered by angle, checked for range, duplicates, 0° and gaps."""
    by_angle: dict[float, str] = {}
    for name, p in sorted(chosen.items(), key=lambda kv: kv[1].angle_deg):
        if not -180.0 <= p.angle_deg <= 180.0:
            raise FrdError(f"{folder / name}: angle {p.angle_deg:g}°; expected −180..180°")
        a = 180.0 if p.angle_deg == -180.0 else p.angle_deg
        if a in by_angle and p.angle_deg != -180.0:
            raise FrdError(f"{folder / name}: angle {a:g}° ({plane}) is also given by"
                           f" {by_angle[a]!r}; expected one file per angle")
        by_angle.setdefault(a, name)
    what = "horizontal" if plane == "hor" else "vertical"
    if 0.0 not in by_angle:
        raise FrdError(f"{folder}: no {what} 0° file among {len(by_angle)}; expected the on-axis"
                       " response (e.g. '… 0.frd')")
    angles = np.array(sorted(by_angle))
    full = mirrored(angles)
    gaps = np.diff(np.append(full, full[0] + 360.0))
    k = gaps.size - 1 - int(np.argmax(gaps[::-1]))  # of mirrored twins, the + side one
    if gaps[k] > MAX_GAP_DEG + 1e-9:
        hi = full[(k + 1) % full.size]
        raise FrdError(f"{folder}: {what} angles {full[k]:g}° and {hi:g}° are {gaps[k]:g}°"
                       f" apart; expected no gap wider than {MAX_GAP_DEG:g}° around the circle"
                       " (one side may be mirrored: 0..180°)")
    return PlaneFiles(tuple(float(a) for a in angles),
                      tuple(folder / by_angle[a] for a in angles))


def mirrored(angles_deg: np.ndarray) -> np.ndarray:
    """Measured angles (ascending, in −180..180) with a one-sided set mirrored to the other
    side, in (−180, 180], ascending."""
    a = np.asarray(angles_deg, dtype=float)
    if np.all(a >= 0.0) or np.all(a <= 0.0):
        a = np.concatenate([a, -a])
    a = np.where(a <= -180.0, 180.0, a)
    return np.unique(a)


def folder_stamp(folder: str | Path) -> tuple:
    """(name, size, mtime) of every file in `folder`, sorted (empty when it cannot be
    listed): an edited, added or removed file changes it, which caches key on."""
    try:
        entries = sorted(Path(folder).iterdir())
    except OSError:
        return ()
    out = []
    for p in entries:
        try:
            st = p.stat()
        except OSError:
            continue
        if not p.is_dir():
            out.append((p.name, st.st_size, st.st_mtime_ns))
    return tuple(out)


def write_frd_folder(directivity, folder: str | Path, driver: str = "driver",
                     angles_deg=tuple(range(0, 181, 10)), freqs_hz=None,
                     vertical: bool = False, c: float = SPEED_OF_SOUND_M_S,
                     fs_hz: int = 48000) -> list[Path]:
    """Write a directivity's polar responses as FRD files "<driver> hor <angle>.frd" (and
    "<driver> ver <angle>.frd" with `vertical`), one per angle, into `folder` (created).

    directivity: any `sim.directivity.Directivity` (its local frame: axis +x, horizontal
    angles toward +y, vertical toward +z); angles_deg: the angles written; freqs_hz: the
    frequency rows (default 20 Hz–20 kHz, 48 per octave); c, fs_hz: passed to its response.
    Magnitude in dB re 1, phase in degrees wrapped to (−180, 180]. All files are one
    `sim.outputs.batch`. Returns the paths written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    f = (np.geomspace(20.0, 20000.0, int(48 * np.log2(1000.0)) + 1) if freqs_hz is None
         else np.asarray(freqs_hz, dtype=float))
    a = np.deg2rad(np.asarray(angles_deg, dtype=float))
    planes = [("hor", np.stack([np.cos(a), np.sin(a), np.zeros_like(a)], axis=-1))]
    if vertical:
        planes.append(("ver", np.stack([np.cos(a), np.zeros_like(a), np.sin(a)], axis=-1)))
    out = []
    with batch():
        for plane, dirs in planes:
            g = np.asarray(directivity.response(f, np.eye(3), dirs, c, fs_hz), dtype=complex)
            g = np.broadcast_to(g, (len(dirs), f.size))
            for ang, row in zip(np.asarray(angles_deg, dtype=float), g, strict=True):
                mag = 20 * np.log10(np.maximum(np.abs(row), 1e-12))
                phase = np.degrees(np.angle(row))
                lines = [f"* {driver} {plane} {ang:g} deg: frequency Hz, magnitude dB,"
                         " phase deg"]
                lines += [f"{fv:.6g} {m:.6f} {p:.4f}" for fv, m, p in zip(f, mag, phase,
                                                                          strict=True)]
                out.append(write_text(folder / f"{driver} {plane} {ang:g}.frd",
                                      "\n".join(lines) + "\n"))
    return out
