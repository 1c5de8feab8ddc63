"""Measured driver → ear impulse responses at the listening position (a "measured plant"):
reading and validating them, and writing a simulated plant in the same forms.

Two forms, one driver → (left ear, right ear) IR pair per driver of the device:

- a folder of ``<driver name>.wav`` files, 2 channels (left ear, right ear), any rate, all of
  one rate and one length (measured together);
- a SOFA file (AES69) of convention SingleRoomMIMOSRIR, Data.IR shaped M × R × N × E with
  M = 1 measurement, R = 2 receivers (left, right ear) and E = one emitter per driver in device
  order; the older MultiSpeakerBRIR (M × R × E × N) is read too. Data.Delay is applied.

IRs are resampled to the scene's rate and scaled by the rate ratio so that the discrete transfer
function Σ h[n] e^{-j2πfn/fs} keeps its level (a pure delay stays a unit sample). Every problem
is one `PlantError` whose message starts with the file (or folder) and says what was expected.
A plant carries how its time axis is to be read (`dsp.plant_timing.PlantTiming`: the drivers
measured one after another, or in one synchronous capture). Writers go through `sim.outputs`
(atomic; the WAV folder as one batch).
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from dsp.plant_timing import PlantTiming

SOFA_CONVENTION = "SingleRoomMIMOSRIR"
SOFA_LEGACY = "MultiSpeakerBRIR"
EARS = ("left", "right")


class PlantError(ValueError):
    """A measured plant that cannot be used; the message starts with the file or folder."""


@dataclass(frozen=True, eq=False)
class MeasuredPlant:
    """Driver → ear IRs measured at one listening position.

    ir: (D, 2, N) float64 at fs_hz, drivers in device order, left ear = index 0, on the file's
    own time axis (latency included); drivers: the device's driver names; path: the file or
    folder read; sha256: hash of its bytes (a folder: of each driver file's name and bytes in
    device order); form: "sofa" or "wav"; files: the files read. Equal (and hashed) by
    content: sha256, rate, drivers.
    """

    ir: np.ndarray
    fs_hz: int
    drivers: tuple[str, ...]
    path: str
    sha256: str
    form: str
    files: tuple[Path, ...] = ()
    timing: PlantTiming = PlantTiming.GEOMETRY

    def _key(self) -> tuple:
        return (self.sha256, self.fs_hz, self.drivers, self.timing)

    def __eq__(self, other) -> bool:
        return isinstance(other, MeasuredPlant) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def to_dict(self) -> dict:
        """What a report says of it."""
        return {"plant": "measured", "plant_file": self.path, "plant_sha256": self.sha256,
                "plant_form": self.form, "plant_timing": self.timing.value}

    @property
    def label(self) -> str:
        return Path(self.path).name


def read_measured_plant(path: str | Path, drivers: tuple[str, ...] | list[str], fs_hz: int,
                        timing: PlantTiming = PlantTiming.GEOMETRY) -> MeasuredPlant:
    """A folder of WAVs or a SOFA file (see the module doc) for a device whose drivers are
    named `drivers` (device order), resampled to fs_hz, its time axis read by `timing`. Raises
    PlantError."""
    p = Path(path)
    names = tuple(drivers)
    if not names:
        raise PlantError(f"{p}: the device has no drivers to match a measured plant to")
    if p.is_dir():
        ir, digest, files = _read_wav_folder(p, names, int(fs_hz))
        form = "wav"
    elif p.is_file():
        ir, digest = _read_sofa(p, names, int(fs_hz))
        form, files = "sofa", (p,)
    else:
        raise PlantError(f"{p}: no such file or folder; expected a SOFA file"
                         f" ({SOFA_CONVENTION}) or a folder of <driver>.wav files")
    return MeasuredPlant(ir=ir, fs_hz=int(fs_hz), drivers=names, path=str(p), sha256=digest,
                         form=form, files=tuple(files), timing=timing)


def _resampled(ir: np.ndarray, fs_in: float, fs_out: int, name: str) -> np.ndarray:
    """ir (..., N) from fs_in to fs_out, scaled by fs_in / fs_out (transfer function kept)."""
    from scipy.signal import resample_poly

    if not np.all(np.isfinite(ir)):
        raise PlantError(f"{name}: the impulse responses contain NaN or infinite values")
    if not np.any(ir):
        raise PlantError(f"{name}: the impulse responses are all zero")
    ratio = Fraction(float(fs_out) / float(fs_in)).limit_denominator(1000)
    if ratio == 1:
        return np.asarray(ir, dtype=float)
    return resample_poly(ir, ratio.numerator, ratio.denominator, axis=-1) / float(ratio)


def _read_wav_folder(folder: Path, drivers: tuple[str, ...], fs_hz: int):
    from dsp.audio_io import AudioFileError, audio_info, read_audio

    files = {f.stem: f for f in folder.iterdir() if f.is_file() and f.suffix.lower() == ".wav"}
    missing = [d for d in drivers if d not in files]
    extra = sorted(set(files) - set(drivers))
    if missing or extra:
        what = "; ".join(s for s in (
            f"missing: {', '.join(f'{d}.wav' for d in missing)}" if missing else "",
            f"not a driver: {', '.join(files[e].name for e in extra)}" if extra else "") if s)
        raise PlantError(f"{folder}: expected one <driver>.wav per driver of the device"
                         f" ({', '.join(drivers)}); {what}")
    paths = [files[d] for d in drivers]
    try:
        infos = [audio_info(f) for f in paths]
        first = infos[0]
        for f, i in zip(paths, infos, strict=True):
            if i.channels != 2:
                raise PlantError(f"{f}: {i.channels} channel{'s' * (i.channels != 1)};"
                                 " expected 2 (left ear, right ear)")
            if (i.fs_hz, i.frames) != (first.fs_hz, first.frames):
                raise PlantError(f"{f}: {i.frames} samples at {i.fs_hz} Hz; expected"
                                 f" {first.frames} samples at {first.fs_hz} Hz like"
                                 f" {paths[0].name} (the drivers are measured together)")
        ir = np.stack([read_audio(f, None, None, allow_silent=True)[0].T for f in paths])
    except AudioFileError as e:
        raise PlantError(str(e)) from None
    digest = hashlib.sha256()
    for f in paths:
        digest.update(f.name.encode() + b"\0" + f.read_bytes())
    return _resampled(ir, first.fs_hz, fs_hz, str(folder)), digest.hexdigest(), paths


def _read_sofa(path: Path, drivers: tuple[str, ...], fs_hz: int):
    import sofar

    from sim.sofa import NETCDF_LOCK

    name = str(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sofar warns about old convention versions
            with NETCDF_LOCK:
                s = sofar.read_sofa(name, verify=False, verbose=False)
    except Exception as e:
        raise PlantError(f"{name}: cannot be read as SOFA ({e})") from None
    convention = str(getattr(s, "GLOBAL_SOFAConventions", ""))
    if convention not in (SOFA_CONVENTION, SOFA_LEGACY):
        raise PlantError(f"{name}: SOFA convention is {convention!r}; expected"
                         f" {SOFA_CONVENTION!r} (or the older {SOFA_LEGACY!r})")
    ir = np.asarray(s.Data_IR, dtype=float)
    if ir.ndim != 4:
        raise PlantError(f"{name}: Data.IR has shape {ir.shape}; expected 4 dimensions")
    if convention == SOFA_LEGACY:
        ir = np.swapaxes(ir, 2, 3)  # M × R × E × N → M × R × N × E
    m, r, n, e = ir.shape
    if m != 1:
        raise PlantError(f"{name}: {m} measurements (M); expected M = 1 (one listening"
                         " position)")
    if r != 2:
        raise PlantError(f"{name}: {r} receivers (R); expected R = 2 (left ear, right ear)")
    if e != len(drivers):
        raise PlantError(f"{name}: {e} emitters (E); expected {len(drivers)}, one per driver"
                         f" of the device in order ({', '.join(drivers)})")
    if n < 2:
        raise PlantError(f"{name}: {n} samples (N); expected an impulse response")
    rate = np.unique(np.asarray(s.Data_SamplingRate, dtype=float))
    if rate.size != 1 or not rate[0] > 0:
        raise PlantError(f"{name}: Data.SamplingRate {rate} is not one positive value")
    ir = np.transpose(ir[0], (2, 0, 1))  # (E, R, N)
    delay = np.asarray(getattr(s, "Data_Delay", 0.0), dtype=float)  # I|M × R × E, samples
    try:
        if delay.ndim > 3:
            raise ValueError
        delay = np.broadcast_to(delay.reshape((1,) * (3 - delay.ndim) + delay.shape)[0],
                                (2, e)).T
    except ValueError:
        raise PlantError(f"{name}: Data.Delay has shape {delay.shape}; expected 1 × R × E or"
                         " 1 × 1 × 1") from None
    ir = _delayed(ir, delay, name)
    with open(path, "rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()
    return _resampled(ir, rate[0], fs_hz, name), digest


def _delayed(ir: np.ndarray, delay: np.ndarray, name: str) -> np.ndarray:
    """ir (E, 2, N) with Data.Delay (E, 2) samples applied (linear phase, zero-padded)."""
    if not np.all(np.isfinite(delay)) or np.any(delay < 0):
        raise PlantError(f"{name}: Data.Delay must be finite, non-negative samples")
    if not np.any(delay > 0):
        return ir
    n = ir.shape[-1] + int(np.ceil(delay.max()))
    k = np.fft.rfftfreq(n)
    return np.fft.irfft(np.fft.rfft(ir, n) * np.exp(-2j * np.pi * k * delay[..., None]), n)


def write_plant_sofa(path: str | Path, result, scene, listener: int = 0) -> Path:
    """The driver → ear IRs of listener `listener` in a `sim.transfer.TransferResult` of
    `scene` as a SingleRoomMIMOSRIR file (Data.IR 1 × 2 × N × D; emitters = drivers in device
    order, named in GLOBAL:EmitterDescription; positions in the scene's room frame, m)."""
    import sofar

    from sim.outputs import write_file
    from sim.sofa import NETCDF_LOCK

    ir = np.asarray(result.ir[:, listener], dtype=float)  # (D, 2, N)
    d = ir.shape[0]
    li = scene.listeners[listener]
    yaw = np.deg2rad(li.yaw_deg)
    s = sofar.Sofa(SOFA_CONVENTION)
    s.GLOBAL_Title = f"{scene.name}: driver → ear responses of {li.name}"
    s.GLOBAL_Comment = f"simulated by the {result.engine} engine"
    s.Data_IR = np.transpose(ir, (1, 2, 0))[None]
    s.Data_SamplingRate = float(result.fs_hz)
    s.Data_Delay = np.zeros((1, 2, d))
    s.ListenerPosition = np.asarray(li.position_m, dtype=float)[None]
    s.ListenerView = np.array([[np.cos(yaw), np.sin(yaw), 0.0]])
    s.ListenerUp = np.array([[0.0, 0.0, 1.0]])
    ears = np.deg2rad(np.asarray(li.ear_angles_deg, dtype=float))  # head frame, left first
    s.ReceiverPosition = li.head_radius_m * np.stack(
        [np.cos(ears), np.sin(ears), np.zeros(2)], axis=-1)
    s.ReceiverView = np.tile([1.0, 0.0, 0.0], (2, 1))
    s.ReceiverUp = np.tile([0.0, 0.0, 1.0], (2, 1))
    s.GLOBAL_ReceiverDescription = ", ".join(EARS)
    s.SourcePosition = np.asarray(scene.device.position_m, dtype=float)[None]
    s.EmitterPosition = scene.device.driver_positions() - np.asarray(scene.device.position_m)
    s.EmitterView = np.tile([1.0, 0.0, 0.0], (d, 1))
    s.EmitterUp = np.tile([0.0, 0.0, 1.0], (d, 1))
    s.GLOBAL_EmitterDescription = ", ".join(drv.name for drv in scene.device.drivers)
    # sofar 1.3 writes string variables wrongly (netCDF4 stringtochar on bytes): the names
    # go in the global descriptions instead.
    s.delete("EmitterDescriptions")
    s.delete("ReceiverDescriptions")
    s.MeasurementDate = np.zeros(1)
    with NETCDF_LOCK:
        return write_file(Path(path), lambda tmp: sofar.write_sofa(str(tmp), s, compression=4))


def write_plant_wavs(folder: str | Path, result, scene, listener: int = 0) -> list[Path]:
    """The same IRs as a folder of ``<driver name>.wav`` files (2-channel float WAV, left ear
    first, at the result's rate), written as one batch. PlantError for a driver name that is
    not a plain file name."""
    from dsp.audio_io import write_audio
    from sim.outputs import batch

    folder = Path(folder)
    names = [drv.name for drv in scene.device.drivers]
    bad = [n for n in names if not n or n != Path(n).name or n in (".", "..")]
    if bad:
        raise PlantError(f"{folder}: driver name {bad[0]!r} cannot be a file name")
    folder.mkdir(parents=True, exist_ok=True)
    ir = np.asarray(result.ir[:, listener], dtype=float)
    with batch():
        return [write_audio(folder / f"{n}.wav", ir[k].T, result.fs_hz)
                for k, n in enumerate(names)]
