"""The numbers that shape the room engine's output, and the version that names them.

Grid sizes and IR lengths of the directivities handed to pyroomacoustics, the image-source and
ray-tracing limits, the early-only fade. Any change here changes the engine's output for the
same scene: bump `ENGINE_VERSION` with it, so cached results are not reused. (So does a
directivity kind's `grid_taps`, the IR length of a driver pattern the engine samples.)
"""

from __future__ import annotations

import math

ENGINE_VERSION = "room-1"
"""Bumped whenever the engine's output for the same inputs changes (invalidates caches)."""

EAR_GRID_POINTS = 1500
"""Fibonacci directions of an analytic ear directivity (mean spacing ≈ 5°)."""
DRIVER_GRID_POINTS = 600
"""Fibonacci directions of a piston / SOFA driver directivity (mean spacing ≈ 8°)."""
EAR_TAPS = 256
"""Ear directivity IR length at 48 kHz; scaled up with the sample rate.
The bulk delay of ear IRs is EAR_TAPS // 4 (64 samples: room for the 12-sample lead of the
ipsilateral ear and the pre-ringing of its fractional delay)."""
SOFA_EAR_TAPS = 512
"""Ear IR length of a SOFA head at 48 kHz (measured HRIRs ring longer than the sphere's: the
MIT KEMAR set holds 99.9 % of its energy within ~350 samples of the onset)."""
MAX_ISM_ORDER = 12
"""Cap of the Sabine image-source order when ray tracing is off (measured directivities make
every image source cost an FFT convolution: order 12 ≈ 2 600 images per source)."""
EARLY_MAX_ORDER = 3
"""Image-source order of the early-only mode."""
MAX_RAYS = 50_000
"""Cap of pra's default ray count (20 hits per histogram bin, Vorländer)."""
RECEIVER_RADIUS_M = 0.5
"""Ray-tracing receiver radius (pra default)."""
EARLY_FADE_S = 1e-3
"""Half-cosine fade at the end of early-only IRs, s."""
OCTAVE_CENTERS_HZ = (125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0)
"""Bands of the octave-band materials every wall gets."""


def scaled_taps(base: int, fs_hz: int) -> int:
    """`base` taps at 48 kHz, doubled per octave of sample rate above that (never below)."""
    return base * 2 ** max(0, math.ceil(math.log2(fs_hz / 48000.0)))
