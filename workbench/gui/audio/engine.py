"""The audition engine: owns the PortAudio (sounddevice) stream and the worker that feeds it.

Threads and what each does:
- the audio callback (PortAudio's thread): copies frames from a ring buffer into the output
  (and, for a duplex stream, the input into a capture ring), counts status flags and short
  reads. Nothing else: no allocation, no processing, no locks (ecosystem.md §2.4, Friture);
- the worker thread: keeps the ring filled with `dsp.audition.Player.next_block()` (transport,
  A/B/X paths, switching crossfade, limiter, meters);
- the caller (GUI or CLI): sends commands (queued to the player), polls `meter()`,
  `position_s`, `stats()`; `on_state` callbacks run on the worker thread (a GUI re-emits them as
  queued signals).

No Qt here, so the engine runs headless and in tests. When PortAudio or an output device is
missing, `start` raises `AudioUnavailable` whose message says so and points to offline
rendering (`Player.render` / `awb render`), which needs neither.
"""

from __future__ import annotations

import gc
import sys
import threading
import time
from collections.abc import Callable

import numpy as np

from dsp.audition import Meter, Player
from dsp.ringbuffer import RingBuffer

OFFLINE_HINT = ("offline render still works: 'awb render SCENE INPUT.wav --out DIR' or Render"
                " to files")
SWITCH_INTERVAL_S = 0.0001
"""While a stream runs, CPython's GIL switch interval is lowered from 5 ms to this, so the audio
callback never waits long for the worker to let go of the interpreter (measured on JACK dummy
under load: fewer xruns than at 0.5 ms)."""


class RealTimeInterpreter:
    """While on: CPython's GIL switch interval at `SWITCH_INTERVAL_S` and, with `freeze_gc`,
    the objects alive at `on` moved to the permanent generation the collector skips (a full
    collection walks every live object while holding the GIL, 100+ ms in a big process: long
    enough to make an audio callback miss its deadline). `off` restores both; either may be
    called twice."""

    def __init__(self, freeze_gc: bool = False):
        self.freeze_gc = freeze_gc
        self._saved_interval: float | None = None

    def on(self) -> None:
        if self._saved_interval is None:
            self._saved_interval = sys.getswitchinterval()
            sys.setswitchinterval(SWITCH_INTERVAL_S)
            if self.freeze_gc:
                gc.freeze()

    def off(self) -> None:
        if self._saved_interval is not None:
            sys.setswitchinterval(self._saved_interval)
            self._saved_interval = None
            if self.freeze_gc:
                gc.unfreeze()


class AudioUnavailable(RuntimeError):
    """No usable audio output; the message says why and offers offline rendering."""


def _sounddevice():
    try:
        import sounddevice as sd
    except OSError as e:
        raise AudioUnavailable(f"Audio playback unavailable: PortAudio not found (install"
                               f" libportaudio2) [{e}]; {OFFLINE_HINT}") from None
    except ImportError:
        raise AudioUnavailable("Audio playback unavailable: the sounddevice package is not"
                               f" installed; {OFFLINE_HINT}") from None
    return sd


def list_output_devices() -> list[dict]:
    """Output devices: [{index, name, hostapi, channels, default_samplerate}] (empty when
    PortAudio is missing)."""
    try:
        sd = _sounddevice()
    except AudioUnavailable:
        return []
    apis = sd.query_hostapis()
    return [{"index": i, "name": d["name"], "hostapi": apis[d["hostapi"]]["name"],
             "channels": d["max_output_channels"], "default_samplerate": d["default_samplerate"]}
            for i, d in enumerate(sd.query_devices()) if d["max_output_channels"] >= 2]


def jack_output_device() -> int | None:
    """Index of the JACK host API's default output device, or None (no JACK server running
    when PortAudio started)."""
    try:
        sd = _sounddevice()
    except AudioUnavailable:
        return None
    for i, api in enumerate(sd.query_hostapis()):
        if "JACK" in api["name"]:
            dev = sd.query_hostapis(i)["default_output_device"]
            return None if dev < 0 else int(dev)
    return None


def output_problem(device: int | str | None = None, fs_hz: int | None = None) -> str | None:
    """None when `device` (default: the system default) can play stereo at fs_hz, else one
    sentence for the user (ending with the offline-render offer)."""
    try:
        sd = _sounddevice()
    except AudioUnavailable as e:
        return str(e)
    try:
        info = sd.query_devices(device, kind="output")
    except (ValueError, sd.PortAudioError) as e:
        return f"No audio output device ({e}); {OFFLINE_HINT}"
    if info["max_output_channels"] < 2:
        return f"Output device {info['name']!r} has no stereo output; {OFFLINE_HINT}"
    if fs_hz is not None:
        try:
            sd.check_output_settings(device=device, channels=2, dtype="float32",
                                     samplerate=fs_hz)
        except (ValueError, sd.PortAudioError) as e:
            return (f"Output device {info['name']!r} cannot play at {fs_hz} Hz (it runs at"
                    f" {info['default_samplerate']:.0f} Hz: build the paths at that rate) [{e}];"
                    f" {OFFLINE_HINT}")
    return None


def device_label(d: dict) -> str:
    """How a device of `list_output_devices` is named to users (and in the settings)."""
    return f"{d['name']} ({d['hostapi']})"


def choose_output_device(saved: str, fs_hz: int | None) -> int | None:
    """The output device to use: the one whose `device_label` is `saved` if it is still there,
    else None (the system default) or, when the default cannot play stereo at fs_hz (None: at
    its own rate), the JACK device or the first device that can."""
    devices = list_output_devices()
    for d in devices:
        if saved and device_label(d) == saved:
            return d["index"]
    if not devices or output_problem(None, fs_hz) is None:
        return None
    jack = jack_output_device()
    candidates = ([jack] if jack is not None else []) + [d["index"] for d in devices]
    for index in candidates:
        if output_problem(index, fs_hz) is None:
            return index
    return None


def output_rate(device: int | str | None, fs_hz: int) -> int:
    """fs_hz when `device` can play it, else the device's own default rate when it can play
    that (signals are resampled to it), else fs_hz (`output_problem` then says why)."""
    if output_problem(device, fs_hz) is None:
        return int(fs_hz)
    try:
        sd = _sounddevice()
    except AudioUnavailable:
        return int(fs_hz)
    try:
        rate = int(sd.query_devices(device, kind="output")["default_samplerate"])
    except (ValueError, sd.PortAudioError):
        return int(fs_hz)
    return rate if output_problem(device, rate) is None else int(fs_hz)


def start_engine(player, device, factory, on_state, hint: str = OFFLINE_HINT):
    """Create an engine for `player` on `device` (`factory`: AudioEngine or a test double),
    hook its worker-state callback, set it playing and start the stream.

    Returns (engine, "") or (None, why): the stream could not open or start, `hint` saying
    what still works without a sound card. Nothing is left open on failure.
    """
    engine = factory(player, device=device)
    engine.on_state(on_state)
    engine.play()
    try:
        engine.start()
    except AudioUnavailable as e:
        engine.close()
        return None, str(e)
    except Exception as e:  # PortAudio errors past open(): the same, with the reason
        engine.close()
        return None, f"Cannot start the audio output ({e}); {hint}"
    return engine, ""


class AudioEngine:
    """Real-time playback of a `Player`.

    player: what to play (its block is the worker's block); device: PortAudio output device
    (index or name; None = default); ring_ms: ring buffer length (latency of commands ≈ this);
    stream_block: PortAudio callback size (0 = whatever the host prefers);
    capture_channels: > 0 opens a duplex stream and keeps the input (loopback measurements,
    tests) in a capture ring of capture_s seconds; record: keep a copy of every output block
    the worker produced (tests, debugging).
    """

    def __init__(self, player: Player, device: int | str | None = None, ring_ms: float = 150.0,
                 stream_block: int = 0, capture_channels: int = 0, capture_s: float = 2.0,
                 record: bool = False):
        self.player = player
        self.fs_hz = int(player.fs_hz)
        self.device = device
        self.stream_block = int(stream_block)
        blocks = max(2, int(np.ceil(ring_ms * 1e-3 * self.fs_hz / player.block)))
        self._ring = RingBuffer(blocks * player.block, 2)
        self._meters: list[Meter | None] = [None] * (blocks + 2)
        self.capture_channels = int(capture_channels)
        self._capture = (RingBuffer(int(capture_s * self.fs_hz), self.capture_channels)
                         if capture_channels else None)
        self._record: list[np.ndarray] | None = [] if record else None
        self._stream = None
        self._worker: threading.Thread | None = None
        self._stop = threading.Event()
        self._listeners: list[Callable[[str, float], None]] = []
        self._interpreter = RealTimeInterpreter(freeze_gc=True)
        # Counters written by the callback (ints: atomic) and by the worker.
        self.callbacks = 0
        self.short_reads = 0          # callbacks that found the ring short (worker too slow)
        self.status_log: list = []    # (frames played, sounddevice.CallbackFlags) on any flag
        self.worker_max_ms = 0.0
        self.worker_error: BaseException | None = None

    # -- life cycle -----------------------------------------------------------------------

    def open(self) -> None:
        """Open the stream without starting it (its ports exist from now on: connect them here
        to avoid a graph change while audio runs). Raises AudioUnavailable."""
        if self._stream is not None:
            return
        sd = _sounddevice()
        problem = output_problem(self.device, self.fs_hz)
        if problem:
            raise AudioUnavailable(problem)
        kwargs = dict(samplerate=self.fs_hz, blocksize=self.stream_block, dtype="float32")
        try:
            if self._capture is not None:
                self._stream = sd.Stream(device=(self.device, self.device),
                                         channels=(self.capture_channels, 2),
                                         callback=self._duplex_callback, **kwargs)
            else:
                self._stream = sd.OutputStream(device=self.device, channels=2,
                                               callback=self._callback, **kwargs)
        except (ValueError, sd.PortAudioError) as e:
            raise AudioUnavailable(f"Cannot open the audio output ({e}); {OFFLINE_HINT}") \
                from None

    def start(self) -> None:
        """Open (if needed), fill the ring, start the worker and the stream. Raises
        AudioUnavailable."""
        self.open()
        while self._ring.space >= self.player.block:  # start with a full ring
            self._produce()
        self._interpreter.on()
        self._stop.clear()
        self._worker = threading.Thread(target=self._work, name="audio-worker", daemon=True)
        self._worker.start()
        self._stream.start()

    def close(self) -> None:
        """Stop the stream and the worker (safe to call twice)."""
        self._stop.set()
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
            self._stream = None
        if self._worker is not None:
            self._worker.join(timeout=2.0)
            self._worker = None
        self._interpreter.off()

    def __enter__(self) -> AudioEngine:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def running(self) -> bool:
        return self._stream is not None

    @property
    def output_latency_s(self) -> float:
        """PortAudio's reported output latency (0 when not running)."""
        return float(self._stream.latency[1] if self._capture is not None
                     else self._stream.latency) if self._stream is not None else 0.0

    # -- audio thread ---------------------------------------------------------------------

    def _callback(self, outdata, frames, time_info, status) -> None:
        if status:
            self.status_log.append((self._ring.frames_read, status))
        n = self._ring.read_into(outdata)
        if n < frames:
            outdata[n:] = 0.0
            self.short_reads += 1
        self.callbacks += 1

    def _duplex_callback(self, indata, outdata, frames, time_info, status) -> None:
        self._callback(outdata, frames, time_info, status)
        self._capture.write(indata)

    # -- worker thread --------------------------------------------------------------------

    def _produce(self) -> None:
        t0 = time.perf_counter()
        state = self.player.state
        y = self.player.next_block()
        block_index = self._ring.frames_written // self.player.block
        self._meters[block_index % len(self._meters)] = self.player.meter
        self._ring.write(y.astype(np.float32))
        if self._record is not None:
            self._record.append(y)
        self.worker_max_ms = max(self.worker_max_ms, 1e3 * (time.perf_counter() - t0))
        if self.player.state != state:
            for fn in list(self._listeners):
                fn(self.player.state, self.player.position_s)

    def _work(self) -> None:
        idle = 0.25 * self.player.block / self.fs_hz
        try:
            while not self._stop.is_set():
                if self._ring.space >= self.player.block:
                    self._produce()
                else:
                    self._stop.wait(idle)
        except BaseException as e:  # keep the reason for the caller; the callback goes silent
            self.worker_error = e

    # -- control (caller's thread) --------------------------------------------------------

    def play(self) -> None:
        self.player.play()

    def pause(self) -> None:
        self.player.pause()

    def stop(self) -> None:
        self.player.stop()

    def seek(self, seconds: float) -> None:
        self.player.seek(seconds)

    def set_loop(self, start_s: float | None, end_s: float | None = None) -> None:
        self.player.set_loop(start_s, end_s)

    def select(self, path: str) -> None:
        """Switch to one of the player's paths (crossfaded)."""
        self.player.select(path)

    def set_network(self, network) -> None:
        """Swap B's filter network while playing (crossfaded)."""
        self.player.command("network", network)

    def on_state(self, fn: Callable[[str, float], None]) -> None:
        """Call fn(state, position_s) on the worker thread whenever the player's state changes
        (playing / paused / stopped)."""
        self._listeners.append(fn)

    # -- polling --------------------------------------------------------------------------

    def meter(self) -> Meter | None:
        """Levels of the block being heard now (None before the first)."""
        block_index = self._ring.frames_read // self.player.block
        return self._meters[block_index % len(self._meters)]

    @property
    def position_s(self) -> float:
        """Programme time being heard now (processing latency taken off)."""
        m = self.meter()
        if m is None:
            return 0.0
        return max(0.0, m.position_s - self.player.latency / self.fs_hz)

    def stats(self) -> dict:
        """Counters: callbacks, frames played, short reads (ring empty), status flags reported
        by PortAudio (xruns: output underflows), worst worker time per block in ms, ring fill."""
        flags = [s for _, s in self.status_log]
        return {"callbacks": self.callbacks, "frames_played": self._ring.frames_read,
                "short_reads": self.short_reads, "status_flags": len(flags),
                "output_underflows": sum(bool(s.output_underflow) for s in flags),
                "input_overflows": sum(bool(s.input_overflow) for s in flags),
                "worker_max_ms": round(self.worker_max_ms, 3),
                "ring_fill": self._ring.available, "ring_capacity": self._ring.capacity}

    def captured(self) -> np.ndarray:
        """Drain the capture ring: (n, capture_channels) float32 (empty without capture)."""
        if self._capture is None:
            return np.zeros((0, 0), dtype=np.float32)
        return self._capture.read(self._capture.available)

    def recorded(self) -> np.ndarray:
        """Every output block the worker produced so far, (n, 2) float64 (record=True)."""
        if not self._record:
            return np.zeros((0, 2))
        return np.concatenate(self._record)
