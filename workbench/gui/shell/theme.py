"""Dark and light themes: an explicit Fusion QPalette (the platform colour scheme is not reliable
offscreen or on Linux), matching pyqtgraph colours and the colours of the scene editor.

The chosen theme is kept in `settings.THEME`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

THEMES = ("dark", "light")
DEFAULT_THEME = "dark"


@dataclass(frozen=True)
class SceneColors:
    """Colours of the top-view scene editor and the plots for one theme (hex strings)."""

    background: str
    grid_minor: str
    grid_major: str
    room_fill: str
    room_outline: str
    axis: str
    device_fill: str
    device_outline: str
    driver: str
    mic: str
    listener: str
    listener_fill: str
    talker: str
    noise: str
    selection: str
    label_text: str
    label_back: str
    error: str
    plot_background: str
    plot_foreground: str
    left_ear: str
    right_ear: str


_SCENE_COLORS = {
    # field: (dark, light)
    "background": ("#16181c", "#e9ecf0"),
    "grid_minor": ("#1f2227", "#dfe3e9"),
    "grid_major": ("#2b2f36", "#cfd5dd"),
    "room_fill": ("#1f242b", "#fbfcfd"),
    "room_outline": ("#a9b4c2", "#3d4a5c"),
    "axis": ("#6b7685", "#8a94a3"),
    "device_fill": ("#34404f", "#d5dfeb"),
    "device_outline": ("#c9d4e2", "#2c3a4d"),
    "driver": ("#ffb454", "#d9731a"),
    "mic": ("#5fd3bc", "#138a72"),
    "listener": ("#6cb6ff", "#1f6feb"),
    "listener_fill": ("#1d3550", "#dbe9fd"),
    "talker": ("#7ee08a", "#2a9d46"),
    "noise": ("#ff7b72", "#d1242f"),
    "selection": ("#ffd866", "#d99a00"),
    "label_text": ("#d6dde6", "#1f2933"),
    "label_back": ("#16181cc0", "#fbfcfdd0"),
    "error": ("#ff6b6b", "#c62828"),
    "plot_background": ("#1b1d21", "#ffffff"),
    "plot_foreground": ("#c3cad3", "#303841"),
    "left_ear": ("#58a6ff", "#1f6feb"),
    "right_ear": ("#ff7b72", "#d1242f"),
}
_COLORS = {theme: SceneColors(**{name: pair[k] for name, pair in _SCENE_COLORS.items()})
           for k, theme in enumerate(THEMES)}


def scene_colors(theme: str) -> SceneColors:
    return _COLORS[theme if theme in _COLORS else DEFAULT_THEME]


def palette(theme: str) -> QPalette:
    """The Fusion QPalette of `theme` ("dark" or "light")."""
    dark = theme == "dark"
    c = {
        # role: (dark, light)
        QPalette.ColorRole.Window: ("#2b2d31", "#f0f1f3"),
        QPalette.ColorRole.WindowText: ("#dfe2e7", "#1f2328"),
        QPalette.ColorRole.Base: ("#1e2024", "#ffffff"),
        QPalette.ColorRole.AlternateBase: ("#25282d", "#f5f6f8"),
        QPalette.ColorRole.ToolTipBase: ("#3a3d43", "#ffffe8"),
        QPalette.ColorRole.ToolTipText: ("#e6e8eb", "#1f2328"),
        QPalette.ColorRole.PlaceholderText: ("#7d838c", "#8a9099"),
        QPalette.ColorRole.Text: ("#dfe2e7", "#1f2328"),
        QPalette.ColorRole.Button: ("#35383d", "#e7e9ec"),
        QPalette.ColorRole.ButtonText: ("#dfe2e7", "#1f2328"),
        QPalette.ColorRole.BrightText: ("#ff6b6b", "#c62828"),
        QPalette.ColorRole.Light: ("#45484e", "#ffffff"),
        QPalette.ColorRole.Midlight: ("#3b3e44", "#e3e5e8"),
        QPalette.ColorRole.Mid: ("#2a2c30", "#b8bcc2"),
        QPalette.ColorRole.Dark: ("#1b1c1f", "#9ea3aa"),
        QPalette.ColorRole.Shadow: ("#0d0e10", "#6b7078"),
        QPalette.ColorRole.Highlight: ("#3d7bd9", "#2f6fdb"),
        QPalette.ColorRole.HighlightedText: ("#ffffff", "#ffffff"),
        QPalette.ColorRole.Link: ("#6cb6ff", "#1f6feb"),
        QPalette.ColorRole.LinkVisited: ("#b392f0", "#8250df"),
    }
    pal = QPalette()
    for role, (d, light) in c.items():
        pal.setColor(role, QColor(d if dark else light))
    disabled = QColor("#6f747c" if dark else "#a0a5ad")
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text,
                 QPalette.ColorRole.ButtonText, QPalette.ColorRole.HighlightedText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Highlight,
                 QColor("#44474d" if dark else "#c9ccd1"))
    return pal


def apply_theme(app: QApplication, theme: str) -> str:
    """Set Fusion, the palette and pyqtgraph defaults for `theme`; return the theme applied."""
    if theme not in THEMES:
        theme = DEFAULT_THEME
    app.setStyle("Fusion")
    app.setPalette(palette(theme))
    colors = scene_colors(theme)
    pg.setConfigOptions(background=colors.plot_background, foreground=colors.plot_foreground,
                        antialias=True)
    app.setProperty("awb_theme", theme)
    return theme


def current_theme() -> str:
    app = QApplication.instance()
    theme = app.property("awb_theme") if app is not None else None
    return theme if theme in THEMES else DEFAULT_THEME

