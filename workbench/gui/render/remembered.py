"""The Renderer's Settings tab, remembered: the renderer and upmix parameters read from and
written to their keys in `gui.shell.settings` (a stored value that is not valid reads as the
default). The listener is the open scene's and is never remembered: `saved_params()` designs for
the first one.
"""

from __future__ import annotations

from dsp.renderer import RenderParams
from dsp.upmix import UpmixParams
from workbench.gui.shell import settings as s

_UPMIX_KEYS = {"frame": s.UPMIX_FRAME, "centre_width": s.UPMIX_CENTRE_WIDTH,
               "smoothing_ms": s.UPMIX_SMOOTHING_MS, "floor_db": s.UPMIX_FLOOR_DB,
               "ambience": s.UPMIX_AMBIENCE, "centre_gain_db": s.UPMIX_CENTRE_GAIN_DB}
_RENDER_KEYS = {"lr_method": s.RENDERER_LR_METHOD, "c_method": s.RENDERER_C_METHOD,
                "n_taps": s.RENDERER_TAPS, "max_effort_db": s.RENDERER_MAX_EFFORT_DB,
                "design_space": s.RENDERER_DESIGN_SPACE,
                "early_window_ms": s.RENDERER_EARLY_WINDOW_MS,
                "room_max_hz": s.RENDERER_ROOM_MAX_HZ}


def saved_params() -> RenderParams:
    """The parameters the user left the tab with (defaults where none are stored)."""
    upmix = UpmixParams(**{name: key.get() for name, key in _UPMIX_KEYS.items()})
    return RenderParams(upmix=upmix, **{name: key.get() for name, key in _RENDER_KEYS.items()})


def remember_params(params: RenderParams) -> None:
    """Store the tab's parameters of `params` (its listener and Design-panel overrides are
    not the tab's)."""
    for name, key in _RENDER_KEYS.items():
        key.set(getattr(params, name))
    for name, key in _UPMIX_KEYS.items():
        key.set(getattr(params.upmix, name))
