"""RIR assembly of a pyroomacoustics (pra) run: ``compute_rir`` without its slow paths.

`compute_rirs(pra_room)` returns what ``pra_room.compute_rir()`` leaves in ``pra_room.rir``
(a list per microphone of one RIR per source, floats; image sources from pra's own
``compute_ism_rir``, plus the ray-traced tail) for pyroomacoustics 0.10.1, in the same order and
drawing the same random numbers from ``pra.random.get_rng()`` in the same order, so a seeded run
gives the same IRs as pra's (bit-identical in the tests). What changes is how the tail is built
(pra's ``simulation.rt.compute_rt_rir``), which took 95 % of a hybrid run with directive ears:

- the directional sequence places every delta's ear IR with one ``np.bincount`` instead of a
  Python loop (15 000 slices), and picks each delta's direction with a binary search per
  histogram bin instead of comparing it with all 1 500 directions;
- the Poisson arrival times are drawn in one block (the rate is constant once it reaches pra's
  cap, so the times are a cumulative sum there);
- the histograms are stacked into one preallocated array (pra pads them one by one);
- the octave-band split analyses the sequence once for all bands (pra recomputes the same FFT
  per band) and the air absorption decay is shared by the tails of equal length.

pra's RIR high-pass is not applied (the room engine switches it off, see `sim.room.engine`).
"""

from __future__ import annotations

import math

import numpy as np
from pyroomacoustics import random as pra_random
from pyroomacoustics.simulation.ism import compute_ism_rir
from pyroomacoustics.simulation.rt import binary_sequence, seq_rolling_power

_MAX_RATE = 10000  # pra's cap of the Poisson rate of the tail's deltas, 1/s


def poisson_times(rng: np.random.Generator, volume: float, duration: float, c: float,
                  t0: float) -> np.ndarray:
    """Arrival times (s) of the tail's deltas as pra's ``poisson_sequence`` draws them.

    The rate grows as t² up to `_MAX_RATE`; while it grows each step depends on the last, so
    those few (~100) steps run one by one exactly as pra's loop; after that the steps are a
    cumulative sum. Each time consumes one uniform draw, and exactly that many are consumed."""
    fpcv = 4 * np.pi * c ** 3 / volume
    start = rng.bit_generator.state
    end = t0 + duration
    times = [t0]
    z = np.empty(0)
    used = 0
    while times[-1] < end:
        if used == len(z):  # draw ahead; the state is rewound to what was used below
            z = rng.uniform(size=max(1024, int(_MAX_RATE * (end - times[-1]) * 1.1)))
            used = 0
            logs = np.log(1 / z)
        mu = np.minimum(fpcv * (t0 + times[-1]) ** 2, _MAX_RATE)
        if mu < _MAX_RATE:
            times.append(times[-1] + logs[used] / mu)
            used += 1
            continue
        steps = np.cumsum(np.concatenate(([times[-1]], logs[used:] / mu)))[1:]
        past = np.nonzero(steps >= end)[0]
        take = past[0] + 1 if len(past) else len(steps)
        times.extend(steps[:take])
        used += take
    n_drawn = len(times) - 1
    rng.bit_generator.state = start
    rng.uniform(size=n_drawn)  # consume exactly what pra's loop would have
    return np.asarray(times, dtype=float)


def directional_sequence(t0: float, times: np.ndarray, response: np.ndarray,
                         hist: np.ndarray, hist_bin_size: float, fs: int,
                         rng: np.random.Generator) -> np.ndarray:
    """pra's ``directional_sequence``: a delta per arrival time, each carrying the receiver
    response (n_dirs, n_taps) of a direction drawn from that time bin's direction histogram
    hist (n_dirs, n_bins), scaled to unit energy per bin. Returns the sequence (samples)."""
    seq_bp = binary_sequence(times, fs)
    seq_power = seq_rolling_power(seq_bp, int(hist_bin_size * fs), filter_length_mult=2)
    nonzero = seq_power > 1e-10
    seq_power_norm = np.where(nonzero, 1.0 / np.where(nonzero, seq_power, 1.0), 0.0)
    indices = (times * fs).astype(np.int64)
    bins = np.floor((times - t0) / hist_bin_size).astype(np.int64)
    bins = np.minimum(bins, hist.shape[-1] - 1)
    cumul_hist = np.cumsum(hist, axis=0)
    cumul_uniform = np.cumsum(np.ones((cumul_hist.shape[0], 1)), axis=0)
    mask = cumul_hist[[-1], :] > 1e-10
    denom = np.where(mask, cumul_hist[[-1], :], cumul_uniform[[-1], :])
    cdf = np.where(mask, cumul_hist, cumul_uniform) / denom
    z = rng.uniform(size=bins.shape[0])
    # pra counts the directions whose cdf is below z; each bin's cdf is sorted, and the times
    # (so the bins) ascend: one binary search per run of deltas in a bin.
    r_ind = np.empty(len(bins), dtype=np.int64)
    starts = np.flatnonzero(np.diff(bins, prepend=-1))
    for lo, hi in zip(starts, [*starts[1:], len(bins)], strict=True):
        r_ind[lo:hi] = np.searchsorted(cdf[:, bins[lo]], z[lo:hi], side="left")
    signs = rng.choice([1, -1], size=len(indices))
    n_taps = response.shape[1]
    # sign · taps · gain as pra, regrouped: a product with ±1 is exact.
    values = response[r_ind, :] * (signs * np.sqrt(seq_power_norm[indices]))[:, None]
    # bincount adds the deltas' contributions in their order, like pra's loop.
    where = (indices[:, None] + np.arange(n_taps)).ravel()
    return np.bincount(where, weights=values.ravel(), minlength=indices[-1] + n_taps + 1)


def _stack_histograms(histograms: list[np.ndarray]) -> np.ndarray:
    """Per-direction histograms (n_bands, n_bins_d) zero-padded into (n_dirs, n_bands, n), in
    their own dtype (float32 from pra: the sums over them must round as pra's do)."""
    lengths = np.array([h.shape[-1] for h in histograms])
    dtype = np.result_type(*{h.dtype for h in histograms})
    out = np.zeros((len(histograms), *histograms[0].shape[:-1], lengths.max()), dtype=dtype)
    for n in np.unique(lengths):  # a few lengths: one stack each
        rows = np.flatnonzero(lengths == n)
        out[rows, ..., :n] = np.stack([histograms[d] for d in rows])
    return out


def _interp_hist(hist: np.ndarray, n: int) -> np.ndarray:
    """pra's ``interp_hist`` for all bands at once: (n_bands, n_bins) → (n_bands, n)."""
    from scipy.interpolate import interp1d

    hbss = n // hist.shape[-1]
    pad = hbss // 2
    t = np.linspace(pad, n - 1 - pad, hist.shape[-1])
    out = np.zeros((hist.shape[0], n))
    out[:, pad:-pad] = interp1d(t, hist, axis=-1)(np.arange(pad, n - pad))
    out[:, :pad] = out[:, [pad]]
    out[:, -pad:] = out[:, [-pad]]
    return out


_BAND_GAINS: dict[tuple, np.ndarray] = {}
_BAND_SYNTHESES: dict[tuple, np.ndarray] = {}


def _bank_key(bank) -> tuple:
    """What a pra Antoni filter bank's outputs depend on."""
    return (float(bank.fs), int(bank.n_fft), float(bank.overlap_ratio), int(bank.slope),
            tuple(np.asarray(bank.bands, dtype=float).ravel()))


def band_gains(bank, n_bands: int, n_fft: int) -> np.ndarray:
    """|G_b|² of pra's Antoni octave filter bank on the rfft grid of n_fft: (n_bands, F).
    Cached: every tail of a run (and of the next runs) has one of a few FFT sizes."""
    key = (*_bank_key(bank), n_bands, n_fft)
    if key not in _BAND_GAINS:
        g, n_freq, k1, _, k2 = bank._make_window_function(n_fft)
        half = np.ceil((k2 - k1) / 2.0).astype(int)
        out = np.zeros((n_bands, n_freq))
        for b in range(n_bands):
            k = k1[b] + np.arange(2 * half[b])
            k = k[k < n_freq]
            out[b, k] = g[b, k] ** 2
        _BAND_GAINS[key] = out
    return _BAND_GAINS[key]


def band_split(bank, x: np.ndarray, n_bands: int) -> np.ndarray:
    """The first n_bands octave bands of x (n,) as pra's ``bank.analysis(x, band=b)`` gives
    them, (n_bands, n) C-ordered.

    pra's Antoni analysis followed by its synthesis is the zero-phase filter |G_b|² on the
    rfft grid of pra's FFT size (2·n rounded up to a power of 2); applied directly it costs one
    rfft and an irfft per band instead of pra's rfft, three band FFTs and an irfft per band,
    and equals pra's within 1e-11 of the band's peak (FFT rounding)."""
    n_fft = 2 ** math.ceil(math.log2(2 * x.shape[-1]))
    gains = band_gains(bank, n_bands, n_fft)
    return np.fft.irfft(gains * np.fft.rfft(x, n=n_fft), n=n_fft)[:, :x.shape[-1]]


class _AirDecay:
    """exp(-0.5 · a_b · c · t) over n samples, (n_bands, n), computed once per length."""

    def __init__(self, coeffs: np.ndarray | None, fs: int, c: float):
        self.coeffs, self.fs, self.c = coeffs, fs, c
        self._by_n: dict[int, np.ndarray] = {}

    def __call__(self, n: int) -> np.ndarray:
        if n not in self._by_n:
            self._by_n[n] = np.exp(-0.5 * self.coeffs[:, None] * np.arange(n)[None, :]
                                   / self.fs * self.c)
        return self._by_n[n]


def rt_tail(t0: float, histograms: list[np.ndarray], receiver: dict, room, air: _AirDecay,
            fdl: int) -> np.ndarray:
    """The ray-traced tail of one source → microphone pair (pra's ``compute_rt_rir``).

    t0: direct-path time, s; histograms: per receiver direction (n_bands, n_bins) energies;
    receiver: pra's ``rt_directional_responses`` entry of the microphone; fdl: pra's
    fractional-delay length. Returns the tail (samples), with pra's half fractional-delay
    lead."""
    fdl2 = fdl // 2
    hist_bin_size = room.rt_args["hist_bin_size"]
    hbss = int(room.rt_args["hist_bin_size_samples"])
    fs, c, bank = room.fs, room.c, room.octave_bands
    stacked = _stack_histograms(histograms)
    occupied = np.nonzero(np.any(stacked.sum(axis=1) != 0, axis=0))[0]
    if len(occupied) == 0:
        return np.zeros(fdl2)
    n_bins = math.ceil(int(occupied[-1] + 1) * hist_bin_size * fs / hbss)
    n = n_bins * hbss
    hist_all = np.zeros((*stacked.shape[:2], n_bins), dtype=stacked.dtype)
    keep = min(n_bins, stacked.shape[-1])
    hist_all[..., :keep] = stacked[..., :keep]
    n_dirs, n_bands, _ = hist_all.shape
    hist_directions = np.sum(hist_all, axis=1)
    hist_bands = np.sum(hist_all, axis=0)
    response = receiver["response"]
    if not receiver["is_impulse_response"]:
        if response.ndim == 1:
            response = np.broadcast_to(response[:, None], (n_dirs, 1))
        else:
            response = bank.synthesis(response)
    rng = pra_random.get_rng()
    times = poisson_times(rng, room.get_volume(), n / fs, c, t0)
    seq = directional_sequence(t0, times, response, hist_directions, hist_bin_size, fs,
                               rng)[:n]
    split = band_split(bank, seq, n_bands) if n_bands > 1 else seq[None, :].copy()
    rir_bands = split * np.sqrt(np.maximum(_interp_hist(hist_bands, n), 0.0))
    if air.coeffs is not None:
        if rir_bands.shape[0] == 1:
            rir_bands = band_split(bank, rir_bands[0], bank.n_bands)
        rir_bands = rir_bands * air(n)
    return np.pad(np.sum(rir_bands, axis=0), (fdl2, 0))


def _ism_inputs(room, m: int, s: int) -> dict:
    """pra's ``compute_ism_rir`` up to its filters, for microphone m and source s: the image
    arrival times (s), octave-band amplitudes (n_bands, n_images) and the full-band responses
    (the ear's and the driver's IRs per image, when they are IR directivities)."""
    from pyroomacoustics import doa
    from pyroomacoustics.simulation.ism import apply_air_aborption
    from pyroomacoustics.utilities import angle_function

    src, mic = room.sources[s], room.mic_array.R[:, m]
    visible = room.visibility[s][m, :]
    images = src.images[:, visible]
    dist = np.sqrt(np.sum((images - mic[:, None]) ** 2, axis=0))
    amplitude = src.damping[:, visible] / dist
    if room.air_absorption is not None:
        amplitude = apply_air_aborption(amplitude, room.air_absorption, dist)
    full = []
    mic_dir = room.mic_array.directivity[m]
    if mic_dir is not None:
        az, col = angle_function(images, mic)[:2]
        gain = mic_dir.get_response(azimuth=az, colatitude=col, degrees=False)
        if mic_dir.is_impulse_response:
            full.append(gain)
        else:
            amplitude = amplitude * gain
    if src.directivity is not None:
        az, col, _ = doa.cart2spher(src.directions[m, :, :][:, visible])
        gain = src.directivity.get_response(azimuth=az, colatitude=col, degrees=False)
        if src.directivity.is_impulse_response:
            full.append(gain)
        else:
            amplitude = amplitude * gain
    return {"time": dist / room.c, "amplitude": amplitude, "full": full}


def attenuation_filters(bank, amplitudes: np.ndarray, min_phase: bool) -> np.ndarray:
    """pra's ``bank.synthesis(amplitudes, min_phase)`` for amplitudes (N, n_bands): filters
    (N, bank.n_fft) with those band levels. pra analyses a centred impulse per row, scales
    each band's coefficients by the row's amplitude and synthesises every row. The synthesis
    is linear and the analysis the same for every row, so each band's synthesis of the
    impulse is computed once per filter bank (`_BAND_SYNTHESES`, (n_bands, n_fft)) and a row
    is its amplitudes times them: a (N, n_bands) × (n_bands, n_fft) product instead of
    N × n_bands FFTs of twice the length (the same values to rounding; the minimum-phase
    step works row by row)."""
    from pyroomacoustics.acoustics import magnitude_response_to_minimum_phase

    n = bank.n_fft
    key = (*_bank_key(bank), amplitudes.dtype.str)
    if key not in _BAND_SYNTHESES:
        impulse = np.zeros((1, n), dtype=amplitudes.dtype)
        impulse[0, n // 2] = 1.0
        signal, params = bank.wavelet_analysis(impulse)
        _BAND_SYNTHESES[key] = bank.wavelet_synthesis(signal, params)[0].T.copy()
    ir = amplitudes @ _BAND_SYNTHESES[key][:amplitudes.shape[-1]]
    if not min_phase:
        return ir
    return magnitude_response_to_minimum_phase(np.abs(np.fft.rfft(ir, axis=-1)), n, axis=-1,
                                               eps=1e-7)


def ism_rirs(room, fdl: int) -> dict[tuple[int, int], np.ndarray]:
    """The image-source part of every (mic, source) RIR, as pra's ``compute_ism_rir`` gives
    it. For pairs with IR directivities the work pra repeats per pair is done once: one
    fractional-delay call for all their images (pra's rebuilds its sinc table, ~4 ms, per
    call) and the analysis of the centred impulse its attenuation filters start from (see
    `attenuation_filters`); other pairs go to pra's function as they are."""
    from pyroomacoustics import libroom
    from pyroomacoustics.parameters import constants
    from pyroomacoustics.simulation.ism import multi_convolve

    pairs = [(m, s) for m in range(room.mic_array.M) for s in range(len(room.sources))]
    inputs = {p: _ism_inputs(room, *p) for p in pairs}
    out = {p: compute_ism_rir(room.sources[p[1]], room.mic_array.R[:, p[0]],
                              room.mic_array.directivity[p[0]],
                              room.sources[p[1]].directions[p[0], :, :],
                              room.visibility[p[1]][p[0], :], fdl, room.c, room.fs,
                              room.octave_bands, min_phase=room.min_phase,
                              air_abs_coeffs=room.air_absorption)
           for p in pairs if not inputs[p]["full"]}
    full = [p for p in pairs if inputs[p]["full"]]
    if not full:
        return out
    frac = {p: inputs[p]["time"] * room.fs for p in full}
    t_ip = {p: np.floor(frac[p]).astype(np.int32) for p in full}
    t_fp = np.concatenate([(frac[p] - t_ip[p]).astype(np.float32) for p in full])
    delays = np.zeros((t_fp.shape[0], fdl), dtype=np.float32)
    libroom.fractional_delay(delays, t_fp, constants.get("sinc_lut_granularity"),
                             constants.get("num_threads"))
    bounds = np.cumsum([0] + [len(t_ip[p]) for p in full])
    for k, p in enumerate(full):
        # Pair by pair from here, as pra: the filters of all pairs at once would take
        # (images × FFT bins × bands) complex numbers, hundreds of MB at high orders.
        parts = [*inputs[p]["full"], delays[bounds[k]:bounds[k + 1]]]
        amplitude = inputs[p]["amplitude"]
        banded = amplitude.shape[0] > 1
        if banded:
            parts.append(attenuation_filters(room.octave_bands, amplitude.T, room.min_phase))
        irs = multi_convolve(*parts)
        if not banded:
            irs *= amplitude.T
        rir = np.zeros(int(t_ip[p].max() + irs.shape[1]), dtype=np.float32)
        libroom.delay_sum(irs.astype(np.float32), t_ip[p], rir, constants.get("num_threads"))
        if banded and not room.min_phase:
            rir = rir[constants.get("octave_bands_n_fft") // 2:]
        out[p] = rir
    return out


def compute_rirs(room) -> list[list[np.ndarray]]:
    """What ``room.compute_rir()`` computes (ISM and ray tracing already run), without the RIR
    high-pass: ``rirs[m][s]`` float arrays, image sources plus tail."""
    from pyroomacoustics.parameters import constants

    fdl = constants.get("frac_delay_length")
    state = room.simulator_state
    ism = ism_rirs(room, fdl) if state["ism_needed"] else {}
    air = _AirDecay(room.air_absorption, room.fs, room.c)
    out: list[list[np.ndarray]] = []
    for m, mic in enumerate(room.mic_array.R.T):
        out.append([])
        for s, src in enumerate(room.sources):
            parts = [ism[m, s]] if state["ism_needed"] else []
            if state["rt_needed"]:
                t0 = float(np.linalg.norm(src.position - mic) / room.c)
                parts.append(rt_tail(t0, room.rt_histograms[m][s],
                                     room.rt_directional_responses[m], room, air, fdl))
            if len(parts) == 1:
                rir = parts[0]
            else:
                rir = np.zeros(max(len(p) for p in parts))
                for p in parts:
                    rir[:len(p)] += p
            out[m].append(rir)
    return out
