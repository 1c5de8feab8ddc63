"""Measured HRIRs and driver directivities from SOFA (AES69) files, read with ``sofar``.

Directions are unit vectors in the listener (or driver) frame of the file: x along
ListenerView (the nose / the driver axis), z along ListenerUp, y to the left.  Impulse
responses are resampled to the caller's rate; transfer functions use the numpy-FFT sign
convention (a delay ``tau`` is ``exp(-1j * 2 * pi * f * tau)``).
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import sofar
from numpy.typing import ArrayLike
from scipy.signal import resample_poly
from scipy.spatial import cKDTree

from sim.directivity.measured import MeasuredPattern

HRIR_CONVENTION = "SimpleFreeFieldHRIR"
DIRECTIVITY_TF_CONVENTION = "FreeFieldDirectivityTF"

NETCDF_LOCK = threading.Lock()
"""Held around every SOFA read and write: netCDF4/HDF5 is not thread-safe, and two jobs
reading a scene's SOFA head at once (the Enhancement and DRED panels simulating the same
scene) crashed the process in `sofar.read_sofa`."""


class SofaError(ValueError):
    """A SOFA file is missing, unreadable or not usable for the requested purpose."""


@dataclass(eq=False)
class Hrir:
    """Head-related impulse responses on a set of directions.

    Attributes:
        directions: (D, 3) unit vectors toward the sources, head frame (x front, y left, z up).
        ir: (D, 2, N) impulse responses at ``fs_hz``; index 0 of axis 1 is the left ear.
        fs_hz: sample rate, Hz.
        source_path: file the data came from.
    """

    directions: np.ndarray
    ir: np.ndarray
    fs_hz: float
    source_path: str


def _read(path: str | Path) -> tuple[sofar.Sofa, str]:
    name = str(path)
    if not Path(path).is_file():
        raise SofaError(f"{name} cannot be read as SOFA: no such file")
    try:
        with warnings.catch_warnings():
            # sofar warns about every pre-1.0 convention version; those files are common.
            warnings.simplefilter("ignore")
            with NETCDF_LOCK:
                return sofar.read_sofa(name, verify=False, verbose=False), name
    except Exception as exc:
        raise SofaError(f"{name} cannot be read as SOFA: {exc}") from exc


def _cartesian(sofa: sofar.Sofa, var: str, name: str, like: str | None = None) -> np.ndarray:
    """Variable ``var`` as (M, 3) cartesian coordinates, converting from spherical.

    ``like`` names the variable whose _Type and _Units apply when ``var`` has none.
    """
    values = np.atleast_2d(np.asarray(getattr(sofa, var), dtype=float))
    meta = like or var
    kind = str(getattr(sofa, f"{meta}_Type", "cartesian")).lower()
    units = str(getattr(sofa, f"{meta}_Units", "")).lower()
    if values.shape[-1] != 3:
        raise SofaError(f"{name}: {var} has shape {values.shape}, expected (M, 3)")
    if kind == "cartesian":
        return values
    if kind != "spherical":
        raise SofaError(f"{name}: {var} type {kind!r} is neither cartesian nor spherical")
    az, el, r = values[:, 0], values[:, 1], values[:, 2]
    if "rad" not in units.split(",")[0]:
        az, el = np.deg2rad(az), np.deg2rad(el)
    return np.stack([r * np.cos(el) * np.cos(az), r * np.cos(el) * np.sin(az), r * np.sin(el)], -1)


def _directions(sofa: sofar.Sofa, name: str, m: int, rel: np.ndarray | None = None,
                frame: str = "Listener") -> np.ndarray:
    """(m, 3) unit vectors in the `frame` object's own frame (its View along x, Up along z):
    by default from the listener to the sources (`rel` = SourcePosition − ListenerPosition);
    a given `rel` (M, 3) is used as it is."""
    if rel is None:
        rel = _cartesian(sofa, "SourcePosition", name)
        if hasattr(sofa, "ListenerPosition"):
            rel = rel - _cartesian(sofa, "ListenerPosition", name)
    view = np.array([[1.0, 0.0, 0.0]])
    up = np.array([[0.0, 0.0, 1.0]])
    if hasattr(sofa, f"{frame}View"):
        view = _cartesian(sofa, f"{frame}View", name)
    if hasattr(sofa, f"{frame}Up"):
        # Up has no _Type of its own: SOFA stores it in View's coordinates.
        up = _cartesian(sofa, f"{frame}Up", name, like=f"{frame}View")
    view = view / np.linalg.norm(view, axis=-1, keepdims=True)
    up = up - np.sum(up * view, axis=-1, keepdims=True) * view
    up = up / np.linalg.norm(up, axis=-1, keepdims=True)
    left = np.cross(up, view)
    local = np.stack([np.sum(rel * b, axis=-1) for b in (view, left, up)], axis=-1)
    norm = np.linalg.norm(local, axis=-1, keepdims=True)
    if not np.all(np.isfinite(local)) or np.any(norm == 0.0):
        raise SofaError(f"{name}: positions have non-finite or coincident entries (the"
                        " directions cannot be formed)")
    if len(local) not in (1, m):
        raise SofaError(f"{name}: {len(local)} positions for {m} measurements")
    return np.broadcast_to(local / norm, (m, 3)).copy()


def _impulse_responses(sofa: sofar.Sofa, name: str, fs_hz: float) -> np.ndarray:
    """Data.IR (M, R, N) with Data.Delay applied, resampled to ``fs_hz``."""
    ir = np.asarray(sofa.Data_IR, dtype=float)
    if ir.ndim != 3 or ir.shape[-1] == 0:
        raise SofaError(f"{name}: Data.IR has shape {ir.shape}, expected (M, R, N)")
    if not np.all(np.isfinite(ir)):
        raise SofaError(f"{name}: Data.IR contains NaN or infinite values")
    rate = np.unique(np.asarray(sofa.Data_SamplingRate, dtype=float))
    if rate.size != 1 or not rate[0] > 0:
        raise SofaError(f"{name}: Data.SamplingRate {rate} is not one positive value")
    delay = np.broadcast_to(np.asarray(getattr(sofa, "Data_Delay", 0.0), dtype=float), ir.shape[:2])
    if not np.all(np.isfinite(delay)) or np.any(delay < 0):
        raise SofaError(f"{name}: Data.Delay must be finite and non-negative samples")
    if np.any(delay > 0):
        # Broadband delay in (possibly fractional) samples: a linear phase on a zero-padded
        # spectrum keeps the IR shape and is exact for whole samples.
        n = ir.shape[-1] + int(np.ceil(delay.max()))
        k = np.fft.rfftfreq(n)
        ir = np.fft.irfft(np.fft.rfft(ir, n) * np.exp(-2j * np.pi * k * delay[..., None]), n)
    ratio = Fraction(float(fs_hz) / float(rate[0])).limit_denominator(1000)
    if ratio != 1:
        # resample_poly keeps the waveform (and its timing); a transfer function must keep
        # sum(h) / fs instead, hence the rate-ratio scaling.
        ir = resample_poly(ir, ratio.numerator, ratio.denominator, axis=-1) / float(ratio)
    return ir


def load_hrir(path: str | Path, fs_hz: float) -> Hrir:
    """Load a SimpleFreeFieldHRIR file, resampled to ``fs_hz``.

    Receiver 0 is taken as the left ear, as the convention prescribes; ReceiverPosition is
    not trusted for this (CIPIC and FH Koeln files in circulation list the left ear at -y).

    Raises:
        SofaError: the file is missing or unreadable, has another convention, does not have
            two receivers, or has unusable positions or IR data.
    """
    sofa, name = _read(path)
    convention = str(getattr(sofa, "GLOBAL_SOFAConventions", ""))
    if convention != HRIR_CONVENTION:
        raise SofaError(f"{name}: SOFA convention is {convention!r}, expected {HRIR_CONVENTION!r}")
    ir = _impulse_responses(sofa, name, fs_hz)
    if ir.shape[1] != 2:
        raise SofaError(f"{name}: {ir.shape[1]} receivers, expected 2 (left, right ear)")
    return Hrir(_directions(sofa, name, ir.shape[0]), ir, float(fs_hz), name)


def hrtf_at(hrir: Hrir, freqs_hz: ArrayLike, directions: ArrayLike) -> np.ndarray:
    """Ear transfer functions toward ``directions`` (..., 3), head frame, at ``freqs_hz`` (F,).

    Nearest measured direction, no interpolation; the spectrum is the DTFT of the stored IR,
    so it includes the measurement's propagation delay.  Returns complex (..., 2, F).
    """
    f = np.atleast_1d(np.asarray(freqs_hz, dtype=float))
    d = np.asarray(directions, dtype=float)
    _, idx = cKDTree(hrir.directions).query(d / np.linalg.norm(d, axis=-1, keepdims=True))
    used, inverse = np.unique(idx, return_inverse=True)
    n = np.arange(hrir.ir.shape[-1])
    spectra = hrir.ir[used] @ np.exp(-2j * np.pi * np.outer(n, f) / hrir.fs_hz)
    return spectra[inverse.reshape(np.shape(idx))]


def load_directivity(path: str | Path, fs_hz: float, receiver: int = 0) -> MeasuredPattern:
    """Measured driver (or microphone) pattern from a SOFA file with Data.IR (e.g.
    GeneralFIR) or of convention FreeFieldDirectivityTF.

    Data.IR: directions are the SourcePositions seen from the listener (the measured
    object), whose ListenerView is the driver axis; the IRs are those of ``receiver``; the
    bulk delay is removed as in :meth:`MeasuredPattern.from_irs`.
    FreeFieldDirectivityTF (AES69-2022: the source measured by receivers around it): the
    directions are the receivers (ListenerPosition + ReceiverPosition − SourcePosition) in
    the source's frame (SourceView = the driver axis, SourceUp); Data.Real/Imag (M, R, N) on
    the frequencies N (Hz); measurement ``receiver`` of M (0 for a single one); the bulk delay
    is removed as in :meth:`MeasuredPattern.from_tf`.

    Raises:
        SofaError: missing or unreadable file, neither Data.IR nor that TF convention, an
            index out of range, or unusable positions or data.
    """
    sofa, name = _read(path)
    convention = str(getattr(sofa, "GLOBAL_SOFAConventions", "?"))
    if convention == DIRECTIVITY_TF_CONVENTION:
        return _directivity_tf(sofa, name, fs_hz, receiver)
    if not hasattr(sofa, "Data_IR"):
        raise SofaError(
            f"{name}: SOFA convention {convention!r} has no Data.IR; expected an FIR "
            f"convention such as 'GeneralFIR' or {HRIR_CONVENTION!r}, or"
            f" {DIRECTIVITY_TF_CONVENTION!r}"
        )
    ir = _impulse_responses(sofa, name, fs_hz)
    if not 0 <= receiver < ir.shape[1]:
        raise SofaError(f"{name}: receiver {receiver} requested, file has {ir.shape[1]}")
    return MeasuredPattern.from_irs(_directions(sofa, name, ir.shape[0]), ir[:, receiver], fs_hz)


def _directivity_tf(sofa: sofar.Sofa, name: str, fs_hz: float,
                    measurement: int) -> MeasuredPattern:
    """A FreeFieldDirectivityTF file's pattern (see `load_directivity`)."""
    try:
        tf = np.asarray(sofa.Data_Real, dtype=float) + 1j * np.asarray(sofa.Data_Imag,
                                                                       dtype=float)
        freqs = np.atleast_1d(np.asarray(sofa.N, dtype=float))
    except (AttributeError, TypeError, ValueError) as e:
        raise SofaError(f"{name}: {DIRECTIVITY_TF_CONVENTION} without usable Data.Real,"
                        f" Data.Imag and N ({e})") from None
    if tf.ndim != 3 or tf.shape[-1] != freqs.size or freqs.size == 0:
        raise SofaError(f"{name}: Data.Real/Imag has shape {tf.shape} and N {freqs.size}"
                        " values; expected (M, R, N) with N the frequencies")
    if not (np.all(np.isfinite(tf)) and np.all(np.isfinite(freqs))
            and np.all(np.diff(freqs) > 0) and freqs[0] >= 0):
        raise SofaError(f"{name}: Data.Real/Imag or N hold NaN or infinite values, or N does"
                        " not rise strictly from ≥ 0 Hz")
    if not 0 <= measurement < tf.shape[0]:
        raise SofaError(f"{name}: measurement {measurement} requested, file has {tf.shape[0]}")
    rel = _cartesian(sofa, "ReceiverPosition", name)
    if hasattr(sofa, "ListenerPosition"):
        rel = rel + _cartesian(sofa, "ListenerPosition", name)
    if hasattr(sofa, "SourcePosition"):
        rel = rel - _cartesian(sofa, "SourcePosition", name)
    dirs = _directions(sofa, name, tf.shape[1], rel, frame="Source")
    return MeasuredPattern.from_tf(dirs, tf[measurement], freqs, fs_hz)
