"""The spatial renderer: stereo → upmix (L, R, C) → a filter network per channel → N driver feeds.

Network (issue #4's signal flow): L and R go through one two-input design (default the stereo
virtualizer: HRTF virtualization of a ±30° pair ∘ crosstalk cancellation, so L nulls the right
ear and R the left), C through a wide beam (nulls at ±90°, main lobe over ±45°), each a
`FilterSet` from `dsp.design`. Devices with fewer than three drivers cannot beam; there C is
sent as a phantom centre through the L/R network, (L + R)/√2.

Delay alignment: the two networks reach the ears at different times (the beam's phase reference
is the device centre, the inverse's is the nearest driver). The faster one is delayed by the
lag that maximizes the cross-correlation, summed over both ears, of the listener's free-field
ear responses to C and to a phantom centre through L/R, so C adds in phase with the rest of the
image. All three columns then sit in one MIMO FIR (3, N, taps), streamed by
`dsp.convolver.PartitionedConvolver`.

Design space: the networks are designed on the free-field plant ("freefield", the default)
or, with "room_early", carried over to the room's early response at the listener below
`room_max_hz` (`dsp.design.design_in_room`: direct sound and image-source reflections up to
`early_window_ms` after it), so the first reflections no longer undo the cancellation there.
The alignment then uses the ear responses of the space designed in. Free field stays the
default because a room-early network is only as good as the room model: in the living room
it takes the steady-state ITD error at the sweet spot from ≈ 240 µs to ≈ 15 µs in the
image-source room it was designed on, but where the room holds more than that model (the
ray-traced part of the full room engine) its first-wavefront cues stray by hundreds of µs,
while the free-field network's stay within ≈ 15 µs of the reference pair's.

Latency (input → driver feeds) = upmix latency (frame − 1) + the network's modelling delay +
its alignment delay; `Network.latency` reports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from dsp.convolver import PartitionedConvolver, convolve_offline
from dsp.filterset import FilterSet
from dsp.params import DesignError, DesignParams
from dsp.upmix import Upmixer, UpmixParams, check_upmix_params, upmix
from dsp.upmix import output_length as upmix_length
from sim.scene import Scene

if TYPE_CHECKING:
    from dsp.plant import RoomIrs

LR_METHODS = ("virtualizer", "ctc", "direct")
C_METHODS = ("auto", "beam", "phantom", "direct")
DESIGN_SPACES = ("freefield", "room_early")
INPUTS = ("L", "R", "C")


class RenderError(ValueError):
    """A renderer set-up that cannot be made; the message names the setting."""


@dataclass(frozen=True)
class RenderParams:
    """How the network is made.

    lr_method: "virtualizer" (virtualization ∘ CTC), "ctc" (plain CTC for 2 drivers,
        null-steering for more) or "direct" (the plain matrix mix of path A, delayed).
    c_method: "beam", "phantom" ((L + R)/√2 through the L/R network), "direct" (matrix mix) or
        "auto" (beam where the device has ≥ 3 drivers, else phantom).
    n_taps, max_effort_db, virtual_angle_deg, virtual_distance_m: passed to the designs.
    design_space: "freefield" or "room_early" (designed in free field, then re-solved below
        room_max_hz (Hz) on the room's early response at the listener, `early_window_ms` ms
        after the direct sound; see the module docstring).
    lr_design / c_design: full DesignParams overriding the above for one network (user choice
        from the Design panel); their method must fit the channel.
    listener: the listener designed for.
    upmix: the upmix settings.
    """

    lr_method: str = "virtualizer"
    c_method: str = "auto"
    n_taps: int = 2048
    max_effort_db: float = 18.0
    virtual_angle_deg: float = 30.0
    virtual_distance_m: float = 2.5
    design_space: str = "freefield"
    early_window_ms: float = 20.0
    room_max_hz: float = 2000.0
    listener: int = 0
    upmix: UpmixParams = field(default_factory=UpmixParams)
    lr_design: DesignParams | None = None
    c_design: DesignParams | None = None

    def to_dict(self) -> dict:
        out = {"lr_method": self.lr_method, "c_method": self.c_method, "n_taps": self.n_taps,
               "max_effort_db": self.max_effort_db, "virtual_angle_deg": self.virtual_angle_deg,
               "virtual_distance_m": self.virtual_distance_m,
               "design_space": self.design_space, "early_window_ms": self.early_window_ms,
               "room_max_hz": self.room_max_hz,
               "listener": self.listener, "upmix": self.upmix.to_dict()}
        if self.lr_design is not None:
            out["lr_design"] = self.lr_design.to_dict()
        if self.c_design is not None:
            out["c_design"] = self.c_design.to_dict()
        return out


@dataclass
class Network:
    """A renderer's filter network.

    filters: FilterSet (3 inputs L, R, C → N drivers), alignment included; methods: the method
    used per network and the design space ({"LR": ..., "C": ..., "space": "freefield" |
    "room_early"}); align_samples: delay added to each input (3,); network_delay: modelling
    delay + alignment of the L/R path in samples (upmix output → driver feeds); upmix: its
    settings; design_ir: the listener's driver → ear IRs (N, 2, T) of the design space (free
    field, or the room's early window), on `sim.transfer`'s time axis; latency: input →
    driver feeds in samples; warnings: design warnings.
    """

    filters: FilterSet
    methods: dict
    align_samples: np.ndarray
    network_delay: int
    upmix: UpmixParams
    design_ir: np.ndarray
    warnings: list[str] = field(default_factory=list)

    @property
    def latency(self) -> int:
        return self.upmix.latency + self.network_delay

    @property
    def fs_hz(self) -> int:
        return self.filters.fs_hz

    @property
    def design_space(self) -> str:
        return self.methods["space"]

    @property
    def n_drivers(self) -> int:
        return self.filters.n_drivers


def matrix_mix_gains(scene: Scene, listener_index: int = 0) -> np.ndarray:
    """Plain stereo matrix (2, N): each driver's share of L and R by its lateral position.

    A driver's lateral offset u ∈ [−1, 1] (toward the listener's left, relative to the widest
    driver) pans it linearly: g_L = (1 + u)/2, g_R = (1 − u)/2; each row is scaled to sum to 1 so
    that at low frequencies, where the drivers add in phase, a channel has unit gain.
    """
    from dsp.plant import lateral_unit

    li = scene.listeners[listener_index]
    pos = scene.device.driver_positions()
    y = (pos - np.asarray(li.position_m)) @ lateral_unit(li)
    y = y - np.mean(y)
    span = float(np.max(np.abs(y))) if y.size else 0.0
    u = y / span if span > 1e-6 else np.zeros_like(y)
    g = np.stack([(1.0 + u) / 2.0, (1.0 - u) / 2.0])
    return g / g.sum(axis=1, keepdims=True)


def check_design_space(scene: Scene, params: RenderParams) -> None:
    """Raise RenderError for an unknown design space, room_early in an anechoic scene, or a
    room_max_hz outside 100 Hz .. fs/2."""
    space = params.design_space
    if space not in DESIGN_SPACES:
        raise RenderError(f"design_space = {space!r} must be one of {', '.join(DESIGN_SPACES)}")
    if space != "room_early":
        return
    if scene.room.is_anechoic:
        raise RenderError(f"design_space = 'room_early': scene {scene.name!r} is anechoic, there"
                          " is no room to design in (use freefield)")
    nyquist = scene.simulation.fs_hz / 2
    if not 100.0 <= params.room_max_hz <= nyquist:
        raise RenderError(f"room_max_hz = {params.room_max_hz:g} Hz must be in 100 .. "
                          f"{nyquist:g} Hz")


def _delta_fir(gains: np.ndarray, n_taps: int, delay: int) -> np.ndarray:
    """(n_in, N, n_taps) FIRs that are gains × a unit impulse at `delay`."""
    fir = np.zeros((*gains.shape, n_taps))
    fir[..., delay] = gains
    return fir


def _design(scene: Scene, params: DesignParams) -> tuple[FilterSet, list[str]]:
    from dsp.design import design

    d = design(scene, params)
    return d.filters, list(d.warnings)


def _lr_network(scene: Scene, p: RenderParams) -> tuple[FilterSet, str, list[str]]:
    n = len(scene.device.drivers)
    if p.lr_design is not None:
        if p.lr_design.method == "beam":
            raise RenderError("lr_design.method = 'beam' has one input; L/R need a two-input"
                              " design (virtualizer, ctc or nullsteer)")
        fs, warn = _design(scene, p.lr_design)
        return fs, p.lr_design.method, warn
    if p.lr_method not in LR_METHODS:
        raise RenderError(f"lr_method = {p.lr_method!r} must be one of {', '.join(LR_METHODS)}")
    delay = p.n_taps // 2
    if p.lr_method == "direct":
        fir = _delta_fir(matrix_mix_gains(scene, p.listener), p.n_taps, delay)
        return FilterSet(fir, scene.simulation.fs_hz, delay, {"inputs": ["left", "right"]}), \
            "direct", []
    method = p.lr_method
    if method == "ctc" and n > 2:
        method = "nullsteer"
    dp = DesignParams(method=method, n_taps=p.n_taps, max_effort_db=p.max_effort_db,
                      listener=p.listener, virtual_angle_deg=p.virtual_angle_deg,
                      virtual_distance_m=p.virtual_distance_m)
    fs, warn = _design(scene, dp)
    return fs, method, warn


def _c_network(scene: Scene, p: RenderParams, lr: FilterSet) -> tuple[np.ndarray, str, list]:
    """C's FIRs (N, taps) and the method used."""
    n = len(scene.device.drivers)
    if p.c_design is not None:
        if p.c_design.method != "beam":
            raise RenderError(f"c_design.method = {p.c_design.method!r}: the centre takes a"
                              " one-input design (beam)")
        fs, warn = _design(scene, p.c_design)
        return fs.fir[0], "beam", warn
    if p.c_method not in C_METHODS:
        raise RenderError(f"c_method = {p.c_method!r} must be one of {', '.join(C_METHODS)}")
    method = p.c_method
    if method == "auto":
        method = "beam" if n >= 3 else "phantom"
    if method == "phantom":
        return (lr.fir[0] + lr.fir[1]) / np.sqrt(2.0), "phantom", []
    if method == "direct":
        g = matrix_mix_gains(scene, p.listener).sum(axis=0) / np.sqrt(2.0)
        return _delta_fir(g[None], p.n_taps, p.n_taps // 2)[0], "direct", []
    if n < 3:
        raise RenderError(f"c_method = 'beam' needs ≥ 3 drivers; device {scene.device.name!r}"
                          f" has {n} (use phantom)")
    dp = DesignParams(method="beam", n_taps=p.n_taps, max_effort_db=p.max_effort_db,
                      listener=p.listener)
    fs, warn = _design(scene, dp)
    return fs.fir[0], "beam", warn


def xcorr_lag(a: np.ndarray, b: np.ndarray, max_lag: int | None = None) -> int:
    """Lag k (samples) maximizing Σ_rows Σ_n a[.., n]·b[.., n − k]: delay b by k to match a.

    a, b: (..., n) signals (rows summed, e.g. two ears); max_lag bounds |k|.
    """
    a = np.asarray(a, dtype=float).reshape(-1, np.shape(a)[-1])
    b = np.asarray(b, dtype=float).reshape(-1, np.shape(b)[-1])
    n = a.shape[-1] + b.shape[-1] - 1
    nfft = 1 << (n - 1).bit_length()
    r = np.fft.irfft(np.sum(np.fft.rfft(a, nfft) * np.conj(np.fft.rfft(b, nfft)), axis=0), nfft)
    lags = np.concatenate([np.arange(0, a.shape[-1]), np.arange(-(b.shape[-1] - 1), 0)])
    vals = np.concatenate([r[:a.shape[-1]], r[nfft - (b.shape[-1] - 1):]])
    if max_lag is not None:
        keep = np.abs(lags) <= max_lag
        lags, vals = lags[keep], vals[keep]
    return int(lags[int(np.argmax(vals))])


def ear_response(fir: np.ndarray, ir: np.ndarray) -> np.ndarray:
    """Ear responses of driver FIRs: fir (N, T1), ir (N, 2, T2) → (2, T1 + T2 − 1)."""
    from scipy.signal import fftconvolve

    return fftconvolve(fir[:, None, :], ir, axes=-1).sum(axis=0)


def _in_room(scene: Scene, filters: FilterSet, irs: RoomIrs, max_effort_db: float,
             p: RenderParams) -> tuple[FilterSet, list[str]]:
    from dsp.design import design_in_room

    moved, err = design_in_room(scene, filters, irs, max_effort_db, p.room_max_hz, p.listener)
    warn = []
    if err > -15.0:
        warn.append(f"room-early design misses its ear target by {err:.1f} dB below"
                    f" {p.room_max_hz:g} Hz: {filters.n_taps} taps are short for"
                    f" {irs.window_ms:g} ms of room response (more taps, a shorter early"
                    " window or a higher effort)")
    return moved, warn


def build_network(scene: Scene, params: RenderParams | None = None) -> Network:
    """Design the L/R and C networks for the scene's device and listener in the design
    space of `params`, and align them.

    Raises RenderError (or DesignError from the designs) with one reason.
    """
    from dsp.plant import room_early_irs
    from sim.transfer import simulate

    p = params or RenderParams()
    check_upmix_params(p.upmix)
    if not scene.listeners or not 0 <= p.listener < len(scene.listeners):
        raise RenderError(f"listener = {p.listener} is not in scene {scene.name!r} "
                          f"({len(scene.listeners)} listeners)")
    check_design_space(scene, p)
    space = p.design_space
    try:
        lr, lr_method, warn = _lr_network(scene, p)
        irs = None
        if space == "room_early":
            irs = room_early_irs(scene, p.listener, p.early_window_ms)
            if lr_method != "direct":  # a plain matrix mix stays plain
                effort = p.lr_design.max_effort_db if p.lr_design else p.max_effort_db
                lr, w = _in_room(scene, lr, irs, effort, p)
                warn += w
        c_fir, c_method, warn_c = _c_network(scene, p, lr)
        if irs is not None and c_method == "beam":
            # The room stage caps the driver gain on the CTC effort scale (re one average
            # driver's ear gain), the same number as the L/R network's cap.
            effort = p.c_design.max_effort_db if p.c_design else p.max_effort_db
            c_fs, w = _in_room(scene, FilterSet(c_fir[None], lr.fs_hz, c_fir.shape[-1] // 2),
                               irs, effort, p)
            c_fir = c_fs.fir[0]
            warn_c = warn_c + w
    except DesignError as e:
        raise RenderError(f"design: {e}") from None
    # The listener's ear responses, in the design space, to C and to a phantom centre
    # through L/R.
    if irs is not None:
        ir = irs.ir
    else:
        ir = simulate(replace(scene, listeners=(scene.listeners[p.listener],)),
                      "freefield").ir[:, 0]  # (N, 2, T)
    mid = ear_response((lr.fir[0] + lr.fir[1]) / np.sqrt(2.0), ir)
    cen = ear_response(c_fir, ir)
    lag = 0 if c_method == "phantom" else xcorr_lag(mid, cen, max_lag=lr.n_taps // 2)
    align = np.array([max(-lag, 0), max(-lag, 0), max(lag, 0)])
    taps = max(lr.n_taps, c_fir.shape[-1]) + int(align.max())
    fir = np.zeros((3, lr.n_drivers, taps))
    for i, col in enumerate((lr.fir[0], lr.fir[1], c_fir)):
        fir[i, :, align[i]:align[i] + col.shape[-1]] = col
    methods = {"LR": lr_method, "C": c_method, "space": space}
    meta = {"inputs": list(INPUTS), "drivers": [d.name for d in scene.device.drivers],
            "methods": methods, "align_samples": align.tolist(),
            "scene": scene.name, "render_params": p.to_dict()}
    fs = FilterSet(fir=fir, fs_hz=scene.simulation.fs_hz, delay_samples=lr.delay_samples
                   + int(align[0]), meta=meta)
    return Network(filters=fs, methods=dict(methods), align_samples=align,
                   network_delay=lr.delay_samples + int(align[0]), upmix=p.upmix,
                   design_ir=ir, warnings=warn + warn_c)


class Renderer:
    """Streaming renderer: blocks (block, 2) of stereo → (block, N) driver feeds.

    Output sample k belongs to input sample k − network.latency. `set_network` swaps filters
    (crossfaded, `crossfade` samples) and upmix settings while running.
    """

    def __init__(self, network: Network, block: int = 256, crossfade: int = 2048):
        self.network = network
        self.block = int(block)
        self._upmix = Upmixer(network.fs_hz, network.upmix)
        self._conv = PartitionedConvolver(network.filters.fir, self.block, crossfade)

    @property
    def latency(self) -> int:
        return self.network.latency

    def reset(self) -> None:
        self._upmix.reset()
        self._conv.reset()

    def set_network(self, network: Network) -> None:
        """Swap to another network of the same device (filters crossfade; an upmix frame-length
        change restarts the upmix, anything else carries over)."""
        if network.n_drivers != self.network.n_drivers:
            raise RenderError(f"new network drives {network.n_drivers} drivers, this renderer"
                              f" {self.network.n_drivers}")
        self._conv.set_filters(network.filters.fir)
        if network.upmix != self.network.upmix:
            self._upmix.set_params(network.upmix)
        self.network = network

    def process(self, x: np.ndarray) -> np.ndarray:
        """One block x (block, 2) → driver feeds (block, N)."""
        return self._conv.process(self._upmix.process(x))


def render_length(n: int, network: Network) -> int:
    """Driver-feed samples for n input samples: upmix output (latency and tail) + FIR tail."""
    return upmix_length(n, network.upmix) + network.filters.n_taps - 1


def render_drivers(x: np.ndarray, network: Network) -> np.ndarray:
    """Offline driver feeds for x (n, 2): (`render_length(n, network)`, N), the stream's output
    for x followed by silence, latency included (upmix offline, then a direct MIMO
    convolution)."""
    lrc = upmix(x, network.fs_hz, network.upmix).signals
    return convolve_offline(lrc, network.filters.fir)


def stream_drivers(x: np.ndarray, network: Network, block: int = 256) -> np.ndarray:
    """The same as `render_drivers`, computed by the streaming `Renderer` block by block."""
    r = Renderer(network, block)
    n_out = render_length(len(x), network)
    n_blocks = -(-n_out // block)
    padded = np.zeros((n_blocks * block, 2))
    padded[:len(x)] = x
    out = np.empty((n_blocks * block, network.n_drivers))
    for k in range(n_blocks):
        out[k * block:(k + 1) * block] = r.process(padded[k * block:(k + 1) * block])
    return out[:n_out]


__all__ = ["C_METHODS", "DESIGN_SPACES", "INPUTS", "LR_METHODS", "Network", "RenderError",
           "RenderParams", "Renderer", "build_network", "check_design_space", "ear_response",
           "matrix_mix_gains", "render_drivers", "render_length", "stream_drivers",
           "xcorr_lag"]
