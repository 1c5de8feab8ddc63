"""HRTF virtualization of a virtual loudspeaker pair at ±angle, and the stereo virtualizer
(virtualization ∘ CTC).

Per virtual source the ipsilateral ear gets an all-pass (a pure delay: timbre untouched) and
the contralateral ear a delayed low-pass, R̂(f) = e^{-j2πfτ} · L(f), fitted to the listener's
own relative HRTF R(f) = H_contra / H_ipsi (rigid sphere or SOFA, via `sim.freefield`):
- L: two cascaded one-pole/one-zero shelves (Brown & Duda's head-shadow filter, doubled so it
  can follow the sphere's ILD from ≈1 dB at 500 Hz to ≈10 dB at 8 kHz), least-squares fitted
  to the 1/3-octave ILD over 100 Hz–16 kHz;
- τ: the interaural time difference of R minus that of L, both by the same estimator
  (`interaural_delay_s`), so the cascade reproduces the ITD exactly by construction.
The fit error (ILD per band, ITD) is reported. The stereo virtualizer then asks the inverse
(`dsp.inverse`) for ear signals V(f) = [[1, R̂_R], [R̂_L, 1]] instead of the identity.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import least_squares

from dsp.bands import band_db, band_grid, third_octave_centres
from sim.directivity import Omni
from sim.freefield import ear_transfer_at
from sim.scene import Device, Driver, Listener, Scene

ITD_BAND_HZ = (200.0, 1500.0)
"""Band of the interaural phase-delay fit (where ITD is the dominant lateralization cue)."""


def interaural_delay_s(h_left: np.ndarray, h_right: np.ndarray,
                       freqs_hz: np.ndarray) -> float | np.ndarray:
    """ITD in s (positive: the right ear lags) from two ear responses (F, ...) at freqs (F,):
    least-squares slope through the origin of the unwrapped interaural phase over
    ITD_BAND_HZ (a phase-delay estimate; linear in the phase, so delays add). A float for
    responses (F,), else an array of the trailing shape."""
    f = np.asarray(freqs_hz, dtype=float)
    m = (f >= ITD_BAND_HZ[0]) & (f <= ITD_BAND_HZ[1])
    if np.count_nonzero(m) < 3:
        raise ValueError("need ≥ 3 frequencies in the ITD band")
    order = np.argsort(f[m])
    fm = f[m][order]
    phi = np.unwrap(np.angle((h_right * np.conj(h_left))[m][order]), axis=0)
    # The band starts low enough (200 Hz: a turn is 5 ms) that no real ITD wraps there.
    w = 2 * np.pi * fm
    tau = -np.tensordot(w, phi, axes=(0, 0)) / np.sum(w * w)
    return float(tau) if np.ndim(tau) == 0 else tau


def shelf(freqs_hz: np.ndarray, fz_hz: float, fp_hz: float) -> np.ndarray:
    """One-pole/one-zero analog shelf (1 + jf/fz)/(1 + jf/fp): a low-pass shelf for fz > fp,
    HF gain fp/fz, minimum phase."""
    f = np.asarray(freqs_hz, dtype=float)
    return (1 + 1j * f / fz_hz) / (1 + 1j * f / fp_hz)


@dataclass(frozen=True)
class SideFit:
    """Fitted contralateral path of one virtual source: delay_s τ, shelves ((fz, fp), ...)."""

    delay_s: float
    shelves: tuple[tuple[float, float], ...]

    def response(self, freqs_hz: np.ndarray) -> np.ndarray:
        """R̂(f) (F,) complex: contra/ipsi of the model."""
        f = np.asarray(freqs_hz, dtype=float)
        out = np.exp(-2j * np.pi * f * self.delay_s)
        for fz, fp in self.shelves:
            out = out * shelf(f, fz, fp)
        return out


@dataclass(frozen=True)
class VirtualFit:
    """Both sides of the virtual pair plus the fit error.

    left / right: the fits for the virtual source on the listener's left / right;
    band_hz: 1/3-octave centres; ild_error_db: (2, B) model − head ILD (left, right source);
    itd_error_us: (2,) model − head ITD; angle_deg, distance_m: the virtual pair.
    """

    left: SideFit
    right: SideFit
    band_hz: np.ndarray
    ild_error_db: np.ndarray
    itd_error_us: np.ndarray
    angle_deg: float
    distance_m: float

    def matrix(self, freqs_hz: np.ndarray) -> np.ndarray:
        """Binaural synthesis V (F, 2 ears, 2 inputs): ipsi 1, contra R̂."""
        f = np.asarray(freqs_hz, dtype=float)
        v = np.ones((f.size, 2, 2), dtype=complex)
        v[:, 1, 0] = self.left.response(f)   # left input → right (contra) ear
        v[:, 0, 1] = self.right.response(f)  # right input → left (contra) ear
        return v


def virtual_pair_scene(scene: Scene, listener: Listener, angle_deg: float,
                       distance_m: float) -> Scene:
    """The scene with its device replaced by two omni sources at ±angle, distance_m from the
    listener's head ("left" on the listener's left), facing it."""
    head = np.asarray(listener.position_m, dtype=float)
    yaw = np.deg2rad(listener.yaw_deg)
    drivers = []
    for name, sign in (("left", 1.0), ("right", -1.0)):
        a = yaw + sign * np.deg2rad(angle_deg)
        p = head + distance_m * np.array([np.cos(a), np.sin(a), 0.0])
        drivers.append(Driver(name=name, position_m=tuple(float(v) for v in p),
                              directivity=Omni()))
    dev = Device(name="virtual-pair", position_m=(0.0, 0.0, 0.0), drivers=tuple(drivers))
    return replace(scene, device=dev)


@functools.cache
def _reference_device() -> Device:
    """The `reference-stereo-pair` preset, read once (every virtualizer redesign asks)."""
    from sim.scene_io import load_device

    return load_device("reference-stereo-pair")


def reference_pair_ears(scene: Scene, listener_index: int, freqs_hz: np.ndarray) -> np.ndarray:
    """Ear responses (F, 2 speakers, 2 ears) of the `reference-stereo-pair` preset placed in
    front of the listener so that it sees the pair at ±30° (its documented set-up): what the
    virtualizer's ITD and ILD are scored against."""
    li = scene.listeners[listener_index]
    ref = _reference_device()
    yaw = np.deg2rad(li.yaw_deg)
    pos = np.asarray(li.position_m) + 1.25 / np.tan(np.deg2rad(30.0)) * np.array(
        [np.cos(yaw), np.sin(yaw), 0.0])
    dev = replace(ref, position_m=tuple(float(v) for v in pos), yaw_deg=li.yaw_deg + 180.0)
    rs = replace(scene, device=dev)
    return ear_transfer_at(rs, freqs_hz, np.asarray(li.position_m)[None], li.yaw_deg, li)[:, :, 0]


def head_ears(scene: Scene, listener: Listener, angle_deg: float, distance_m: float,
              freqs_hz: np.ndarray) -> np.ndarray:
    """Ear responses (F, 2 sources, 2 ears) of the listener's head to the virtual pair."""
    vs = virtual_pair_scene(scene, listener, angle_deg, distance_m)
    h = ear_transfer_at(vs, freqs_hz, np.asarray(listener.position_m)[None], listener.yaw_deg,
                        listener)
    return h[:, :, 0, :]


def _fit_side(ratio_db: np.ndarray, grid, r_itd: float, itd_freqs: np.ndarray) -> SideFit:
    """Fit two shelves to the band ILD (dB, positive = contra quieter), then the delay."""
    def model_db(x):
        out = np.zeros(grid.freqs_hz.size)
        for i in range(0, x.size, 2):
            fz, fp = np.exp(x[i]), np.exp(x[i]) * np.exp(-np.exp(x[i + 1]))
            out += 20 * np.log10(np.abs(shelf(grid.freqs_hz, fz, fp)))
        p = 10 ** (out / 10)
        return -10 * np.log10(grid.energy(p))

    # Start: a 6 dB shelf around 1 kHz and a 3 dB one at 6 kHz (x = ln fz, ln ln(fz/fp)).
    x0 = np.log([1000.0, np.log(2.0), 6000.0, np.log(1.41)])
    res = least_squares(lambda x: model_db(x) - ratio_db, x0, method="lm", max_nfev=400)
    x = res.x
    shelves = tuple((float(np.exp(x[i])), float(np.exp(x[i]) * np.exp(-np.exp(x[i + 1]))))
                    for i in range(0, x.size, 2))
    low = SideFit(0.0, shelves).response(itd_freqs)
    tau = r_itd - interaural_delay_s(np.ones_like(low), low, itd_freqs)
    return SideFit(float(tau), shelves)


@functools.lru_cache(maxsize=32)
def _fit_cached(scene: Scene, listener: Listener, angle_deg: float,
                distance_m: float) -> VirtualFit:
    grid = band_grid(third_octave_centres(100.0, 16000.0), 8)
    itd_f = np.linspace(ITD_BAND_HZ[0], ITD_BAND_HZ[1], 64)
    f_all = np.concatenate([grid.freqs_hz, itd_f])
    h = head_ears(scene, listener, angle_deg, distance_m, f_all)
    hb, hi = h[:grid.freqs_hz.size], h[grid.freqs_hz.size:]
    fits, ild_err, itd_err = [], [], []
    for src, ipsi, contra in ((0, 0, 1), (1, 1, 0)):
        ild = band_db(np.abs(hb[:, src, ipsi]) ** 2, np.abs(hb[:, src, contra]) ** 2, grid)
        itd = interaural_delay_s(hi[:, src, ipsi], hi[:, src, contra], itd_f)
        fit = _fit_side(ild, grid, itd, itd_f)
        model = fit.response(f_all)
        ild_m = band_db(np.ones(grid.freqs_hz.size), np.abs(model[:grid.freqs_hz.size]) ** 2,
                        grid)
        itd_m = interaural_delay_s(np.ones(itd_f.size), model[grid.freqs_hz.size:], itd_f)
        fits.append(fit)
        ild_err.append(ild_m - ild)
        itd_err.append(1e6 * (itd_m - itd))
    return VirtualFit(left=fits[0], right=fits[1], band_hz=grid.centres_hz,
                      ild_error_db=np.array(ild_err), itd_error_us=np.array(itd_err),
                      angle_deg=angle_deg, distance_m=distance_m)


def fit_virtualization(scene: Scene, listener_index: int, angle_deg: float = 30.0,
                       distance_m: float = 2.5) -> VirtualFit:
    """Fit the all-pass / delayed low-pass virtualization to the listener's head (cached by
    head model, angle and distance: dragging the listener does not refit)."""
    li = scene.listeners[listener_index]
    # Only the head model matters for the fit: normalize position and yaw so the cache hits
    # while a listener is dragged.
    li0 = replace(li, position_m=(0.0, 0.0, 0.0), yaw_deg=0.0, name="")
    base = Scene(name="", room=scene.room, device=scene.device, listeners=(li0,),
                 simulation=scene.simulation)
    return _fit_cached(base, li0, float(angle_deg), float(distance_m))
