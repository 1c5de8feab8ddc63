"""The audition player: programme → the selected listening path, block by block.

Everything the audio engine's worker thread runs, and nothing that needs a sound card, so the
same code renders offline and is tested without PortAudio. What the paths are is a
`PathSource`: the renderer's A/B/X at the ears (`dsp.listening.PathStream`) or precomputed
clips such as Noisy / Enhanced / Clean (`dsp.clip_paths.ClipStream`); the path names are the
source's. Per block:

1. commands queued by other threads (play, pause, stop, seek, loop, select, network) are
   applied; each is one `deque.append` on the caller's side, so no locks are needed;
2. the transport reads the input, the source computes every path (switching is then
   instant: every path's filters are warm);
3. path weights move linearly toward the selected path at 1/switch_samples per sample (a linear
   crossfade: the per-sample change it adds is at most 2·max|path|/switch_samples, the
   "crossfade bound"); pause, seek and stop ramp the *input* down (and play, back up) over
   fade_samples, so they are heard after the path latency, without clicks;
4. the safety limiter (`dsp.limiter`, −1 dBFS) and the meters.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from dsp.limiter import SafetyLimiter, gain_db
from dsp.listening import ListeningPaths, PathStream
from dsp.transport import Transport

if TYPE_CHECKING:
    from dsp.renderer import RenderParams
    from sim.scene import Scene
    from sim.task import TaskState

STATES = ("stopped", "playing", "paused")


@dataclass(frozen=True)
class Meter:
    """Levels of one output block: peak_dbfs and rms_dbfs (2,) after the limiter,
    gain_reduction_db (≤ 0), lrc_rms_dbfs (3,) of the upmix's L, R, C (empty for a source
    without an upmix), path: selected path, position_s: programme time of the block's input."""

    peak_dbfs: tuple[float, float]
    rms_dbfs: tuple[float, float]
    gain_reduction_db: float
    lrc_rms_dbfs: tuple[float, ...]
    path: str
    position_s: float


class PathSource(Protocol):
    """What turns the transport's input block into the P path signals, all computed every
    block so a switch is instant.

    names: the paths, in the order of `process`'s first axis; fs_hz; channels: input channels
    per block; latency: input → output in samples (the same for every path); tail: samples
    the output keeps ringing after the input stops; lrc_rms: RMS of an upmix's L, R, C over
    the last block ((0,) without one).
    """

    names: tuple[str, ...]
    fs_hz: int
    channels: int
    latency: int
    tail: int
    lrc_rms: np.ndarray

    def process(self, x: np.ndarray) -> np.ndarray:
        """One input block (block, channels) → (P, block, 2)."""


def _db(v: np.ndarray) -> tuple:
    with np.errstate(divide="ignore"):
        return tuple(float(x) for x in 20.0 * np.log10(np.maximum(v, 1e-12)))


class Player:
    """Transport + paths + switching + limiter.

    paths: ListeningPaths (the renderer's A/B/X, streamed by a `PathStream`) or any
    `PathSource`; programme: (n, channels) input at the source's rate (2 for A/B/X; a clip
    source takes its clips side by side, see `dsp.clip_paths`); block:
    samples per `next_block`; switch_ms: path crossfade; fade_ms: pause/seek/stop ramp;
    ceiling_db: limiter ceiling; path: the path heard first (default B for A/B/X, else the
    source's first).
    """

    def __init__(self, paths: ListeningPaths | PathSource, programme: np.ndarray,
                 block: int = 512, switch_ms: float = 20.0, fade_ms: float = 10.0,
                 ceiling_db: float = -1.0, path: str | None = None):
        self.block = int(block)
        if isinstance(paths, ListeningPaths):
            self.paths: ListeningPaths | None = paths
            self.stream: PathSource = PathStream(paths, self.block)
            path = "B" if path is None else path
        else:
            self.paths = None
            self.stream = paths
            path = paths.names[0] if path is None else path
        self.names: tuple[str, ...] = tuple(self.stream.names)
        self._check_path(path)
        fs = self.stream.fs_hz
        self.fs_hz = fs
        self.transport = Transport(programme, fs)
        self.limiter = SafetyLimiter(fs, 2, ceiling_db)
        self.switch_samples = max(1, round(switch_ms * 1e-3 * fs))
        self.fade_samples = max(1, round(fade_ms * 1e-3 * fs))
        self._weights = np.array([float(p == path) for p in self.names])
        self._target = self.names.index(path)
        self._gain = 0.0          # transport gain (0 = silent)
        self.state = "stopped"
        self._after_fade: list = []  # actions to run once the transport gain reaches 0
        self._commands: deque = deque()
        self.frames_out = 0       # output samples produced so far
        self.switch_log: list[tuple[int, str]] = []  # (output frame, path) when a switch began
        self.meter: Meter | None = None
        # The tail that rings out after the programme ends: the paths, then the limiter.
        self._tail = self.stream.tail + self.limiter.latency
        self._silent_for = 0

    def _check_path(self, path: str) -> None:
        if path not in self.names:
            raise ValueError(f"path = {path!r} must be one of {', '.join(self.names)}")

    # -- commands (any thread) ------------------------------------------------------------

    def command(self, name: str, *args) -> None:
        """Queue a command: play, pause, stop, seek(seconds), loop(start_s | None, end_s),
        select(path), network(Network). Applied at the start of the next block."""
        self._commands.append((name, args))

    def play(self) -> None:
        self.command("play")

    def pause(self) -> None:
        self.command("pause")

    def stop(self) -> None:
        self.command("stop")

    def seek(self, seconds: float) -> None:
        self.command("seek", seconds)

    def set_loop(self, start_s: float | None, end_s: float | None = None) -> None:
        self.command("loop", start_s, end_s)

    def select(self, path: str) -> None:
        self._check_path(path)
        self.command("select", path)

    @property
    def selected(self) -> str:
        return self.names[self._target]

    @property
    def position_s(self) -> float:
        return self.transport.position / self.fs_hz

    @property
    def latency(self) -> int:
        """Programme input → output latency of the processing, in samples."""
        return self.stream.latency + self.limiter.latency

    # -- worker side ----------------------------------------------------------------------

    def _apply(self, name: str, args: tuple) -> None:
        fs = self.fs_hz
        if name == "play":
            if self.state != "playing":
                self._after_fade.clear()
                if self.transport.ended:
                    self._restart()
                self.state = "playing"
        elif name == "pause":
            if self.state == "playing":
                self._after_fade = [lambda: setattr(self, "state", "paused")]
        elif name == "stop":
            if self.state == "playing":
                self._after_fade = [self._to_stop]
            else:
                self._to_stop()
        elif name == "seek":
            target = round(float(args[0]) * fs)
            if self.state == "playing":
                self._after_fade = [lambda: self._jump(target), lambda: None]
            else:
                self._jump(target)
        elif name == "loop":
            start, end = args
            self.transport.set_loop(None if start is None else round(start * fs),
                                    None if end is None else round(end * fs))
        elif name == "select":
            k = self.names.index(args[0])
            if k != self._target:
                self._target = k
                self.switch_log.append((self.frames_out, args[0]))
        elif name == "network":  # A/B/X only: B's network swapped while playing
            self.stream.set_network(args[0])
        else:
            raise ValueError(f"unknown command {name!r}")

    def _restart(self) -> None:
        loop = self.transport.loop
        self._jump(loop[0] if loop else 0)

    def _jump(self, sample: int) -> None:
        # No reset of the filters: the faded-out input before the jump rings out through them
        # while the new place fades in, which is what a click-free seek sounds like.
        self.transport.seek(sample)

    def _to_stop(self) -> None:
        self.state = "stopped"
        self._restart()

    def _gain_ramp(self, n: int) -> np.ndarray:
        """Transport gain per input sample of this block (linear ramps of fade_samples)."""
        fading_out = bool(self._after_fade) or self.state != "playing"
        k = np.arange(1, n + 1) / self.fade_samples
        g = np.maximum(self._gain - k, 0.0) if fading_out else np.minimum(self._gain + k, 1.0)
        self._gain = float(g[-1])
        return g

    def _after_fade_out(self) -> None:
        """Run the actions waiting for silence (after the block that reached gain 0, so the
        fade-out itself was still the old material)."""
        if self._gain == 0.0 and self._after_fade:
            first, *rest = self._after_fade
            self._after_fade = []
            first()
            if rest:  # a seek while playing: fade back in from the new place
                self.state = "playing"

    def _weights_ramp(self, n: int) -> np.ndarray:
        """Path weights (P, n): the target's weight climbs at 1/switch_samples per sample and
        the others shrink in proportion, so the weights always sum to 1."""
        w0 = self._weights
        t = self._target
        if w0[t] >= 1.0:
            return np.repeat(w0[:, None], n, axis=1)
        wt = np.minimum(w0[t] + np.arange(1, n + 1) / self.switch_samples, 1.0)
        rest = 1.0 - w0[t]
        scale = (1.0 - wt) / rest
        w = w0[:, None] * scale[None, :]
        w[t] = wt
        self._weights = w[:, -1].copy()
        return w

    def next_block(self) -> np.ndarray:
        """The next output block (block, 2) float64, limited to the ceiling."""
        while self._commands:
            self._apply(*self._commands.popleft())
        n = self.block
        gain = self._gain_ramp(n)
        pos = self.transport.position
        if self.state == "playing" or gain[0] > 0.0:
            # The transport fades the *input*: the filters then see a smooth envelope, and
            # nothing is cut off mid-waveform at their output (heard after the path latency).
            x = self.transport.read(n) * gain[:, None]
        else:
            x = np.zeros((n, self.stream.channels))
        ears = self.stream.process(x)                      # (P, n, 2)
        w = self._weights_ramp(n)                          # (P, n)
        y = np.einsum("pn,pnc->nc", w, ears)
        out = self.limiter.process(y)
        self._after_fade_out()
        self._end_of_programme(n)
        self.frames_out += n
        self.meter = Meter(peak_dbfs=_db(np.max(np.abs(out), axis=0)),
                           rms_dbfs=_db(np.sqrt(np.mean(out * out, axis=0))),
                           gain_reduction_db=gain_db(self.limiter.last_gain),
                           lrc_rms_dbfs=_db(self.stream.lrc_rms),
                           path=self.names[self._target], position_s=pos / self.fs_hz)
        return out

    def _end_of_programme(self, n: int) -> None:
        """Once the programme has ended and its tail has rung out, stop (back to the start)."""
        if self.state == "playing" and self.transport.ended:
            self._silent_for += n
            if self._silent_for >= self._tail:
                self._silent_for = 0
                self._to_stop()
                self._gain = 0.0
        else:
            self._silent_for = 0

    def render(self, n_frames: int) -> np.ndarray:
        """Run `next_block` until at least n_frames samples exist: (n_frames, 2)."""
        blocks = [self.next_block() for _ in range(-(-n_frames // self.block))]
        return np.concatenate(blocks)[:n_frames] if blocks else np.zeros((0, 2))


def crossfade_bound(peak: float, switch_samples: int) -> float:
    """Largest sample-to-sample change a linear path crossfade can add on top of the paths'
    own changes: the weights move by ≤ 1/switch_samples per sample each, two of them at a time,
    on signals bounded by `peak`."""
    return 2.0 * peak / switch_samples


def make_player(scene: Scene, programme: np.ndarray, params: RenderParams | None = None,
                engine: str | None = None, early_only: bool = False, block: int = 512,
                path: str = "B", state: TaskState | None = None) -> Player:
    """Everything an audition needs, in one call: design the network (`RenderParams`),
    simulate the device and the reference pair (`engine`, `early_only`), match the paths'
    loudness to the programme (n, 2) at the scene's rate, and return a stopped Player.

    This is the long step of opening a file in the Renderer panel: run it off the GUI thread;
    `state` (sim.task.TaskState) reports progress and cancels.
    """
    from dsp.listening import build_paths, match_loudness
    from dsp.renderer import RenderParams, build_network
    from sim.task import report

    p = params or RenderParams()
    report(state, 0.0, "designing the network")
    net = build_network(scene, p)
    paths = build_paths(scene, net, engine=engine, early_only=early_only, listener=p.listener,
                        state=state.sub(0.1, 0.85) if state else None)
    report(state, 0.85, "matching loudness")
    match_loudness(paths, programme)
    report(state, 1.0, "ready")
    return Player(paths, programme, block=block, path=path)
