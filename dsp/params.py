"""Design parameters and their checks, which raise `DesignError` for designs that cannot be made.

All user-facing limits are checked here or in `dsp.plant` (geometry) so that every bad input
gets one specific sentence, e.g. "max_effort_db = -12 dB is impossible: ...".
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace

from dsp.design_error import DesignError
from dsp.plant_files import MeasuredPlant
from dsp.target_curve import TargetCurve

__all__ = ["METHODS", "DesignError", "DesignParams", "check_params"]

METHODS = ("ctc", "nullsteer", "beam", "virtualizer")


@dataclass(frozen=True)
class DesignParams:
    """Everything a redesign needs besides the scene.

    method: "ctc" (2 drivers → 2 ears), "nullsteer" (N > 2 drivers, per-ear null at the other
        ear), "beam" (±90° nulls, RTF form), "virtualizer" (HRTF virtualization ∘ CTC).
    n_taps: FIR length; delay_samples: modelling delay (None: n_taps // 2).
    max_effort_db: cap on the filter effort: per input, the total driver gain ‖C e_k‖ × the
        rms driver→ear gain, so 0 dB = what one average driver alone needs for unit ear
        pressure (spatial.md §B3); for the beam the inverse white-noise gain, 0 dB = one driver
        alone.
    target: target cancellation-gain curve (ipsi/contra, dB); None = `TargetCurve.default()`.
    robust_cm: half-width of the lateral head displacement the design is optimized over
        (0 = sweet spot only); robust_points: head positions used across ±robust_cm.
    listener: index of the listener designed for.
    oversample: design grid density, n_fft = oversample · n_taps.
    Beam: null_angles_deg (device frame, ccw, 0 = front), lobe_half_width_deg (main lobe kept
        flat over ±this), null_gain_db (target level at the nulls re on-axis, the on-/off-axis
        cancellation gain), null_width_deg (angular width held at that level around each null),
        null_weight (weight of the null region against the main lobe in the least squares).
    Virtualizer: virtual_angle_deg (virtual pair at ±this), virtual_distance_m.
    plant: a measured plant (`dsp.measured_plant`) designed on instead of the simulated
        driver → ear transfer of the listener; None: the simulated plant.
    """

    method: str = "ctc"
    n_taps: int = 1024
    delay_samples: int | None = None
    max_effort_db: float = 18.0
    target: TargetCurve | None = None
    robust_cm: float = 0.0
    robust_points: int = 5
    listener: int = 0
    oversample: int = 2
    null_angles_deg: tuple[float, ...] = (90.0, -90.0)
    lobe_half_width_deg: float = 45.0
    null_gain_db: float = -30.0
    null_width_deg: float = 10.0
    null_weight: float = 10.0
    virtual_angle_deg: float = 30.0
    virtual_distance_m: float = 2.5
    plant: MeasuredPlant | None = None
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def delay(self) -> int:
        return self.n_taps // 2 if self.delay_samples is None else int(self.delay_samples)

    @property
    def target_curve(self) -> TargetCurve:
        return self.target if self.target is not None else TargetCurve.default()

    def to_dict(self) -> dict:
        """JSON-ready parameters (for metadata and reports)."""
        d = asdict(replace(self, plant=None))
        d.pop("extra")
        d["plant"] = "simulated" if self.plant is None else "measured"
        d["target"] = self.target_curve.to_dict()
        d["delay_samples"] = self.delay
        d["null_angles_deg"] = list(self.null_angles_deg)
        return d


def check_params(p: DesignParams) -> None:
    """Scene-independent checks; raises DesignError naming the parameter."""
    if p.method not in METHODS:
        raise DesignError(f"method = {p.method!r} must be one of {', '.join(METHODS)}")
    if not isinstance(p.n_taps, int) or not 16 <= p.n_taps <= 65536:
        raise DesignError(f"taps = {p.n_taps} must be an integer in 16 .. 65536")
    if not 0 < p.delay < p.n_taps:
        raise DesignError(f"delay = {p.delay} samples must lie inside the filter (1 .. "
                          f"{p.n_taps - 1} for {p.n_taps} taps)")
    e = p.max_effort_db
    if not math.isfinite(e):
        raise DesignError(f"max_effort_db = {e} is impossible: the effort cap must be a finite"
                          " number of dB")
    if e > 40.0:
        raise DesignError(f"max_effort_db = {e:g} dB is impossible: above 40 dB the filters"
                          " would need more than 100x the drive of one driver (use ≤ 40 dB)")
    if not 0.0 <= p.robust_cm <= 50.0:
        raise DesignError(f"robust_cm = {p.robust_cm:g} cm must be in 0 .. 50 cm")
    if p.robust_cm > 0 and not 2 <= p.robust_points <= 21:
        raise DesignError(f"robust_points = {p.robust_points} must be in 2 .. 21")
    if p.oversample not in (1, 2, 4, 8):
        raise DesignError(f"oversample = {p.oversample} must be 1, 2, 4 or 8")
    if p.method == "beam":
        if not p.null_angles_deg:
            raise DesignError("null_angles_deg is empty: a beam needs at least one null")
        if not 5.0 <= p.lobe_half_width_deg <= 80.0:
            raise DesignError(f"lobe_half_width_deg = {p.lobe_half_width_deg:g} must be in"
                              " 5 .. 80 degrees")
        for a in p.null_angles_deg:
            if abs(_wrap(a)) <= p.lobe_half_width_deg + p.null_width_deg / 2:
                raise DesignError(f"null angle {a:g}° lies inside the main lobe (±"
                                  f"{p.lobe_half_width_deg:g}°)")
        if not -80.0 <= p.null_gain_db <= 0.0:
            raise DesignError(f"null_gain_db = {p.null_gain_db:g} dB must be in -80 .. 0 dB")
        if not 0.0 <= p.null_width_deg <= 60.0:
            raise DesignError(f"null_width_deg = {p.null_width_deg:g} must be in 0 .. 60")
        if not 0.0 < p.null_weight <= 1e4:
            raise DesignError(f"null_weight = {p.null_weight:g} must be in (0, 1e4]")
    if p.method == "virtualizer":
        if not 1.0 <= p.virtual_angle_deg <= 90.0:
            raise DesignError(f"virtual_angle_deg = {p.virtual_angle_deg:g} must be in 1 .. 90")
        if not 0.5 <= p.virtual_distance_m <= 20.0:
            raise DesignError(f"virtual_distance_m = {p.virtual_distance_m:g} must be in"
                              " 0.5 .. 20 m")


def _wrap(a: float) -> float:
    return (a + 180.0) % 360.0 - 180.0
