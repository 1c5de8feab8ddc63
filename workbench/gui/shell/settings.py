"""Every QSettings key of the GUI, declared once with its type and default.

GUI code reads and writes its settings only through these `Setting`s
(`settings.SNAP.get()`, `settings.SNAP.set(False)`); nothing else names a key. The store is
`QSettings()` (organisation and application names from `app.configure_application`), so tests
that point QSettings at a scratch INI file isolate these too. INI files hold strings only: a
value read back is converted to the declared type, and a value that cannot be (or that is not
one of `choices`, or outside `limits`) reads as the default.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QByteArray, QSettings

from dsp.listening import PATHS
from dsp.params import METHODS
from dsp.plant_timing import PlantTiming
from dsp.renderer import C_METHODS, DESIGN_SPACES, LR_METHODS, RenderParams
from dsp.upmix import UpmixParams
from workbench.gui.shell.theme import DEFAULT_THEME, THEMES

T = TypeVar("T")


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise ValueError(f"not a bool: {value!r}")


def _to_strs(value: Any) -> tuple[str, ...]:
    """A string list (QSettings gives a bare string for a one-element list)."""
    if isinstance(value, str):
        return (value,) if value else ()
    return tuple(str(v) for v in value or ())


def _to_bytes(value: Any) -> QByteArray:
    if not isinstance(value, (QByteArray, bytes)):
        raise ValueError(f"not bytes: {type(value).__name__}")
    return QByteArray(value)


def _csv(value: Any) -> tuple[str, ...]:
    return tuple(v for v in str(value).split(",") if v)


def _within(limits: tuple[float, float]) -> Callable[[Any], float]:
    lo, hi = limits

    def decode(value: Any) -> float:
        v = float(value)
        if not lo <= v <= hi:  # NaN fails too
            raise ValueError(f"{v!r} is outside {lo:g} .. {hi:g}")
        return v

    return decode


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One key: `decode` turns what QSettings returns into T (raising ValueError or TypeError
    when it cannot), `encode` turns T into what is stored; `choices` (optional) are the values
    (or, for a tuple, the items) allowed; `limits` (optional, numbers) the inclusive range
    allowed (a spin box offers the same)."""

    key: str
    default: T
    decode: Callable[[Any], T]
    encode: Callable[[T], Any] = lambda v: v
    choices: tuple | None = None
    limits: tuple[float, float] | None = None

    def get(self) -> T:
        """The stored value, or the default when none is stored or it is not valid."""
        raw = QSettings().value(self.key)
        if raw is None:
            return self.default
        try:
            value = self.decode(raw)
        except (TypeError, ValueError):
            return self.default
        if self.choices is None:
            return value
        if isinstance(value, tuple):
            kept = tuple(v for v in value if v in self.choices)
            return kept if kept else self.default
        return value if value in self.choices else self.default

    def set(self, value: T) -> None:
        QSettings().setValue(self.key, self.encode(value))

    def is_stored(self) -> bool:
        return QSettings().contains(self.key)

    def remove(self) -> None:
        QSettings().remove(self.key)


def flag(key: str, default: bool) -> Setting[bool]:
    return Setting(key, default, _to_bool)


def integer(key: str, default: int, choices: tuple[int, ...] | None = None) -> Setting[int]:
    return Setting(key, default, int, choices=choices)


def number(key: str, default: float, limits: tuple[float, float]) -> Setting[float]:
    """A float in the inclusive range `limits`."""
    return Setting(key, default, _within(limits), limits=limits)


def text(key: str, default: str = "", choices: tuple[str, ...] | None = None) -> Setting[str]:
    return Setting(key, default, str, choices=choices)


def words(key: str, default: tuple[str, ...] = (), choices: tuple[str, ...] | None = None
          ) -> Setting[tuple[str, ...]]:
    """A tuple of words stored as one comma-separated string."""
    return Setting(key, default, _csv, ",".join, choices)


def string_list(key: str) -> Setting[tuple[str, ...]]:
    """A tuple of strings stored as a QSettings list."""
    return Setting(key, (), _to_strs, list)


def blob(key: str) -> Setting[QByteArray | None]:
    """Opaque bytes (Qt's saved window geometry and dock state); None when none is stored."""
    return Setting(key, None, _to_bytes)


HOME = str(Path.home())

# -- window and view ---------------------------------------------------------------------------
WINDOW_GEOMETRY = blob("window/geometry")
WINDOW_STATE = blob("window/state")
"""The dock layout (`QMainWindow.saveState`); not stored = the default layout."""
SNAP = flag("view/snap", True)
THEME = text("view/theme", DEFAULT_THEME, THEMES)

# -- files -------------------------------------------------------------------------------------
LAST_DIR = text("file/lastDir", HOME)
"""Folder of the last scene opened or saved."""
RECENT_FILES = string_list("file/recent")
"""Absolute paths, most recent first (`recent.py` keeps the list short and current)."""

# -- design ------------------------------------------------------------------------------------
DESIGN_METHOD = text("design/method", "ctc", METHODS)
"""The method the user chose last: the next session's default."""
ZONE_OVERLAY = flag("design/zoneOverlay", True)
AUTO_REDESIGN = flag("design/autoRedesign", True)
EXPORT_DIR = text("design/exportDir")
"""Last export folder ("" = none yet: the dialog suggests one)."""
EXPORT_FORMATS = words("design/exportFormats")
"""Formats ticked last (empty = none saved yet: all)."""
PLANT_DIR = text("design/plantDir", HOME)
"""Folder of the last measured plant chosen (Design ▸ Use Measured Plant…)."""
PLANT_TIMING = text("design/plantTiming", PlantTiming.GEOMETRY.value,
                    tuple(t.value for t in PlantTiming))
"""How a measured plant's time axis is read (`dsp.plant_timing`; Design ▸ Keep Measured Timing
Between Drivers)."""

# -- sweep -------------------------------------------------------------------------------------
SWEEP_OVERLAY = flag("sweep/floorOverlay", True)

# -- audio and renderer ------------------------------------------------------------------------
AUDIO_DEVICE = text("audio/device")
"""Label of the chosen output device ("" = the system default)."""
RENDERER_BLOCK = integer("renderer/block", 512)
"""Player block in samples (the controller keeps it to its BLOCKS)."""
RENDERER_PATHS = text("renderer/paths", "auto")
"""Listening-path engine (the controller keeps it to its MODES)."""
RENDERER_OPEN_DIR = text("renderer/openDir", HOME)
_RENDER = RenderParams()
_UPMIX = UpmixParams()
# The Settings tab's renderer and upmix parameters (`render.remembered`; the listener is the
# scene's, never remembered). Limits are the tab's ranges, inside what `dsp.renderer` and
# `dsp.upmix` accept.
RENDERER_LR_METHOD = text("renderer/lrMethod", _RENDER.lr_method, LR_METHODS)
RENDERER_C_METHOD = text("renderer/cMethod", _RENDER.c_method, C_METHODS)
RENDERER_TAPS = integer("renderer/taps", _RENDER.n_taps, (256, 512, 1024, 2048, 4096, 8192))
RENDERER_MAX_EFFORT_DB = number("renderer/maxEffortDb", _RENDER.max_effort_db, (0.0, 40.0))
RENDERER_DESIGN_SPACE = text("renderer/designSpace", _RENDER.design_space, DESIGN_SPACES)
RENDERER_EARLY_WINDOW_MS = number("renderer/earlyWindowMs", _RENDER.early_window_ms,
                                  (1.0, 200.0))
RENDERER_ROOM_MAX_HZ = number("renderer/roomMaxHz", _RENDER.room_max_hz, (100.0, 48000.0))
"""Capped at half the scene's rate when the network is designed (a larger value is refused
there, naming it)."""
UPMIX_FRAME = integer("renderer/upmixFrame", _UPMIX.frame, (256, 512, 1024, 2048, 4096, 8192))
UPMIX_CENTRE_WIDTH = number("renderer/centreWidth", _UPMIX.centre_width, (0.001, 0.1))
UPMIX_SMOOTHING_MS = number("renderer/smoothingMs", _UPMIX.smoothing_ms, (0.0, 500.0))
UPMIX_FLOOR_DB = number("renderer/floorDb", _UPMIX.floor_db, (-120.0, 0.0))
UPMIX_AMBIENCE = number("renderer/ambience", _UPMIX.ambience, (0.0, 1.0))
UPMIX_CENTRE_GAIN_DB = number("renderer/centreGainDb", _UPMIX.centre_gain_db, (-20.0, 12.0))
RENDER_DIR = text("renderer/renderDir")
"""Last offline-render folder ("" = none yet: the dialog suggests one)."""
RENDER_PATHS = words("renderer/renderPaths", PATHS, PATHS)
RENDER_CUES = flag("renderer/renderCues", True)

