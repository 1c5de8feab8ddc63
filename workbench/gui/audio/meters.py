"""Level meters of the audition output: peak and RMS per ear after the limiter, the limiter's
gain reduction, and the RMS of the upmix's L, R and C.

A painted widget fed `dsp.audition.Meter` readings (the panel's timer polls the engine). Peak
markers hold for `HOLD_S` and then fall at `FALL_DB_PER_S`; the bars themselves follow the
readings. Nothing here measures anything: the levels come from the player.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from workbench.gui.shell.theme import SceneColors, current_theme, scene_colors

FLOOR_DB = -60.0
GR_RANGE_DB = 24.0
HOLD_S = 1.5
FALL_DB_PER_S = 20.0
SCALE_DB = (0, -6, -12, -24, -36, -48, -60)
WARN_DB, HOT_DB = -12.0, -3.0


def fraction(db: float, floor_db: float = FLOOR_DB) -> float:
    """Bar height 0..1 of a level in dBFS on a linear-in-dB scale from floor_db to 0."""
    if db != db or db <= floor_db:  # NaN or below the floor
        return 0.0
    return min(1.0, 1.0 - db / floor_db)


class LevelMeters(QWidget):
    """Bars: output L/R (RMS bar, peak marker, held peak), gain reduction (down from the
    top), upmix L/R/C (RMS)."""

    NAMES = ("L", "R", "GR", "L", "R", "C")

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("levelMeters")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(150, 110)
        self.colors = scene_colors(current_theme())
        self.values = {"peak": (FLOOR_DB, FLOOR_DB), "rms": (FLOOR_DB, FLOOR_DB), "gr": 0.0,
                       "lrc": (FLOOR_DB, FLOOR_DB, FLOOR_DB)}
        self.updates = 0      # readings shown so far (tests: the meters moved)
        self._hold = [FLOOR_DB, FLOOR_DB]
        self._hold_t = [0.0, 0.0]
        self.setToolTip("Output peak (marker, held) and RMS (bar) per ear after the −1 dBFS "
                        "limiter; GR: the limiter's gain reduction; L R C: the upmix's "
                        "channels (RMS)")

    def sizeHint(self) -> QSize:
        return QSize(190, 170)

    def set_meter(self, meter) -> None:
        """Show a `dsp.audition.Meter` (None: silence)."""
        now = time.monotonic()
        if meter is None:
            self.values = {"peak": (FLOOR_DB, FLOOR_DB), "rms": (FLOOR_DB, FLOOR_DB),
                           "gr": 0.0, "lrc": (FLOOR_DB,) * 3}
        else:
            self.values = {"peak": tuple(meter.peak_dbfs), "rms": tuple(meter.rms_dbfs),
                           "gr": float(meter.gain_reduction_db),
                           "lrc": tuple(meter.lrc_rms_dbfs)}
            self.updates += 1
        for ch in range(2):
            peak = self.values["peak"][ch]
            if peak >= self.held(ch, now):
                self._hold[ch], self._hold_t[ch] = peak, now
        self.update()

    def held(self, ch: int, now: float | None = None) -> float:
        """The held peak of channel ch: the highest recent peak, falling after HOLD_S."""
        now = time.monotonic() if now is None else now
        fall = FALL_DB_PER_S * max(0.0, now - self._hold_t[ch] - HOLD_S)
        return max(self._hold[ch] - fall, FLOOR_DB)

    def reset(self) -> None:
        self._hold = [FLOOR_DB, FLOOR_DB]
        self.set_meter(None)

    def apply_theme(self, colors: SceneColors) -> None:
        self.colors = colors
        self.update()

    # -- painting --------------------------------------------------------------------------------
    def _bar_color(self, db: float) -> QColor:
        if db >= HOT_DB:
            return QColor("#e5534b")
        if db >= WARN_DB:
            return QColor("#d8b13a")
        return QColor("#3fb950")

    def paintEvent(self, event) -> None:
        c = self.colors
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1.5))
        p.setFont(font)
        fg = QColor(c.plot_foreground)
        w, h = self.width(), self.height()
        top, bottom, left = 6, h - 18, 30
        height = max(10, bottom - top)
        # Scale.
        p.setPen(QPen(fg))
        for db in SCALE_DB:
            y = bottom - fraction(db) * height
            p.drawText(QRectF(0, y - 7, left - 4, 14),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"{db}")
        gap = 6
        n = len(self.NAMES)
        bar_w = max(8.0, (w - left - gap * (n + 1) - 8) / n)
        x = left + gap
        back = QColor(c.plot_background)
        grid = QColor(c.grid_major)
        v = self.values
        for i, name in enumerate(self.NAMES):
            extra = 8 if i in (2, 3) else 0  # group gaps: output | GR | upmix
            x += extra
            rect = QRectF(x, top, bar_w, height)
            p.fillRect(rect, back)
            p.setPen(QPen(grid))
            for db in SCALE_DB[1:-1]:
                y = bottom - fraction(db) * height
                p.drawLine(int(x), int(y), int(x + bar_w), int(y))
            if i < 2:
                rms, peak = v["rms"][i], v["peak"][i]
                f = fraction(rms)
                p.fillRect(QRectF(x, bottom - f * height, bar_w, f * height),
                           self._bar_color(peak))
                for level, width in ((peak, 2), (self.held(i), 1)):
                    if level > FLOOR_DB:
                        y = bottom - fraction(level) * height
                        p.fillRect(QRectF(x, y - width / 2, bar_w, width), fg)
            elif i == 2:
                gr = min(0.0, v["gr"])
                f = min(1.0, -gr / GR_RANGE_DB)
                p.fillRect(QRectF(x, top, bar_w, f * height), QColor("#f0883e"))
            else:
                level = v["lrc"][i - 3]
                f = fraction(level)
                color = QColor((c.left_ear, c.right_ear, c.talker)[i - 3])
                p.fillRect(QRectF(x, bottom - f * height, bar_w, f * height), color)
            p.setPen(QPen(fg))
            p.drawText(QRectF(x - 4, bottom + 2, bar_w + 8, 14),
                       Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, name)
            x += bar_w + gap
        p.end()
