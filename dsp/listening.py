"""A/B/X listening paths, each as heard at the listener's two ears (binaural, for headphones).

- A: plain stereo through the device: the matrix mix of `dsp.renderer.matrix_mix_gains`, no
  processing;
- B: the spatial renderer (upmix → network → driver feeds) through the device;
- X: the `reference-stereo-pair` device in the same room, ±30° and 2.5 m around the listener
  (`reference_scene`): the target B tries to sound like.

"Heard at the listener" = driver feeds convolved with the scene's driver → ear impulse responses
(free field or room, `sim.transfer.simulate`). For streaming, each path's network and IRs are
folded into one ear filter per input (A: 2 → 2 ears, B: 3 (L, R, C) → 2, X: 2 → 2), which is
what the audition engine runs; the offline renderer (`awb render`) keeps the raw driver feeds.

Alignment: every path gets an input delay so all three reach the ears at the same time
(`ListeningPaths.latency`, input → ears in samples). A path's arrival time is the lag that
maximizes the cross-correlation (both ears summed) of its ear response to a centred input
(L = R = impulse) with the reference pair's, taken on free-field IRs of the same geometry: the
direct sound, the part that sets where and when an image appears, is the same in the room.
B's response is taken on the IRs its network was designed on (`Network.design_ir`: free field,
or the room's early window, whose reflections a room-early network's filters compensate and
without which they are not the filters' actual response). B's centred input is all C after
the upmix (C = √2·S), delayed by the upmix latency.

Loudness: `match_loudness` sets per-path gains so each path's ear signals have the input
programme's integrated loudness (ITU-R BS.1770, `dsp.loudness`), so A/B/X comparisons are fair.

Cues (`cue_report`): ITD, ILD and IACC of whole responses to pink noise (the steady state,
reflections included) and, beside them, of each path's first wavefront (`onset_cues`: the
binaural impulse response's first 5 ms, what the precedence effect localises by).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy.signal import butter, fftconvolve, sosfiltfilt

from dsp.convolver import DelayLine, PartitionedConvolver, convolve_offline
from dsp.loudness import integrated_loudness
from dsp.renderer import Network, RenderError, matrix_mix_gains, xcorr_lag
from dsp.upmix import Upmixer, upmix
from sim.scene import Scene
from sim.task import TaskState, report

PATHS = ("A", "B", "X")
REFERENCE_DEVICE = "reference-stereo-pair"
ITD_BAND_HZ = (200.0, 1500.0)
ILD_BAND_HZ = (1500.0, 8000.0)
MAX_ITD_S = 1e-3
ONSET_MS = 5.0
"""Onset window for precedence-weighted cues, ms after the first wavefront."""
ONSET_LEAD_MS = 1.0
"""The onset window starts this long before the aligned arrival (the ears sit ±0.4 ms around
the head centre, and a filter's main lobe rises over a few taps)."""
ONSET_FADE_MS = 0.5


def reference_scene(scene: Scene, listener_index: int = 0, distance_m: float = 2.5,
                    angle_deg: float = 30.0, margin_m: float = 0.05) -> tuple[Scene, float]:
    """The scene with its device replaced by the reference stereo pair at ±angle_deg,
    distance_m from the listener's head, at ear height, toed in toward the head.

    When the pair does not fit in the room at distance_m, the largest distance down to 1 m
    (5 cm steps) that keeps both loudspeakers `margin_m` inside the walls is used. Returns
    (scene, distance used in m); raises RenderError when not even 1 m fits.
    """
    from sim.scene_io import SceneError, check_scene, load_device

    base = load_device(REFERENCE_DEVICE)
    li = scene.listeners[listener_index]
    head = np.asarray(li.position_m, dtype=float)
    nose = np.deg2rad(li.yaw_deg)
    forward = np.array([np.cos(nose), np.sin(nose), 0.0])
    a = np.deg2rad(angle_deg)
    d = float(distance_m)
    while d >= 1.0 - 1e-9:
        # Device frame: +x toward the listener; "left" (listener's left) sits at local −y.
        drivers = []
        for drv, sign in zip(base.drivers, (-1.0, 1.0), strict=True):
            drivers.append(replace(drv, position_m=(0.0, sign * d * np.sin(a), 0.0),
                                   axis_deg=(-sign * angle_deg, 0.0)))
        origin = head + d * np.cos(a) * forward
        device = replace(base, position_m=tuple(float(v) for v in origin),
                         yaw_deg=float(li.yaw_deg + 180.0), drivers=tuple(drivers),
                         model=REFERENCE_DEVICE)
        ref = replace(scene, name=f"{scene.name}-reference", device=device, listeners=(li,),
                      sources=())
        try:
            check_scene(ref)
            if _clear_of_walls(ref, margin_m):
                return ref, d
        except SceneError:
            pass
        d -= 0.05
    raise RenderError(f"the reference pair does not fit in room {scene.room.name or 'of'}"
                      f" {scene.name!r} around listener {li.name!r}, even at 1 m")


def _clear_of_walls(scene: Scene, margin_m: float) -> bool:
    """True when every driver is at least margin_m inside the room along x, y and z (the
    image-source engine needs its sources strictly inside)."""
    room = scene.room
    if room.is_anechoic:
        return True
    steps = margin_m * np.vstack([np.eye(3), -np.eye(3)])  # (6, 3)
    return all(room.contains(p + step) for p in scene.device.driver_positions()
               for step in steps)


def _single_listener(scene: Scene, index: int) -> Scene:
    return replace(scene, listeners=(scene.listeners[index],), sources=())


def ear_irs(scene: Scene, engine: str, early_only: bool = False,
            state: TaskState | None = None) -> np.ndarray:
    """Driver → ear IRs (N, 2, T) of the scene's first listener with the given engine."""
    from sim.transfer import simulate

    return simulate(scene, engine, early_only=early_only, state=state).ir[:, 0]


@dataclass
class ListeningPaths:
    """The three paths' ear filters and their alignment.

    fs_hz; network: B's Network; device_ir (N, 2, T) and reference_ir (2, 2, T): driver → ear
    IRs used for listening; a_gains (2, N): A's matrix; filters: {"A": (2, 2, T), "B": (3, 2,
    T'), "X": (2, 2, T)} folded ear filters (input → ears, B from L, R, C); delays: input delay
    per path in samples (alignment); arrival: input → ears per path before alignment;
    latency: input → ears after alignment (the same for all paths); gains_db: loudness-matching
    gain per path; engine, early_only; reference_distance_m; scene_name.
    """

    fs_hz: int
    network: Network
    device_ir: np.ndarray
    reference_ir: np.ndarray
    a_gains: np.ndarray
    filters: dict
    delays: dict
    arrival: dict
    latency: int
    engine: str
    early_only: bool = False
    reference_distance_m: float = 2.5
    scene_name: str = ""
    gains_db: dict = field(default_factory=lambda: dict.fromkeys(PATHS, 0.0))

    def gain(self, name: str) -> float:
        return 10.0 ** (self.gains_db.get(name, 0.0) / 20.0)


def _centre_responses(network: Network, a_gains: np.ndarray, dev_ir: np.ndarray,
                      ref_ir: np.ndarray, b_ir: np.ndarray | None = None) -> dict:
    """Ear responses (2, T) of each path to a centred input (L = R = unit impulse); B's
    through b_ir (default dev_ir)."""
    from dsp.renderer import ear_response

    b = ear_response(np.sqrt(2.0) * network.filters.fir[2], dev_ir if b_ir is None else b_ir)
    return {"A": np.einsum("d,det->et", a_gains.sum(axis=0), dev_ir),
            "B": np.concatenate([np.zeros((2, network.upmix.latency)), b], axis=1),
            "X": ref_ir.sum(axis=0)}


def _fold(fir: np.ndarray, ir: np.ndarray) -> np.ndarray:
    """Ear filters (n_in, 2, T1 + T2 − 1) of a network fir (n_in, N, T1) and IRs (N, 2, T2)."""
    return fftconvolve(fir[:, :, None, :], ir[None], axes=-1).sum(axis=1)


def build_paths(scene: Scene, network: Network, engine: str | None = None,
                early_only: bool = False, listener: int = 0, reference_distance_m: float = 2.5,
                state: TaskState | None = None) -> ListeningPaths:
    """Simulate the device and the reference pair for one listener and make the A/B/X paths.

    engine: "freefield" or "room" (default: room unless the room is anechoic); early_only: the
    room engine's fast early-reflections mode.
    """
    from sim.transfer import simulate

    if engine is None:
        engine = "freefield" if scene.room.is_anechoic else "room"
    if scene.simulation.fs_hz != network.fs_hz:
        raise RenderError(f"network is at {network.fs_hz} Hz but the scene at"
                          f" {scene.simulation.fs_hz} Hz")
    one = _single_listener(scene, listener)
    ref, dist = reference_scene(scene, listener, reference_distance_m)
    report(state, 0.0, "listening paths: device")
    dev_ir = ear_irs(one, engine, early_only, state.sub(0.0, 0.45) if state else None)
    report(state, 0.45, "listening paths: reference pair")
    ref_ir = ear_irs(ref, engine, early_only, state.sub(0.45, 0.9) if state else None)
    report(state, 0.9, "listening paths: alignment")
    a_gains = matrix_mix_gains(scene, listener)
    # Alignment on free-field IRs of the same geometry (see the module docstring).
    ff_dev = dev_ir if engine == "freefield" else simulate(one, "freefield").ir[:, 0]
    ff_ref = ref_ir if engine == "freefield" else simulate(ref, "freefield").ir[:, 0]
    resp = _centre_responses(network, a_gains, ff_dev, ff_ref, network.design_ir)
    energy = np.sum(resp["X"] ** 2, axis=0)
    arrival = {"X": int(np.argmax(energy))}
    for name in ("A", "B"):
        arrival[name] = arrival["X"] + xcorr_lag(resp[name], resp["X"])
    latency = max(arrival.values())
    delays = {k: latency - v for k, v in arrival.items()}
    t = max(dev_ir.shape[-1], ref_ir.shape[-1])
    dev_ir = np.pad(dev_ir, ((0, 0), (0, 0), (0, t - dev_ir.shape[-1])))
    ref_ir = np.pad(ref_ir, ((0, 0), (0, 0), (0, t - ref_ir.shape[-1])))
    filters = {"A": np.einsum("id,det->iet", a_gains, dev_ir),
               "B": _fold(network.filters.fir, dev_ir),
               "X": ref_ir.copy()}
    report(state, 1.0, "listening paths: ready")
    return ListeningPaths(fs_hz=network.fs_hz, network=network, device_ir=dev_ir,
                          reference_ir=ref_ir, a_gains=a_gains, filters=filters, delays=delays,
                          arrival=arrival, latency=latency, engine=engine,
                          early_only=early_only, reference_distance_m=dist,
                          scene_name=scene.name)


def path_length(n: int, paths: ListeningPaths, name: str) -> int:
    """Output samples of a path for n input samples (delay, upmix tail for B, filter tail)."""
    extra = paths.network.upmix.latency + paths.network.upmix.frame - 1 if name == "B" else 0
    return n + paths.delays[name] + extra + paths.filters[name].shape[-1] - 1


def render_path(x: np.ndarray, paths: ListeningPaths, name: str) -> np.ndarray:
    """Offline ear signals (path_length(n), 2) of one path for x (n, 2), aligned and with the
    path's loudness gain; equal to `PathStream` output for x followed by silence."""
    d = paths.delays[name]
    xd = np.concatenate([np.zeros((d, 2)), np.asarray(x, dtype=float)])
    if name == "B":
        xd = upmix(xd, paths.fs_hz, paths.network.upmix).signals
    return paths.gain(name) * convolve_offline(xd, paths.filters[name])


class PathStream:
    """All three paths streamed side by side, so switching between them is instant (the
    `dsp.audition.PathSource` of the renderer's audition).

    `process(x (block, 2))` → (3, block, 2) ear signals of A, B, X (aligned, loudness gains
    applied). `set_network` swaps B's network while running (crossfaded).
    """

    names = PATHS
    channels = 2

    def __init__(self, paths: ListeningPaths, block: int = 512, crossfade: int = 2048):
        self.paths = paths
        self.block = int(block)
        self._delay = {k: DelayLine([paths.delays[k]] * 2) for k in PATHS}
        self._upmix = Upmixer(paths.fs_hz, paths.network.upmix)
        longest = max(f.shape[-1] for f in paths.filters.values())
        self._conv = {k: PartitionedConvolver(paths.filters[k], self.block, crossfade,
                                              max_taps=2 * longest if k == "B" else 0)
                      for k in PATHS}
        self._gain = np.array([paths.gain(k) for k in PATHS])
        self.lrc_rms = np.zeros(3)  # RMS of the upmix's L, R, C over the last block

    @property
    def fs_hz(self) -> int:
        return self.paths.fs_hz

    @property
    def latency(self) -> int:
        """Input → ears in samples (after alignment, the same for every path)."""
        return self.paths.latency

    @property
    def tail(self) -> int:
        """Samples the ears keep ringing after the input stops: the latency, the longest ear
        filter and the upmix frame."""
        p = self.paths
        return (p.latency + max(f.shape[-1] for f in p.filters.values())
                + p.network.upmix.frame)

    def reset(self) -> None:
        for k in PATHS:
            self._delay[k].reset()
            self._conv[k].reset()
        self._upmix.reset()

    def set_gains_db(self, gains_db: dict) -> None:
        self.paths.gains_db = dict(gains_db)
        self._gain = np.array([self.paths.gain(k) for k in PATHS])

    def set_network(self, network: Network) -> None:
        """Swap B to a new network of the same device. Its ear filters are folded here (the
        caller's thread) and padded so B's arrival time stays where the alignment put it; a
        network that would arrive later than that needs new paths (RenderError)."""
        p = self.paths
        if network.n_drivers != p.network.n_drivers or network.fs_hz != p.fs_hz:
            raise RenderError("the new network is for another device or sample rate")
        if network.upmix.frame != p.network.upmix.frame:
            raise RenderError("a new upmix frame length changes the latency: build new paths")
        new = _fold(network.filters.fir, p.device_ir)
        old_resp = _centre_responses(p.network, p.a_gains, p.device_ir, p.reference_ir)["B"]
        new_resp = _centre_responses(network, p.a_gains, p.device_ir, p.reference_ir)["B"]
        shift = xcorr_lag(old_resp, new_resp)  # delay the new one by this to match the old
        if shift < 0:
            raise RenderError(f"the new network arrives {-shift} samples later than the"
                              " alignment allows: build new paths")
        new = np.concatenate([np.zeros((3, 2, shift)), new], axis=-1)
        self._conv["B"].set_filters(new)
        self._upmix.set_params(network.upmix)
        p.filters = {**p.filters, "B": new}
        p.network = network

    def process(self, x: np.ndarray) -> np.ndarray:
        """One input block (block, 2) → (3, block, 2): A, B, X at the ears."""
        a = self._conv["A"].process(self._delay["A"].process(x))
        lrc = self._upmix.process(self._delay["B"].process(x))
        self.lrc_rms = np.sqrt(np.mean(lrc * lrc, axis=0))
        b = self._conv["B"].process(lrc)
        xx = self._conv["X"].process(self._delay["X"].process(x))
        return np.stack([a, b, xx]) * self._gain[:, None, None]


def stream_path(x: np.ndarray, paths: ListeningPaths, name: str, block: int = 256,
                state: TaskState | None = None) -> np.ndarray:
    """`render_path` computed the streaming way (delay line, streaming upmix for B,
    partitioned convolution), block by block: (path_length(n), 2), unit gain."""
    n_out = path_length(len(x), paths, name)
    delay = DelayLine([paths.delays[name]] * 2)
    up = Upmixer(paths.fs_hz, paths.network.upmix) if name == "B" else None
    conv = PartitionedConvolver(paths.filters[name], block)
    return _stream(x, n_out, block, lambda b: conv.process(
        up.process(delay.process(b)) if up is not None else delay.process(b)), 2, state)


def drivers_to_ears(drivers: np.ndarray, paths: ListeningPaths, block: int = 256,
                    state: TaskState | None = None) -> np.ndarray:
    """Ear signals (n + T − 1, 2) of driver feeds (n, N) through the device IRs (N, 2, T),
    streamed: what path B sounds like, from the raw feeds."""
    conv = PartitionedConvolver(paths.device_ir, block)
    return _stream(drivers, len(drivers) + paths.device_ir.shape[-1] - 1, block, conv.process,
                   2, state)


def _stream(x: np.ndarray, n_out: int, block: int, fn, channels: int,
            state: TaskState | None) -> np.ndarray:
    """Feed x (n, c) and then zeros through fn in blocks; (n_out, channels)."""
    n_blocks = -(-n_out // block)
    out = np.empty((n_blocks * block, channels))
    buf = np.zeros((block, x.shape[1]))
    for k in range(n_blocks):
        chunk = x[k * block:(k + 1) * block]
        buf[:len(chunk)] = chunk
        buf[len(chunk):] = 0.0
        out[k * block:(k + 1) * block] = fn(buf)
        if state is not None and k % 256 == 0:
            state.check()
    return out[:n_out]


def match_loudness(paths: ListeningPaths, x: np.ndarray, max_seconds: float = 20.0,
                   outputs: dict | None = None) -> dict:
    """Per-path gains (dB) that give each path's ear signals the loudness of the input x (n, 2).

    Rendered on at most `max_seconds` of x (a centred excerpt) unless the full `outputs`
    ({name: ear signals (n, 2)} rendered with unit gain) are given. Sets and returns
    `paths.gains_db`.
    """
    fs = paths.fs_hz
    x = np.asarray(x, dtype=float)
    if outputs is None:
        n = min(len(x), int(max_seconds * fs))
        start = (len(x) - n) // 2
        x = x[start:start + n]
        saved, paths.gains_db = paths.gains_db, dict.fromkeys(PATHS, 0.0)
        try:
            outputs = {k: render_path(x, paths, k) for k in PATHS}
        finally:
            paths.gains_db = saved
    target = integrated_loudness(x, fs)
    gains = {}
    for k in PATHS:
        level = integrated_loudness(outputs[k], fs)
        gains[k] = float(target - level) if np.isfinite(level) and np.isfinite(target) else 0.0
    paths.gains_db = gains
    return gains


# ------------------------------------------------------------------------------------------
# Interaural cues of ear signals.


def _band(x: np.ndarray, fs: float, band: tuple[float, float]) -> np.ndarray:
    sos = butter(4, [band[0], min(band[1], 0.45 * fs)], btype="bandpass", fs=fs, output="sos")
    return sosfiltfilt(sos, x, axis=0)


def _norm_xcorr(left: np.ndarray, right: np.ndarray, max_lag: int) -> tuple[np.ndarray,
                                                                             np.ndarray]:
    """Normalized cross-correlation r[k] = Σ right[n]·left[n − k] / √(E_l E_r), |k| ≤ max_lag
    (k > 0: the right ear lags). Returns (lags, r)."""
    n = len(left) + len(right) - 1
    nfft = 1 << (n - 1).bit_length()
    r = np.fft.irfft(np.fft.rfft(right, nfft) * np.conj(np.fft.rfft(left, nfft)), nfft)
    lags = np.arange(-max_lag, max_lag + 1)
    vals = r[lags % nfft]
    norm = np.sqrt(np.sum(left ** 2) * np.sum(right ** 2))
    return lags, vals / norm if norm > 0 else vals * 0.0


def interaural_cues(ears: np.ndarray, fs_hz: float) -> dict:
    """ITD, ILD and IACC of ear signals (n, 2) (left ear first).

    itd_us: lag of the cross-correlation peak of the ears band-passed to 200–1500 Hz, within
    ±1 ms, parabolic-interpolated (positive: the right ear lags, i.e. the image is left);
    ild_db: level difference left − right over 1.5–8 kHz; iacc: max |normalized broadband
    cross-correlation| within ±1 ms (ISO 3382-1's IACC, 1 = identical ears, 0 = independent).
    """
    ears = np.asarray(ears, dtype=float)
    max_lag = round(MAX_ITD_S * fs_hz)
    low = _band(ears, fs_hz, ITD_BAND_HZ)
    lags, r = _norm_xcorr(low[:, 0], low[:, 1], max_lag)
    k = int(np.argmax(r))
    frac = 0.0
    if 0 < k < len(r) - 1:
        den = r[k - 1] - 2 * r[k] + r[k + 1]
        frac = 0.5 * (r[k - 1] - r[k + 1]) / den if den != 0 else 0.0
    high = _band(ears, fs_hz, ILD_BAND_HZ)
    e = np.sum(high ** 2, axis=0)
    ild = 10 * np.log10(max(e[0], 1e-300) / max(e[1], 1e-300))
    _, rb = _norm_xcorr(ears[:, 0], ears[:, 1], max_lag)
    return {"itd_us": float(1e6 * (lags[k] + frac) / fs_hz), "ild_db": float(ild),
            "iacc": float(np.max(np.abs(rb)))}


def onset_window(ears: np.ndarray, start: int, fs_hz: float, window_ms: float = ONSET_MS,
                 fade_ms: float = ONSET_FADE_MS) -> np.ndarray:
    """The part of ear responses (n, 2) from sample `start` to start + window_ms (ms), ending in
    a half-cosine fade of fade_ms, zero-padded by 10 ms on both sides so the cue band-passes
    have room to ring: (m, 2)."""
    ears = np.asarray(ears, dtype=float)
    n = round(window_ms * 1e-3 * fs_hz)
    if not 0 <= start < len(ears) or n < 1:
        raise RenderError(f"onset window at sample {start} ({window_ms:g} ms) lies outside the"
                          f" {len(ears)}-sample response")
    seg = ears[start:start + n].copy()
    fade = min(round(fade_ms * 1e-3 * fs_hz), len(seg))
    if fade > 0:
        seg[len(seg) - fade:] *= (0.5 + 0.5 * np.cos(np.pi * (np.arange(fade) + 1) / fade))[:,
                                                                                          None]
    pad = round(0.01 * fs_hz)
    return np.pad(seg, ((pad, pad), (0, 0)))


def onset_cues(paths: ListeningPaths, window_ms: float = ONSET_MS) -> dict:
    """Cues of the first wavefront: `interaural_cues` of each path's binaural impulse response
    (a click panned hard left, centre, hard right, through the path as `render_path` plays
    it, upmix included for B) over ONSET_LEAD_MS before to window_ms after the aligned arrival
    (`paths.latency`). By the precedence effect localisation follows this part; reflections
    later than window_ms do not enter.

    Returns {"window_ms", "stimuli": {stim: {path: cues}}, "errors": {stim: {"A"|"B":
    {itd_us, ild_db}}}} (path − X).
    """
    fs = paths.fs_hz
    start = paths.latency - round(ONSET_LEAD_MS * 1e-3 * fs)
    out: dict = {"window_ms": window_ms, "stimuli": {}, "errors": {}}
    for name, gains in (("left", (1.0, 0.0)), ("centre", (1.0, 1.0)), ("right", (0.0, 1.0))):
        click = np.array([gains], dtype=float)
        cues = {k: interaural_cues(onset_window(render_path(click, paths, k), start, fs,
                                                window_ms + ONSET_LEAD_MS), fs) for k in PATHS}
        out["stimuli"][name] = cues
        out["errors"][name] = {k: {"itd_us": cues[k]["itd_us"] - cues["X"]["itd_us"],
                                   "ild_db": cues[k]["ild_db"] - cues["X"]["ild_db"]}
                               for k in ("A", "B")}
    return out


def cue_report(paths: ListeningPaths, seconds: float = 3.0, seed: int = 7,
               programme: np.ndarray | None = None) -> dict:
    """Interaural cues of A, B, X for pink noise panned hard left, centre and hard right (the
    steady state: whole responses, reflections included), the IACC of each path for
    uncorrelated ('wide') pink noise and for the programme, and the precedence-weighted
    onset cues (`onset_cues`) beside them.

    Returns {"stimuli": {stim: {path: cues}}, "errors": {stim: {"B": {itd_us, ild_db}, "A": …}}
    (path − X), "iacc": {"wide": {path: iacc}, "programme": {path: iacc}}, "onset":
    `onset_cues(paths)`, "design_space": B's network's design space}.
    """
    from dsp.signals import pink_noise

    fs = paths.fs_hz
    n = int(seconds * fs)
    s = pink_noise(n, seed) * 0.1
    zero = np.zeros(n)
    stimuli = {"left": np.stack([s, zero], 1), "centre": np.stack([s, s], 1),
               "right": np.stack([zero, s], 1)}
    out: dict = {"stimuli": {}, "errors": {}, "iacc": {}}
    for name, x in stimuli.items():
        cues = {k: interaural_cues(render_path(x, paths, k), fs) for k in PATHS}
        out["stimuli"][name] = cues
        out["errors"][name] = {k: {"itd_us": cues[k]["itd_us"] - cues["X"]["itd_us"],
                                   "ild_db": cues[k]["ild_db"] - cues["X"]["ild_db"]}
                               for k in ("A", "B")}
    wide = np.stack([s, pink_noise(n, seed + 1) * 0.1], 1)
    out["iacc"]["wide"] = {k: interaural_cues(render_path(wide, paths, k), fs)["iacc"]
                           for k in PATHS}
    if programme is not None:
        prog = programme[:int(min(len(programme), 20 * fs))]
        out["iacc"]["programme"] = {k: interaural_cues(render_path(prog, paths, k), fs)["iacc"]
                                    for k in PATHS}
    out["onset"] = onset_cues(paths)
    out["design_space"] = paths.network.design_space
    return out
