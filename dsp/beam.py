"""Speaker beamformer: nulls at chosen azimuths (default ±90°), a flat main lobe over
±lobe_half_width, delivered in relative-transfer-function (RTF) form.

Weighted least squares over a far-field azimuth grid (device frame, 2° steps), batched over
frequency: main lobe target 1 (weight 1), null regions target 10^(null_gain_db/20) (weight
`null_weight`), the rest free except a light pull toward 0 behind the device. The effort cap
bounds the inverse white-noise gain ‖w‖²/|a(0)ᵀw|² (0 dB = one driver alone; spatial.md §B4)
through β(f), bisected per frequency. Where the geometry cannot beam (too little effort at
low frequency, spatial aliasing at high frequency) the weights hand over smoothly to plain
delay-and-sum.

RTF form: the design also returns RTF_d = w_d / w_ref for a reference driver, so
driver-response errors are separable. The main FIRs are the full weights w_d = w_ref · RTF_d:
on this kind of design every driver's weight passes close to zero somewhere, so the exact
relative filters have near-poles that a finite FIR cannot hold, while their product with the
reference filter can. The RTF form is exported beside them as FIRs too (`rtf_form`), with its
realization error: how far reference ∗ relative is from the full weights. The quotient is
floored where the reference is weak (`relative_tf`), and the reference is the driver whose
cascade realizes the weights best (on the 8-driver soundbar: an outer driver as reference
with the exact quotient errs by +0.06 dB, i.e. the cascade is no beam at all; a centre one
with the floor by −22.7 dB).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dsp.filterset import FilterSet, RtfForm
from dsp.fir import design_freqs, fir_response, realize
from dsp.params import DesignError, DesignParams
from dsp.regularization import Tikhonov, bisect_beta
from sim.freefield import farfield_circle
from sim.scene import Scene

BAND_HZ = (500.0, 2000.0)
"""Band in which the beam's nulls and lobe are judged."""

RTF_FLOOR = 1e-2
"""Floor of |w_ref|² in the relative transfer functions, re the mean driver power: where the
reference weight passes near zero the exact quotient has a near-pole no FIR holds."""


@dataclass
class BeamDesign:
    """freqs_hz (F,); response (F, D, 1) driver filters with the modelling delay (the
    distortionless weights, on-axis response = the delay); weights (F, D) the same without the
    delay; rtf (F, D) relative transfer functions w_d / w_ref (`relative_tf`; reference
    column 1 where the reference weight is above the floor); reference: the reference driver's
    index (the best-realized RTF form); beta (F,); effort_db (F,) inverse white-noise
    gain; beam_weight (F,) 1 where the beam is in force, 0 where it hands over to plain
    delay-and-sum (below the effort limit, above spatial aliasing); on_axis (F, D) the
    far-field on-axis steering vector."""

    freqs_hz: np.ndarray
    n_fft: int
    response: np.ndarray
    weights: np.ndarray
    rtf: np.ndarray
    reference: int
    beta: np.ndarray
    effort_db: np.ndarray
    beam_weight: np.ndarray
    on_axis: np.ndarray


def _smooth_log(x: np.ndarray, f: np.ndarray, octaves: float) -> np.ndarray:
    """Moving average of x (F,) over ±octaves/2 in log frequency (uniform grid f from 0)."""
    lf = np.log2(np.maximum(f, f[1] if f.size > 1 else 1.0))
    c = np.concatenate([[0.0], np.cumsum(x)])
    lo = np.searchsorted(lf, lf - octaves / 2, side="left")
    hi = np.searchsorted(lf, lf + octaves / 2, side="right")
    return (c[hi] - c[lo]) / np.maximum(hi - lo, 1)


def _wrap(a):
    return (np.asarray(a, dtype=float) + 180.0) % 360.0 - 180.0


def check_beam_geometry(scene: Scene, params: DesignParams) -> None:
    """Refuse geometries that cannot keep the on-axis response and null every null angle."""
    dev = scene.device
    n_null = len(params.null_angles_deg)
    if len(dev.drivers) < n_null + 1:
        pos = np.array([d.position_m for d in dev.drivers])
        side = len(dev.drivers) == 2 and np.allclose(pos[:, 0], pos[0, 0], atol=1e-3)
        what = (f"{len(dev.drivers)} side-by-side drivers" if side
                else f"{len(dev.drivers)} driver(s)")
        raise DesignError(f"beam: {what} cannot null {n_null} directions "
                          f"({', '.join(f'{a:+g}°' for a in params.null_angles_deg)}) and keep"
                          f" the on-axis response: that takes ≥ {n_null + 1} drivers (each"
                          " null and the on-axis gain is one linear constraint on the weights)")
    # A geometry can also be degenerate: e.g. drivers stacked along the device's x axis give
    # identical responses at +90° and -90°. Check the constraint matrix at mid band.
    f = np.array([1000.0])
    az = np.array([0.0, *params.null_angles_deg])
    a = farfield_circle(dev, f, az, c=scene.simulation.c_m_s, fs_hz=scene.simulation.fs_hz)
    s = np.linalg.svd(a[0].T, compute_uv=False)  # (n_null + 1, D)
    if s[-1] < 1e-6 * s[0]:
        raise DesignError("beam: the drivers' positions and patterns make the on-axis and null"
                          " directions linearly dependent, so the nulls cannot be placed"
                          " without cancelling the main lobe too")


def design_beam(scene: Scene, params: DesignParams) -> BeamDesign:
    check_beam_geometry(scene, params)
    fs, c = scene.simulation.fs_hz, scene.simulation.c_m_s
    n_fft, f = design_freqs(params.n_taps, fs, params.oversample)
    az = np.arange(-180.0, 180.0, 2.0)
    a = farfield_circle(scene.device, f, az, c=c, fs_hz=fs)  # (F, D, A)
    lobe = np.abs(az) <= params.lobe_half_width_deg
    null = np.zeros(az.size, bool)
    for n in params.null_angles_deg:
        null |= np.abs(_wrap(az - n)) <= max(params.null_width_deg / 2, 1.0)
    rear = (np.abs(az) >= 135.0) & ~null
    weight = (np.where(lobe, 1.0, 0.0) + np.where(null, params.null_weight, 0.0)
              + np.where(rear, 0.1, 0.0))
    desired = np.where(lobe, 1.0, 0.0) + np.where(null, 10 ** (params.null_gain_db / 20), 0.0)
    keep = weight > 0
    sw = np.sqrt(weight[keep])
    A = np.swapaxes(a[:, :, keep], 1, 2) * sw[None, :, None]  # (F, A', D)
    b = np.broadcast_to((desired[keep] * sw)[None, :, None], (f.size, sw.size, 1))
    t = Tikhonov(A, b)
    a0 = a[:, :, az == 0.0][:, :, 0]  # (F, D) on-axis steering

    def inv_wng_db(beta):
        w = t.filters(beta)[..., 0]
        on = np.abs(np.sum(a0 * w, axis=-1)) ** 2
        # A beam with no on-axis output (e.g. a driver firing away at DC) has unbounded
        # inverse white-noise gain: report it as very large rather than overflowing.
        with np.errstate(over="ignore", divide="ignore"):
            ratio = np.sum(np.abs(w) ** 2, axis=-1) / np.maximum(on, 1e-300)
        return 10 * np.log10(np.minimum(ratio, 1e30))

    lo = 1e-12 * t.s_max**2 + 1e-300
    hi = 1e4 * t.s_max**2 + 1e-300
    beta = bisect_beta(lambda bt: inv_wng_db(bt) <= params.max_effort_db, lo, hi)
    beta = np.where(inv_wng_db(np.zeros_like(lo)) <= params.max_effort_db, 0.0, beta)
    w_ls = t.filters(beta)[..., 0]
    on = np.sum(a0 * w_ls, axis=-1)
    # Where the geometry cannot beam (low frequency beyond the effort cap, spatial aliasing at
    # high frequency) the least-squares weights lose the on-axis response or the nulls; hand
    # over smoothly to the plain delay-and-sum weights there instead of dividing by ~0.
    null_az = np.isin(az, np.round(np.asarray(params.null_angles_deg) / 2.0) * 2.0)
    side = np.max(np.abs(np.einsum("fda,fd->fa", a[:, :, null_az], w_ls)), axis=-1)
    depth_db = 20 * np.log10(np.abs(on) / np.maximum(side, 1e-300) + 1e-300)
    lobe_db = 20 * np.log10(np.abs(np.einsum("fda,fd->fa", a[:, :, lobe], w_ls))
                            / np.maximum(np.abs(on), 1e-300)[:, None] + 1e-300)
    ok = (np.max(np.abs(lobe_db), axis=-1) <= 6.0) & (inv_wng_db(beta) <= params.max_effort_db
                                                      + 0.5)
    alpha = np.clip((depth_db - 6.0) / 6.0, 0.0, 1.0) * ok
    alpha = _smooth_log(np.where(np.abs(on) > 1e-9, alpha, 0.0), f, octaves=1 / 3)
    w_beam = w_ls / np.where(np.abs(on) > 1e-9, on, 1.0)[:, None]  # distortionless on axis
    w_plain = np.conj(a0) / np.sum(np.abs(a0) ** 2, axis=-1, keepdims=True)
    w = alpha[:, None] * w_beam + (1.0 - alpha[:, None]) * w_plain
    effort = 10 * np.log10(np.sum(np.abs(w) ** 2, axis=-1)
                           / np.maximum(np.abs(np.sum(a0 * w, axis=-1)) ** 2, 1e-300))
    ref = min(range(w.shape[1]), key=lambda k: _rtf_firs(f, n_fft, w, relative_tf(w, k), k,
                                                         params.n_taps, params.delay, fs)[2])
    rtf = relative_tf(w, ref)
    delay = np.exp(-2j * np.pi * f * params.delay / fs)
    response = (w * delay[:, None])[..., None]
    return BeamDesign(freqs_hz=f, n_fft=n_fft, response=response, weights=w, rtf=rtf,
                      reference=ref, beta=beta, effort_db=effort, beam_weight=alpha,
                      on_axis=a0)


def relative_tf(w: np.ndarray, ref: int) -> np.ndarray:
    """RTF_d = w_d / w_ref (F, D) of weights w (F, D), the division floored where the
    reference weight is weak: w_d·conj(w_ref) / max(|w_ref|², RTF_FLOOR · mean_d |w_d|²)
    (exact wherever |w_ref|² is above the floor, so the relative filters stay finite)."""
    wr = w[:, ref:ref + 1]
    power = np.mean(np.abs(w) ** 2, axis=-1, keepdims=True)
    return w * np.conj(wr) / np.maximum(np.abs(wr) ** 2, np.maximum(RTF_FLOOR * power, 1e-300))


def _rtf_firs(f: np.ndarray, n_fft: int, w: np.ndarray, rtf: np.ndarray, ref: int,
              n_taps: int, delay: int, fs_hz: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Reference FIR (1, 1, n_taps) at `delay`, relative FIRs (1, D, n_taps) at n_taps // 2,
    and the cascade's realization error in dB against the full weights w (F, D) delayed by
    both (energy of the difference over the design grid re the weights' energy)."""
    rel_delay = n_taps // 2

    def delayed(x: np.ndarray, samples: int) -> np.ndarray:
        return x * np.exp(-2j * np.pi * f * samples / fs_hz)

    ref_fir, _ = realize(delayed(w[:, ref], delay)[None, None], n_fft, n_taps)
    rel_fir, _ = realize(delayed(rtf.T, rel_delay)[None], n_fft, n_taps)
    cascade = fir_response(ref_fir[0], fs_hz, f) * fir_response(rel_fir[0], fs_hz, f)  # (D, F)
    target = delayed(w.T, delay + rel_delay)
    err = np.sum(np.abs(cascade - target) ** 2) / max(np.sum(np.abs(target) ** 2), 1e-300)
    return ref_fir, rel_fir, float(10 * np.log10(max(err, 1e-300)))


def rtf_form(beam: BeamDesign, n_taps: int, delay: int, fs_hz: int,
             driver_names: list[str]) -> RtfForm:
    """The beam as reference filter (w_ref, modelling delay `delay`) and relative filters
    (`BeamDesign.rtf`, modelling delay n_taps // 2: they are non-causal), each n_taps long,
    and the realization error of their cascade against the full weights (`RtfForm`)."""
    ref_fir, rel_fir, err = _rtf_firs(beam.freqs_hz, beam.n_fft, beam.weights, beam.rtf,
                                      beam.reference, n_taps, delay, fs_hz)
    ref_name = driver_names[beam.reference]
    reference = FilterSet(ref_fir, fs_hz, delay, {"form": "rtf-reference", "inputs": ["mono"],
                                                  "drivers": [ref_name]})
    relative = FilterSet(rel_fir, fs_hz, n_taps // 2,
                         {"form": "rtf-relative", "reference_driver": ref_name,
                          "inputs": [ref_name], "drivers": list(driver_names)})
    return RtfForm(reference, relative, err)
