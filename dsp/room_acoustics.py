"""Reverberation of a room: the octave-band RT60 estimate of its walls and the decay times
measured on simulated impulse responses.

Estimate (`estimate_rt60`): Sabine's and Eyring's closed forms per octave band, on exactly the
surfaces, absorption coefficients and air attenuation the room engine hands to
pyroomacoustics (the room as `sim.room.materials.make_pra_room` builds it):

    Sabine  T = 24 ln10 · V / (c · (Σ S_i α_i + 4 m V))
    Eyring  T = 24 ln10 · V / (c · (−S ln(1 − ᾱ) + 4 m V)),   ᾱ = Σ S_i α_i / S

V volume (m³), S_i and α_i each surface's area (m²) and energy absorption in the band, S the
total area, m the air's energy attenuation (1/m; pyroomacoustics applies exp(−m d / 2) to
pressure) when the room has air absorption, c the speed of sound (m/s).

Measurement (`decay_times`): each impulse response is filtered into octave bands (3rd-order
Butterworth band-pass, edges fc/√2 … fc·√2), Schroeder's backward integral of its energy from
the onset (the first sample within 20 dB of the peak, ISO 3382-1 A.3.2) gives the decay curve,
and a least-squares line through it gives EDT (0 to −10 dB, ×6) and T30 (−5 to −35 dB, ×2).
A band whose response does not end 10 dB below the fit range (a tail too short, truncated or
ending in noise) gives NaN instead of a number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, sosfilt

from sim.room.settings import OCTAVE_CENTERS_HZ
from sim.scene import Room

ESTIMATE_FS_HZ = 48000
"""Sample rate of the pyroomacoustics room the estimate reads its bands from (its octave
bands reach fs/2, so 48 kHz covers 125 Hz … 16 kHz)."""
ONSET_DB = -20.0
"""Onset: the first sample whose energy is within this of the peak."""
HEADROOM_DB = 10.0
"""How far below a fit's end the response's own level must end for the fit to count."""
BLOCK_S = 0.01
"""Block length of the level that tells where a response ends, s."""


@dataclass(frozen=True)
class Rt60Estimate:
    """Octave-band RT60 estimates of a room: bands_hz (B,), sabine_s and eyring_s (B,) in s."""

    bands_hz: tuple[float, ...]
    sabine_s: tuple[float, ...]
    eyring_s: tuple[float, ...]


@dataclass(frozen=True)
class DecayTimes:
    """Decay times measured on impulse responses: bands_hz (B,), edt_s and t30_s (B,) in s,
    each the mean over the responses (NaN where no response had the dynamic range)."""

    bands_hz: tuple[float, ...]
    edt_s: tuple[float, ...]
    t30_s: tuple[float, ...]


def sabine_s(volume_m3: float, areas_m2: np.ndarray, alpha: np.ndarray, air_m: float,
             c_m_s: float) -> float:
    """Sabine RT60 (s) of surfaces `areas_m2` (n,) with absorption `alpha` (n,) in one band."""
    absorption = float(np.sum(areas_m2 * alpha)) + 4.0 * air_m * volume_m3
    return 24.0 * math.log(10.0) * volume_m3 / (c_m_s * absorption)


def eyring_s(volume_m3: float, areas_m2: np.ndarray, alpha: np.ndarray, air_m: float,
             c_m_s: float) -> float:
    """Eyring RT60 (s) of surfaces `areas_m2` (n,) with absorption `alpha` (n,) in one band."""
    total = float(np.sum(areas_m2))
    mean_alpha = min(float(np.sum(areas_m2 * alpha)) / total, 1.0 - 1e-12)
    absorption = -total * math.log(1.0 - mean_alpha) + 4.0 * air_m * volume_m3
    return 24.0 * math.log(10.0) * volume_m3 / (c_m_s * absorption)


def estimate_rt60(room: Room, c_m_s: float) -> Rt60Estimate | None:
    """Sabine and Eyring RT60 per octave band (125 Hz … 8 kHz) of `room` as the room engine
    simulates it; None in free field. Raises ValueError for walls the engine refuses (an RT60
    target too short for the room)."""
    if room.is_anechoic:
        return None
    from sim.room.materials import make_pra_room

    pra_room = make_pra_room(room, ESTIMATE_FS_HZ, c_m_s, order=0, ray_tracing=False)
    centres = [float(f) for f in pra_room.octave_bands.centers]
    areas = np.array([w.area() for w in pra_room.walls])
    alpha = np.array([np.asarray(w.absorption, dtype=float) for w in pra_room.walls])
    air = (np.asarray(pra_room.air_absorption, dtype=float) if pra_room.air_absorption
           is not None else np.zeros(len(centres)))
    volume = float(pra_room.get_volume())
    bands, sab, eyr = [], [], []
    for b, fc in enumerate(centres):
        if fc not in OCTAVE_CENTERS_HZ:
            continue
        bands.append(fc)
        sab.append(sabine_s(volume, areas, alpha[:, b], float(air[b]), c_m_s))
        eyr.append(eyring_s(volume, areas, alpha[:, b], float(air[b]), c_m_s))
    return Rt60Estimate(tuple(bands), tuple(sab), tuple(eyr))


def schroeder_db(ir: np.ndarray) -> np.ndarray:
    """Schroeder backward integral of `ir` (n,) in dB re its total energy (n,)."""
    energy = np.cumsum((np.asarray(ir, dtype=float) ** 2)[::-1])[::-1]
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(energy / energy[0])


def _fit_time(curve_db: np.ndarray, fs_hz: float, start_db: float, stop_db: float,
              floor_db: float) -> float:
    """Time (s) for a 60 dB decay from the line fitted to `curve_db` between `start_db` and
    `stop_db` (both ≤ 0); NaN unless the response's own level ends HEADROOM_DB below
    `stop_db` (`floor_db`: the level of its last block, dB re the loudest)."""
    if floor_db > stop_db - HEADROOM_DB:
        return math.nan
    i0 = int(np.argmax(curve_db <= start_db))
    i1 = int(np.argmax(curve_db <= stop_db))
    if i1 - i0 < 3:
        return math.nan
    t = np.arange(i0, i1 + 1) / fs_hz
    slope = np.polyfit(t, curve_db[i0:i1 + 1], 1)[0]
    return -60.0 / slope if slope < 0 else math.nan


def _floor_db(power: np.ndarray, fs_hz: float) -> float:
    """Level (dB re the loudest block) of the last non-silent 10 ms block of `power`: where a
    truncated or noisy response ends. (A truncated tail makes Schroeder's integral plunge to
    −∞ at the end, so the integral itself cannot tell.)"""
    block = max(int(fs_hz * BLOCK_S), 1)
    n = len(power) // block
    if n == 0:
        return 0.0
    levels = power[:n * block].reshape(n, block).mean(axis=1)
    audible = np.nonzero(levels > 0)[0]
    return float(10.0 * np.log10(levels[audible[-1]] / levels.max()))


def band_decay(ir: np.ndarray, fs_hz: float, centre_hz: float) -> tuple[float, float]:
    """(EDT, T30) in s of one impulse response (n,) in the octave band at `centre_hz`."""
    sos = butter(3, [centre_hz / math.sqrt(2.0), centre_hz * math.sqrt(2.0)], btype="bandpass",
                 fs=fs_hz, output="sos")
    band = sosfilt(sos, np.asarray(ir, dtype=float))
    power = band ** 2
    if not np.any(power > 0):
        return math.nan, math.nan
    onset = int(np.argmax(power >= power.max() * 10.0 ** (ONSET_DB / 10.0)))
    curve = schroeder_db(band[onset:])
    floor = _floor_db(power[onset:], fs_hz)
    return (_fit_time(curve, fs_hz, 0.0, -10.0, floor),
            _fit_time(curve, fs_hz, -5.0, -35.0, floor))


def decay_times(irs: np.ndarray, fs_hz: float,
                bands_hz: tuple[float, ...] = OCTAVE_CENTERS_HZ) -> DecayTimes:
    """EDT and T30 per octave band of impulse responses `irs` (..., n) at `fs_hz`, averaged
    over the responses (bands above fs/2.9, whose upper edge passes Nyquist, are left out)."""
    flat = np.asarray(irs, dtype=float).reshape(-1, np.shape(irs)[-1])
    flat = flat[np.any(flat != 0.0, axis=1)]
    bands = tuple(float(f) for f in bands_hz if f * math.sqrt(2.0) < fs_hz / 2 * 0.98)
    edt, t30 = [], []
    for fc in bands:
        times = np.array([band_decay(h, fs_hz, fc) for h in flat]).reshape(-1, 2)
        edt.append(_mean_finite(times[:, 0]))
        t30.append(_mean_finite(times[:, 1]))
    return DecayTimes(bands, tuple(edt), tuple(t30))


def _mean_finite(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if len(finite) else math.nan
