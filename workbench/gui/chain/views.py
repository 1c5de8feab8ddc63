"""What the Voice Chain panel draws from a running graph: a scrolling spectrogram of one tap, the
timeline of the last packets' fates, and the per-tap table of level, PESQ-WB and STOI.

All are refreshed by the panel's timer from copies the graph hands out (`ChainGraph.recent`,
`ChainGraph.snapshot`); each refresh is a few vectorised numpy calls, cheap enough for the GUI
thread ten times a second.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QHeaderView, QTableWidget

from dsp.chain import BLOCK, FS_HZ, PacketFate
from dsp.spectrum import power_db
from workbench.gui.dred.panel import FILL_COLORS, FILL_LABELS
from workbench.gui.shell.job_panel import number_item

SPAN_S = 4.0
"""Seconds a spectrogram shows (now at the right edge)."""
N_FFT = BLOCK  # 20 ms frames
HOP = N_FFT // 2
LEVELS_DB = (-110.0, -20.0)
_WINDOW = np.hanning(N_FFT + 2)[1:-1]
_SCALE = 4.0 / np.sum(_WINDOW) ** 2  # a full-scale sine reads 0 dB (as dsp.spectrum)

FATE_KINDS = ("received", "lost", "lbrr", "dred", "plc", "opus_plc")
"""Timeline colours: received and played as is; lost (not yet played); played from LBRR, DRED,
the neural PLC or the Opus PLC."""
FATE_LABELS = {"received": "received", "lost": "lost", **FILL_LABELS}
FATE_COLORS = {"received": "#6e7681", "lost": "#db61a2", **FILL_COLORS}
FATE_SPAN = 500  # packets shown: the snapshot's 10 s


def spectrogram_columns(x: np.ndarray, span_s: float = SPAN_S) -> np.ndarray:
    """Level in dB ``(T, N_FFT // 2 + 1)`` of the last ``span_s`` of ``x`` (16 kHz, ``(n,)`` or
    ``(n, 2)``: the mid), 20 ms frames every 10 ms; a shorter ``x`` is padded with silence at
    the start, so the newest column is always the last."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2:
        x = x.mean(axis=1)
    n = round(span_s * FS_HZ)
    x = np.concatenate([np.zeros(max(0, n - x.size)), x[-n:]])
    frames = np.lib.stride_tricks.sliding_window_view(x, N_FFT)[::HOP] * _WINDOW
    spec = np.fft.rfft(frames, axis=-1)
    return power_db((spec.real ** 2 + spec.imag ** 2) * _SCALE)


class ScrollingSpectrogram(pg.PlotWidget):
    """The last :data:`SPAN_S` seconds of one tap (time axis: seconds before now)."""

    def __init__(self, name: str):
        super().__init__()
        self.setObjectName(name)
        self.setLabel("bottom", "time", "s")
        self.setLabel("left", "frequency", "Hz")
        self.image = pg.ImageItem(axisOrder="col-major")
        self.image.setColorMap(pg.colormap.get("viridis"))
        self.addItem(self.image)
        self.setMouseEnabled(x=False, y=False)
        self.setXRange(-SPAN_S, 0.0, padding=0)
        self.setYRange(0.0, FS_HZ / 2, padding=0)
        self.setMinimumHeight(80)

    def show_signal(self, x: np.ndarray) -> None:
        """Draw the last seconds of a tap."""
        levels = spectrogram_columns(x)
        self.image.setImage(levels, levels=LEVELS_DB, autoLevels=False)
        df = FS_HZ / N_FFT
        self.image.setRect(QRectF(-SPAN_S, -df / 2, SPAN_S, FS_HZ / 2 + df))

    def clear_image(self) -> None:
        self.image.clear()


def fate_kind(fate: PacketFate) -> str:
    """The timeline's name (:data:`FATE_KINDS`) for a packet's fate."""
    if fate.played is None:
        return "received" if fate.network == "received" else "lost"
    return "received" if fate.played == "regular" else fate.played


class FateTimeline(pg.PlotWidget):
    """The last :data:`FATE_SPAN` packets, one column each, coloured by :func:`fate_kind`;
    `counts` holds how many of each the timeline shows."""

    def __init__(self, name: str):
        super().__init__()
        self.setObjectName(name)
        self.setLabel("bottom", "packets before now")
        self.hideAxis("left")
        self.image = pg.ImageItem(axisOrder="col-major")
        self.addItem(self.image)
        self.setMouseEnabled(x=False, y=False)
        self.setXRange(-FATE_SPAN, 0, padding=0)
        self.setYRange(0, 1, padding=0)
        self.setFixedHeight(76)
        self._rgba = {k: np.array(pg.mkColor(c).getRgb(), np.uint8)
                      for k, c in FATE_COLORS.items()}
        self.counts = dict.fromkeys(FATE_KINDS, 0)

    def show_fates(self, fates: tuple[PacketFate, ...]) -> None:
        kinds = [fate_kind(f) for f in fates[-FATE_SPAN:]]
        self.counts = {k: kinds.count(k) for k in FATE_KINDS}
        rgba = np.zeros((FATE_SPAN, 1, 4), np.uint8)
        if kinds:
            rgba[FATE_SPAN - len(kinds):, 0] = np.array([self._rgba[k] for k in kinds])
        self.image.setImage(rgba, levels=(0, 255))  # colours as they are
        self.image.setRect(QRectF(-FATE_SPAN, 0, FATE_SPAN, 1))

    def clear_fates(self) -> None:
        self.image.clear()
        self.counts = dict.fromkeys(FATE_KINDS, 0)


def fate_legend(counts: dict[str, int]) -> str:
    """The timeline's legend (rich text): a swatch and a count per fate."""
    return "  ".join(f'<span style="color:{FATE_COLORS[k]}">■</span>&nbsp;{FATE_LABELS[k]}'
                     f"&nbsp;{counts.get(k, 0)}" for k in FATE_KINDS)


COLUMNS = ("dBFS", "PESQ-WB", "STOI")


class TapTable(QTableWidget):
    """One row per tap: its level now (dBFS), and PESQ-WB and STOI over the last seconds."""

    def __init__(self, taps: tuple[str, ...], name: str):
        super().__init__(len(taps), len(COLUMNS))
        self.setObjectName(name)
        self.taps = taps
        self.setHorizontalHeaderLabels(list(COLUMNS))
        self.setVerticalHeaderLabels(list(taps))
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.verticalHeader().setDefaultSectionSize(20)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.setToolTip("PESQ-WB and STOI against the clean talker at the microphone (direct "
                        "path), scored in the background over the last seconds")
        self.clear_values()

    def _set(self, row: int, col: int, text: str) -> None:
        item = self.item(row, col)
        if item is None:
            self.setItem(row, col, number_item(text))
        elif item.text() != text:
            item.setText(text)

    def show_levels(self, levels_db: dict[str, float]) -> None:
        for r, tap in enumerate(self.taps):
            value = levels_db.get(tap)
            self._set(r, 0, "—" if value is None else f"{value:.1f}")

    def show_quality(self, scores: dict[str, dict]) -> None:
        for r, tap in enumerate(self.taps):
            s = scores.get(tap, {})
            pesq, stoi = s.get("pesq_wb"), s.get("stoi")
            self._set(r, 1, "—" if pesq is None else f"{pesq:.2f}")
            self._set(r, 2, "—" if stoi is None else f"{stoi:.3f}")

    def clear_values(self) -> None:
        self.show_levels({})
        self.show_quality({})

