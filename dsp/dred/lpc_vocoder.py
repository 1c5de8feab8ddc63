"""Classical mixed-excitation LPC vocoder: the baseline the neural DRED vocoder must beat.

Features ``(n_frames, 20)`` -> 16 kHz audio, same contract as `dsp.dred.vocoder.Vocoder`.
Per 5 ms subframe: the features' spectral envelope, interpolated in the log domain between the
frames around the subframe centre, gives an order-16 LPC synthesis filter 1/A(z)
(`features.envelope_to_lpc`) and a gain that makes the filter's power response carry the
envelope's power. Excitation: the same band-limited pulse train at the pitch period as the
neural vocoder (continuous phase, `vocoder.pulse_train`) mixed with white noise by the voicing
(pitch correlation), power-complementary (sqrt(v), sqrt(1 - v)). Gain and voicing are
interpolated per sample and read ahead by the filter's energy delay (a causal all-pole filter
puts its output energy late by its impulse response's centroid, a few ms for sharp formants);
the filter switches coefficients every subframe keeping its past outputs (direct form I
memory), so nothing clicks at subframe boundaries.
"""

from __future__ import annotations

import numpy as np
import scipy.signal

from dsp.dred.features import (
    FRAME_SIZE,
    INT16_SCALE,
    LPC_ORDER,
    WINDOW_SIZE,
    envelope_to_lpc,
    features_to_envelope,
)
from dsp.dred.vocoder import (
    ENVELOPE_FLOOR,
    ENVELOPE_TO_POWER_GAIN,
    SUBFRAME_SIZE,
    check_features,
    interp_frames,
    pulse_train,
    sample_f0,
    voicing,
)


def subframe_filters(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """LPC ``(2F, 17)`` and float-scale log gain ``(2F,)`` of the subframes ``[k*80, k*80+80)``.

    The gain g makes ``g^2 * sum |1/A|^2`` over the 161 envelope bins equal the power a unit-
    variance source needs to reproduce the envelope (640 * envelope per bin, int16 scale).
    """
    log_env = np.log(np.maximum(features_to_envelope(features), ENVELOPE_FLOOR))
    n_sub = 2 * features.shape[0]
    centres = (np.arange(n_sub) * SUBFRAME_SIZE + SUBFRAME_SIZE / 2) / FRAME_SIZE
    env = np.exp(interp_frames(log_env, centres))
    a = envelope_to_lpc(env, LPC_ORDER)
    resp = np.abs(np.fft.rfft(a, n=WINDOW_SIZE, axis=1)) ** -2  # |1/A|^2 on the 161 bins
    log_gain = 0.5 * (np.log(ENVELOPE_TO_POWER_GAIN * env.sum(axis=1))
                      - np.log(resp.sum(axis=1))) - np.log(INT16_SCALE)
    return a, log_gain


def all_pole_energy_delay(a: np.ndarray, n_fft: int = 512) -> np.ndarray:
    """Energy centroid (samples) ``(...,)`` of the impulse response of 1/A(z), ``a`` ``(..., p+1)``.

    Power-weighted group delay ``sum |H|^2 tau / sum |H|^2`` with ``tau = -Re(B / A)``,
    ``B = sum k a_k e^{-jwk}`` (the group delay of A with the sign flipped).
    """
    spec_a = np.fft.rfft(a, n=n_fft, axis=-1)
    spec_b = np.fft.rfft(a * np.arange(a.shape[-1]), n=n_fft, axis=-1)
    power = np.abs(spec_a) ** -2
    tau = -(spec_b / spec_a).real
    return np.sum(power * tau, axis=-1) / np.sum(power, axis=-1)


def lpc_vocode(features: np.ndarray, seed: int = 0) -> np.ndarray:
    """Audio ``(n_frames * 160,)`` float32 in [-1, 1] from features ``(n_frames, 20)``.

    Aligned with the audio the features came from (no delay); deterministic for a given
    ``seed`` (noise source). Raises `dsp.dred.vocoder.VocoderError` (a ValueError) for a wrong
    shape or non-finite features.
    """
    f = check_features(features)
    n = f.shape[0] * FRAME_SIZE
    a, log_gain = subframe_filters(f)
    sub_centres = np.arange(a.shape[0]) * SUBFRAME_SIZE + SUBFRAME_SIZE / 2
    # the filter delays the energy it is fed by its energy centroid: read gain and voicing
    # that much ahead, so the output's energy lands where the features put it
    delay = np.maximum(all_pole_energy_delay(a), 0.0)
    t = np.arange(n) + np.interp(np.arange(n), sub_centres, delay)
    v = interp_frames(voicing(f), t / FRAME_SIZE)
    excitation = (np.sqrt(v) * pulse_train(sample_f0(f, 0, n))
                  + np.sqrt(1.0 - v) * np.random.default_rng(seed).standard_normal(n))
    excitation *= np.exp(np.interp(t, sub_centres, log_gain))
    y = np.empty(n)
    past = np.zeros(LPC_ORDER)  # last outputs, newest first
    for k in range(a.shape[0]):
        seg = slice(k * SUBFRAME_SIZE, (k + 1) * SUBFRAME_SIZE)
        zi = scipy.signal.lfiltic([1.0], a[k], past)
        y[seg], _ = scipy.signal.lfilter([1.0], a[k], excitation[seg], zi=zi)
        past = y[seg][::-1][:LPC_ORDER]
    return np.clip(y, -1.0, 1.0).astype(np.float32)
