"""A measured driver directivity from a folder of FRD files, one per polar angle
(`sim.directivity.frd_files` reads the folder and states what it must hold).

The polar table (`FrdPattern`): every file is brought onto the frequency grid of the
horizontal 0° file (magnitude in dB and phase unwrapped along frequency, linear in log
frequency); levels are taken re the on-axis file's mean level in dB (the driver's response
shape is kept, its sensitivity is not: that is the driver's ``gain_db``); the on-axis bulk
delay (least-squares phase slope where the on-axis level is within 20 dB of its peak) is
removed from every angle, keeping the delays between angles, so the pattern fits the room
engine's short direction IRs. The phase must turn by less than half a turn between rows to be
unwrapped: at 1/48 octave near 20 kHz that is a delay under ~1.7 ms; remove a longer one before
exporting (REW: the IR's peak at t = 0).

A direction at off-axis angle θ and roll φ around the axis (φ = 0 toward +y, the driver's
left; 90° toward +z, up) gets the horizontal response at ±θ (+ where y ≥ 0) and the vertical
one at ±θ (+ where z ≥ 0), blended with weights cos²φ and sin²φ. Without vertical files the
vertical response at ±θ is the mean of the horizontal ones at +θ and −θ: a pattern measured
symmetric is then the same in every plane through the axis.

Between grid frequencies, magnitude in dB and phase unwrapped along frequency are interpolated
linearly in log frequency (held outside the measured band). Between measured angles the
complex responses (bulk delay removed) are interpolated with a periodic cubic Hermite spline
whose slopes are the central differences (Catmull-Rom on the measured, possibly uneven,
angles). Why complex across angle and not dB and phase: polars pass through nulls (a 2.5 cm
piston's first null crosses 57° at 10 kHz) where the level is −∞ dB and the phase turns by
180°, and dB/phase interpolation between the angles either side of a null puts a −25 dB level
where the null is: from FRD files at 10° steps of that piston, at the 5° offsets over 1–10 kHz
where the true level is above −20 dB re on axis, linear dB/phase interpolation errs by up to
0.92 dB and the complex cubic by 0.27 dB; above −30 dB by 8.9 and 0.75 dB
(`tests/test_directivity_frd.py`).
The cost: measured phases must be consistent between neighbouring angles, i.e. the driver
measured with its acoustic centre on the turntable axis, as VituixCAD expects too.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from sim.directivity.base import Directivity, ParamReader, register, unit
from sim.directivity.frd_files import (
    FrdError,
    PlaneFiles,
    folder_stamp,
    mirrored,
    read_frd,
    scan_folder,
)
from sim.directivity.measured import bulk_delay_s

__all__ = ["Frd", "FrdError", "FrdPattern", "load_frd_pattern"]


def _onto(grid_hz: np.ndarray, freqs_hz: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """rows (A, G) on `grid_hz` linearly interpolated in log frequency onto freqs_hz (F,),
    held outside the grid → (A, F)."""
    lg = np.log(grid_hz)
    lf = np.log(np.clip(freqs_hz, grid_hz[0], grid_hz[-1]))
    if grid_hz.size == 1:
        return np.repeat(rows, lf.size, axis=-1)
    hi = np.clip(np.searchsorted(lg, lf), 1, lg.size - 1)
    t = (lf - lg[hi - 1]) / (lg[hi] - lg[hi - 1])
    return rows[:, hi - 1] * (1.0 - t) + rows[:, hi] * t


@dataclass(frozen=True, eq=False)
class PlaneTable:
    """One plane around the circle: angles_deg (A,) ascending in (−180, 180], level_db and
    phase_rad (A, G) on the pattern's grid (phase unwrapped along frequency)."""

    angles_deg: np.ndarray
    level_db: np.ndarray
    phase_rad: np.ndarray

    def at(self, grid_hz: np.ndarray, freqs_hz: np.ndarray):
        """The plane at `freqs_hz` (F,) as a function: signed angles (...) in degrees →
        complex responses (..., F), periodic cubic Hermite in angle (module docstring)."""
        rows = 10.0 ** (_onto(grid_hz, freqs_hz, self.level_db) / 20.0) * np.exp(
            1j * _onto(grid_hz, freqs_hz, self.phase_rad))  # (A, F)
        a = self.angles_deg
        # Extended periodically by one angle before and two after: every segment then has
        # both neighbours its slopes need.
        ax = np.concatenate([[a[-1] - 360.0], a, [a[0] + 360.0, a[1 % a.size] + 360.0]])
        vx = np.concatenate([rows[-1:], rows, rows[:1], rows[1 % a.size:][:1]])
        slope = np.zeros_like(vx)
        slope[1:-1] = (vx[2:] - vx[:-2]) / (ax[2:] - ax[:-2])[:, None]

        def lookup(angle_deg: np.ndarray) -> np.ndarray:
            x = np.where(angle_deg < a[0], angle_deg + 360.0, angle_deg)
            hi = np.clip(np.searchsorted(ax, x), 2, a.size + 1)
            lo = hi - 1
            h = (ax[hi] - ax[lo])[..., None]
            t = (x[..., None] - ax[lo][..., None]) / h
            t2, t3 = t * t, t * t * t
            return ((2 * t3 - 3 * t2 + 1) * vx[lo] + (t3 - 2 * t2 + t) * h * slope[lo]
                    + (3 * t2 - 2 * t3) * vx[hi] + (t3 - t2) * h * slope[hi])

        return lookup


@dataclass(frozen=True, eq=False)
class FrdPattern:
    """A driver's measured polar table (see the module docstring).

    freqs_hz (G,): the grid (the horizontal 0° file's); horizontal: the horizontal plane;
    vertical: the vertical plane or None; ref_db: the on-axis mean level removed; delay_s:
    the on-axis bulk delay removed; files: every file read.
    """

    freqs_hz: np.ndarray
    horizontal: PlaneTable
    vertical: PlaneTable | None
    ref_db: float
    delay_s: float
    files: tuple[Path, ...]

    def gain(self, freqs_hz: ArrayLike, directions_local: ArrayLike) -> np.ndarray:
        """Complex response (..., F) toward `directions_local` (..., 3) (driver frame, x =
        axis) at `freqs_hz` (F,)."""
        f = np.atleast_1d(np.asarray(freqs_hz, dtype=float))
        d = unit(directions_local)
        x, y, z = d[..., 0], d[..., 1], d[..., 2]
        theta = np.degrees(np.arctan2(np.hypot(y, z), x))
        hor = self.horizontal.at(self.freqs_hz, f)
        h = hor(np.where(y >= 0.0, theta, -theta))
        if self.vertical is not None:
            v = self.vertical.at(self.freqs_hz, f)(np.where(z >= 0.0, theta, -theta))
        else:
            v = 0.5 * (h + hor(np.where(y >= 0.0, -theta, theta)))
        r2 = y**2 + z**2
        w = np.where(r2 > 0.0, y**2 / np.where(r2 > 0.0, r2, 1.0), 1.0)[..., None]
        return w * h + (1.0 - w) * v


def _plane_table(plane: PlaneFiles, grid: np.ndarray) -> PlaneTable:
    """A plane's files on `grid` (level dB, phase rad unwrapped along frequency), one-sided
    sets mirrored."""
    level, phase = [], []
    for path in plane.files:
        data = read_frd(path)
        rows = np.vstack([data[:, 1], np.unwrap(np.radians(data[:, 2]))])
        lv, ph = _onto(data[:, 0], grid, rows)
        level.append(lv)
        phase.append(ph)
    measured = np.array(plane.angles_deg)
    full = mirrored(measured)
    # Each angle of the full circle reads the measured row at it, else at its mirror image.
    src = [int(np.flatnonzero(np.isclose(measured, a) if np.any(np.isclose(measured, a))
                              else np.isclose(measured, -a))[0]) for a in full]
    return PlaneTable(full, np.array(level)[src], np.array(phase)[src])


@functools.lru_cache(maxsize=16)
def _load(folder: str, driver: str, stamp: tuple) -> FrdPattern:
    _, hor, ver = scan_folder(Path(folder), driver)
    grid = read_frd(hor.files[hor.angles_deg.index(0.0)])[:, 0]
    h = _plane_table(hor, grid)
    v = _plane_table(ver, grid) if ver is not None else None
    on = int(np.flatnonzero(h.angles_deg == 0.0)[0])
    ref_db = float(np.mean(h.level_db[on]))
    tau = bulk_delay_s(grid, h.level_db[on], h.phase_rad[on])
    ramp = 2 * np.pi * grid * tau  # adding it advances every angle by tau

    def norm(p: PlaneTable) -> PlaneTable:
        return PlaneTable(p.angles_deg, p.level_db - ref_db, p.phase_rad + ramp)

    files = hor.files + (ver.files if ver is not None else ())
    return FrdPattern(grid, norm(h), norm(v) if v is not None else None, ref_db, tau, files)


def load_frd_pattern(folder: str | Path, driver: str = "") -> FrdPattern:
    """The polar table of `driver` (or the folder's only driver) in `folder`, read again when
    a file changes. FrdError names the file and what was expected."""
    return _load(str(folder), driver, folder_stamp(str(folder)))


@register
@dataclass(frozen=True)
class Frd(Directivity):
    """Measured polars: `folder` (absolute path) of FRD files of `driver` ("" = the folder's
    only driver), read when made (FrdError, a ValueError, for a folder that cannot be used);
    scene file: ``{"type": "frd", "folder": "woofer-polars", "driver":
    "woofer"}``, the folder relative to the scene file. Responses interpolated between the
    measured angles (`FrdPattern`)."""

    kind = "frd"
    grid_taps = 256
    axisymmetric = False
    folder: str = ""
    driver: str = ""

    def __post_init__(self) -> None:
        # Checked when made, so that an editor's bad choice is refused with the reason and
        # the scene keeps its directivity (FrdError is a ValueError).
        if not self.folder:
            raise FrdError("frd directivity without a folder; expected a folder of FRD files")
        self.pattern()

    def pattern(self) -> FrdPattern:
        """The polar table (read once per folder content)."""
        return load_frd_pattern(self.folder, self.driver)

    def response(self, freqs_hz: np.ndarray, frame: np.ndarray, directions: np.ndarray,
                 c: float, fs_hz: int) -> np.ndarray:
        return self.pattern().gain(np.asarray(freqs_hz, dtype=float), directions @ frame)

    @property
    def file(self) -> str | None:
        return self.folder or None

    @classmethod
    def read(cls, reader: ParamReader) -> Frd:
        folder = reader.folder("folder", "FRD")
        driver = reader.string("driver", default="")
        try:
            return cls(folder=folder, driver=driver)
        except FrdError as e:
            raise reader.error("folder", str(e)) from e

    def write(self, rel: Callable[[str], str]) -> dict[str, Any]:
        return {"folder": rel(self.folder), "driver": self.driver}

    def describe(self) -> str:
        return f"frd {self.driver or Path(self.folder).name}"
