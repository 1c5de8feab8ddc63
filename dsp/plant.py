"""The plant a design inverts: driver → ear transfer at the design head positions, with the
bulk propagation delay removed, plus the geometry checks that make a design impossible.

G (F, 2P, D): rows are (left, right) ears of P head positions (sweet spot first, then the
lateral displacements of a robust design), columns are drivers. The bulk delay τ0 =
(nearest driver distance − head radius)/c is taken out so the FIR's modelling delay only has
to cover the spread of arrival times across drivers and ears, not the flight time.

`design_plant` is the free-field plant (analytic, any head positions); `room_plant` the one in
the scene's room: the room engine's early-only IRs at the sweet spot (direct sound and the
first reflections), cut `window_ms` after the last direct arrival, for designs that compensate
the reflections a free-field design leaves uncorrected.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dsp.params import DesignError
from sim.freefield import ear_transfer_at
from sim.scene import Listener, Scene
from sim.task import TaskState

MIN_DRIVER_SPACING_M = 1e-3
HEAD_CLEARANCE_M = 0.01
ROOM_FADE_MS = 1.0
"""Half-cosine fade at the end of the room plant's window, ms (no step in the cut IRs)."""


@dataclass
class Plant:
    """Design plant.

    freqs_hz (F,); G (F, 2P, D) complex, bulk delay removed; bulk_delay_s: τ0; g_ref (F,):
    rms |driver → ear| gain at the sweet spot (the effort reference: 0 dB effort = 1/g_ref);
    heads_m (P, 3) head centres; spread_samples: arrival-time spread across drivers and ears
    at the sweet spot, in samples.
    """

    freqs_hz: np.ndarray
    G: np.ndarray
    bulk_delay_s: float
    g_ref: np.ndarray
    heads_m: np.ndarray
    spread_samples: float


def listener_of(scene: Scene, index: int) -> Listener:
    if not scene.listeners:
        raise DesignError(f"scene {scene.name!r} has no listener to design for")
    if not 0 <= index < len(scene.listeners):
        raise DesignError(f"listener = {index} is out of range (scene has "
                          f"{len(scene.listeners)} listeners)")
    return scene.listeners[index]


def lateral_unit(listener: Listener) -> np.ndarray:
    """Room-frame unit vector (3,) toward the listener's left (the interaural axis)."""
    a = np.deg2rad(listener.yaw_deg + 90.0)
    return np.array([np.cos(a), np.sin(a), 0.0])


def check_geometry(scene: Scene, listener_index: int = 0) -> None:
    """Raise DesignError for coincident drivers or a head inside/against the device."""
    dev = scene.device
    if not dev.drivers:
        raise DesignError(f"device {dev.name!r} has no drivers")
    pos = dev.driver_positions()
    if len(pos) > 1:
        d = np.linalg.norm(pos[:, None] - pos[None], axis=-1)
        d[np.diag_indices(len(pos))] = np.inf
        i, j = np.unravel_index(np.argmin(d), d.shape)
        if d[i, j] < MIN_DRIVER_SPACING_M:
            raise DesignError(f"drivers {dev.drivers[i].name!r} and {dev.drivers[j].name!r} are"
                              f" coincident ({1e3 * d[i, j]:.2f} mm apart): their responses are"
                              " identical, so no filter can tell them apart")
    li = listener_of(scene, listener_index)
    head = np.asarray(li.position_m, dtype=float)
    dist = np.linalg.norm(pos - head, axis=1)
    k = int(np.argmin(dist))
    need = li.head_radius_m + HEAD_CLEARANCE_M
    origin = float(np.linalg.norm(np.asarray(dev.position_m) - head))
    if dist[k] < need or origin < need:
        raise DesignError(f"listener {li.name!r} at {[round(float(v), 3) for v in head]} m is"
                          f" inside the device: driver {dev.drivers[k].name!r} is"
                          f" {dist[k]:.3f} m from the head centre (needs > {need:.3f} m)")


def head_positions(listener: Listener, robust_cm: float, points: int) -> np.ndarray:
    """Sweet spot first, then lateral displacements spread evenly over ±robust_cm."""
    centre = np.asarray(listener.position_m, dtype=float)
    if robust_cm <= 0:
        return centre[None]
    offs = np.linspace(-robust_cm, robust_cm, points) / 100.0
    offs = offs[np.abs(offs) > 1e-9]
    return np.vstack([centre, centre + offs[:, None] * lateral_unit(listener)])


def spread_samples(scene: Scene, listener: Listener) -> float:
    """Arrival-time spread at the ears across drivers (samples): the shortest modelling delay
    an inverse needs before its main taps."""
    pos = scene.device.driver_positions()
    dist = np.linalg.norm(pos - np.asarray(listener.position_m), axis=1)
    a = listener.head_radius_m
    # Ear arrivals lie within ±(a + the way round the head, ≤ πa/2) of the head-centre time.
    span = (dist.max() - dist.min()) + a * (1.0 + np.pi / 2)
    return float(span / scene.simulation.c_m_s * scene.simulation.fs_hz)


def check_taps(scene: Scene, listener: Listener, n_taps: int, delay: int, extra: float = 0.0):
    """Raise DesignError when the FIR cannot hold the path-delay spread (+ extra samples)."""
    need = spread_samples(scene, listener) + extra + 8.0  # + a few taps of sinc main lobe
    if delay < need:
        raise DesignError(f"delay = {delay} samples is too short: the driver → ear paths span"
                          f" {need:.0f} samples, so the modelling delay needs ≥ {np.ceil(need):.0f}"
                          f" samples")
    if n_taps - delay < need:
        raise DesignError(f"taps = {n_taps} is too short for the delay: {delay} samples of"
                          f" modelling delay leave {n_taps - delay} taps after it, but the paths"
                          f" span {need:.0f} samples (use ≥ {int(np.ceil(delay + need))} taps)")


def design_plant(scene: Scene, freqs_hz: np.ndarray, listener_index: int = 0,
                 robust_cm: float = 0.0, robust_points: int = 5) -> Plant:
    """Plant at the sweet spot (and displaced heads for a robust design), free field."""
    li = listener_of(scene, listener_index)
    heads = head_positions(li, robust_cm, robust_points)
    f = np.asarray(freqs_hz, dtype=float)
    h = ear_transfer_at(scene, f, heads, li.yaw_deg, li)  # (F, D, P, 2)
    dist = np.linalg.norm(scene.device.driver_positions() - heads[0], axis=1)
    tau0 = max(float(dist.min()) - li.head_radius_m, 0.0) / scene.simulation.c_m_s
    h = h * np.exp(2j * np.pi * f * tau0)[:, None, None, None]
    G = np.transpose(h, (0, 2, 3, 1)).reshape(f.size, -1, h.shape[1])  # (F, 2P, D)
    g_ref = np.sqrt(np.mean(np.abs(G[:, :2, :]) ** 2, axis=(1, 2)))
    return Plant(freqs_hz=f, G=G, bulk_delay_s=tau0, g_ref=g_ref, heads_m=heads,
                 spread_samples=spread_samples(scene, li))


@dataclass
class RoomIrs:
    """Driver → ear IRs the room plant is made of: ir (N, 2, T) at the sweet spot, the room
    engine's time axis (leading `t0_samples`), cut and faded at `end_samples`; window_ms."""

    ir: np.ndarray
    t0_samples: int
    end_samples: int
    window_ms: float


def room_early_irs(scene: Scene, listener_index: int = 0, window_ms: float = 20.0,
                   state: TaskState | None = None) -> RoomIrs:
    """The sweet spot's early-only room IRs (`sim.transfer.simulate(..., early_only=True)`)
    cut window_ms (ms) after the latest direct arrival, ending in a ROOM_FADE_MS half-cosine.

    Raises DesignError for an anechoic room, a window outside 1 .. 200 ms, or a window that
    ends after the room engine's early part (`Simulation.early_ms`).
    """
    from dataclasses import replace

    from sim.transfer import simulate

    li = listener_of(scene, listener_index)
    if scene.room.is_anechoic:
        raise DesignError(f"scene {scene.name!r} is anechoic: there is no room to design in"
                          " (use the free-field design space)")
    if not 1.0 <= window_ms <= 200.0:
        raise DesignError(f"early window = {window_ms:g} ms must be in 1 .. 200 ms")
    s = scene.simulation
    dist = np.linalg.norm(scene.device.driver_positions() - np.asarray(li.position_m), axis=1)
    direct_ms = 1e3 * (float(dist.max()) + li.head_radius_m) / s.c_m_s
    if direct_ms + window_ms > s.early_ms:
        raise DesignError(f"early window = {window_ms:g} ms ends {direct_ms + window_ms:.0f} ms"
                          f" after emission, past the room engine's early part"
                          f" ({s.early_ms:g} ms): shorten the window or raise early_ms")
    one = replace(scene, listeners=(li,), sources=())
    res = simulate(one, "room", early_only=True, state=state)
    end = res.t0_samples + round((direct_ms + window_ms) * 1e-3 * s.fs_hz)
    fade = round(ROOM_FADE_MS * 1e-3 * s.fs_hz)
    ir = res.ir[:, 0, :, :end].copy()
    ir[..., end - fade:] *= 0.5 + 0.5 * np.cos(np.pi * (np.arange(fade) + 1) / fade)
    return RoomIrs(ir=ir, t0_samples=res.t0_samples, end_samples=end, window_ms=window_ms)


def room_plant(scene: Scene, freqs_hz: np.ndarray, irs: RoomIrs,
               listener_index: int = 0) -> Plant:
    """Plant (one head: the sweet spot) of the room IRs `irs` on the rfft grid freqs_hz of
    n_fft = 2 (F − 1) points, with the same bulk delay τ0 as `design_plant` so the two plants
    share one time reference. Raises DesignError when the cut IRs are longer than n_fft (the
    grid would alias them): more taps or a shorter window."""
    li = listener_of(scene, listener_index)
    f = np.asarray(freqs_hz, dtype=float)
    fs = scene.simulation.fs_hz
    n_fft = 2 * (f.size - 1)
    if irs.end_samples > n_fft:
        raise DesignError(f"early window = {irs.window_ms:g} ms spans {irs.end_samples} samples"
                          f" of room response, more than the design grid ({n_fft} points):"
                          " use more taps or a shorter window")
    head = np.asarray(li.position_m, dtype=float)
    dist = np.linalg.norm(scene.device.driver_positions() - head, axis=1)
    tau0 = max(float(dist.min()) - li.head_radius_m, 0.0) / scene.simulation.c_m_s
    h = np.fft.rfft(irs.ir, n_fft, axis=-1)  # (N, 2, F)
    h = h * np.exp(2j * np.pi * f * (irs.t0_samples / fs + tau0))
    G = np.transpose(h, (2, 1, 0))  # (F, 2, N)
    g_ref = np.sqrt(np.mean(np.abs(G) ** 2, axis=(1, 2)))
    return Plant(freqs_hz=f, G=G, bulk_delay_s=tau0, g_ref=g_ref, heads_m=head[None],
                 spread_samples=spread_samples(scene, li))
