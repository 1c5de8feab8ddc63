"""A silent engine: runs a player (a `dsp.chain.LiveChain`) on a real-time clock without a sound
card, so the Voice Chain's meters, spectrograms and packet timeline work where PortAudio or an
output device is missing.

`SilentEngine` offers the part of `workbench.gui.audio.engine.AudioEngine`'s interface the Voice
Chain panel uses (`start`, `close`, `play`, `stop`, `on_state`, `meter`, `position_s`,
`stats`, `worker_error`): its worker thread calls `player.next_block()` once per block period
(20 ms for a LiveChain) and drops the samples. A worker that falls behind (the chain's real-time
factor above 1 on a loaded machine) does not try to catch up with a burst of blocks: it counts
the late blocks (`stats()["late_blocks"]`) and goes on from now. While it runs, the interpreter's
thread switch interval is lowered as `AudioEngine` lowers it: with the chain busy most of each
block, the GUI thread would otherwise wait up to 5 ms for the GIL after every call that let go
of it (tens of such waits made one display refresh of the panel take 80 ms). No Qt here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from workbench.gui.audio.engine import RealTimeInterpreter


class SilentEngine:
    """Plays `player` into nothing on a real-time clock (`device` is ignored: there is none)."""

    def __init__(self, player, device=None):
        self.player = player
        self.device = device
        self.period_s = player.block / player.fs_hz
        self._listeners: list[Callable[[str, float], None]] = []
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self.blocks = 0
        self.late_blocks = 0
        self.worker_max_ms = 0.0
        self.worker_error: BaseException | None = None
        self._interpreter = RealTimeInterpreter()

    def start(self) -> None:
        """Start the worker (the player runs once it is told to play)."""
        if self._worker is not None:
            return
        self._stop.clear()
        self._interpreter.on()
        self._worker = threading.Thread(target=self._work, name="chain-clock", daemon=True)
        self._worker.start()

    def close(self) -> None:
        """Stop the worker (safe to call twice)."""
        self._stop.set()
        if self._worker is not None:
            self._worker.join(timeout=2.0)
            self._worker = None
        self._interpreter.off()

    @property
    def running(self) -> bool:
        return self._worker is not None

    def _work(self) -> None:
        due = time.perf_counter()
        try:
            while not self._stop.is_set():
                t0 = time.perf_counter()
                state = self.player.state
                self.player.next_block()
                t1 = time.perf_counter()
                self.blocks += 1
                self.worker_max_ms = max(self.worker_max_ms, 1e3 * (t1 - t0))
                if self.player.state != state:
                    for fn in list(self._listeners):
                        fn(self.player.state, self.player.position_s)
                due += self.period_s
                if t1 > due:  # behind: start the clock again from now
                    self.late_blocks += 1
                    due = t1
                self._stop.wait(max(0.0, due - t1))
        except BaseException as e:  # kept for the caller, as AudioEngine does
            self.worker_error = e

    # -- control ---------------------------------------------------------------------------
    def play(self) -> None:
        self.player.play()

    def stop(self) -> None:
        self.player.stop()

    def on_state(self, fn: Callable[[str, float], None]) -> None:
        """Call fn(state, position_s) on the worker thread when the player's state changes."""
        self._listeners.append(fn)

    # -- polling ---------------------------------------------------------------------------
    def meter(self):
        return self.player.meter

    @property
    def position_s(self) -> float:
        return self.player.position_s

    def stats(self) -> dict:
        """Blocks run, blocks that came late (the worker was slower than real time) and the
        worst block time in ms."""
        return {"blocks": self.blocks, "late_blocks": self.late_blocks,
                "worker_max_ms": round(self.worker_max_ms, 3)}
