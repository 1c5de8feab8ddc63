"""Packet-loss models for the DRED chain: Bernoulli, Gilbert–Elliott and recorded traces.

A loss mask is a ``(n,)`` bool array, one entry per packet (20 ms in the DRED chain), True = lost.
Every generator is seeded (``numpy.random.default_rng(seed)``), so a mask is reproducible.
Trace files hold one 0/1 per line per 20 ms packet, 1 = lost (the Interspeech 2022 PLC
Challenge ``*_is_lost.txt`` format).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

KINDS = ("none", "bernoulli", "ge", "trace")
SPEC_SYNTAX = "'none', 'bernoulli:RATE', 'ge:RATE,MEAN_BURST' or 'trace:PATH' (0 <= RATE < 1)"


class LossError(ValueError):
    """Invalid loss-model parameters, an unparsable loss spec, or a malformed trace file."""


def _check_rate(rate: float, upper_inclusive: bool) -> float:
    r = float(rate)
    ok = 0.0 <= r <= 1.0 if upper_inclusive else 0.0 <= r < 1.0
    if not ok:
        bound = "[0, 1]" if upper_inclusive else "[0, 1)"
        raise LossError(f"loss rate must be in {bound}, got {rate!r}")
    return r


def _check_n(n: int) -> int:
    if isinstance(n, bool) or int(n) != n or n < 0:
        raise LossError(f"number of packets must be a non-negative integer, got {n!r}")
    return int(n)


def bernoulli(rate: float, n: int, seed: int = 0) -> np.ndarray:
    """Independent losses: ``(n,)`` bool, each packet lost with probability ``rate``."""
    r = _check_rate(rate, upper_inclusive=True)
    return np.random.default_rng(seed).random(_check_n(n)) < r


def ge_transitions(rate: float, mean_burst: float) -> tuple[float, float]:
    """(P(good→bad), P(bad→good)) of the simple Gilbert–Elliott chain, validated."""
    r = _check_rate(rate, upper_inclusive=False)
    mb = float(mean_burst)
    if not math.isfinite(mb) or mb < 1.0:
        raise LossError(f"mean burst length must be >= 1 packet, got {mean_burst!r}")
    p_gb = r / (mb * (1.0 - r))
    if p_gb > 1.0:
        # Good runs would have to be shorter than one packet to reach this rate.
        raise LossError(f"rate {r} needs mean_burst >= rate/(1-rate) = {r / (1 - r):.3g}, "
                        f"got {mb}")
    return p_gb, 1.0 / mb


def gilbert_elliott(rate: float, mean_burst: float, n: int, seed: int = 0) -> np.ndarray:
    """Bursty losses from a two-state Markov chain: ``(n,)`` bool, True = lost.

    Simple Gilbert–Elliott: every packet in the bad state is lost, none in the good state.
    P(bad→good) = 1/mean_burst, P(good→bad) = rate/(mean_burst·(1−rate)), so the stationary
    loss probability is ``rate`` and bursts are geometric with mean ``mean_burst`` packets.
    The first state is drawn from the stationary distribution; because sojourn times are
    memoryless, the chain is generated as alternating geometric run lengths (vectorized).
    """
    n = _check_n(n)
    p_gb, p_bg = ge_transitions(rate, mean_burst)
    rng = np.random.default_rng(seed)
    bad = rng.random() < rate
    if p_gb == 0.0:
        return np.zeros(n, dtype=bool)
    chunks = []
    pos = 0
    mean_cycle = 1.0 / p_gb + 1.0 / p_bg
    while pos < n:
        pairs = int((n - pos) / mean_cycle * 1.1) + 4
        good_runs = rng.geometric(p_gb, pairs)
        bad_runs = rng.geometric(p_bg, pairs)
        first, second = (bad_runs, good_runs) if bad else (good_runs, bad_runs)
        runs = np.column_stack([first, second]).ravel()
        chunks.append(np.repeat(np.tile([bad, not bad], pairs), runs))
        pos += chunks[-1].size
    return np.concatenate(chunks)[:n]


def read_trace(path: str | Path) -> np.ndarray:
    """A loss trace file as ``(n,)`` bool (True = lost): one 0/1 per line, 1 = lost.

    Blank lines are ignored and CRLF line ends accepted. Raises :class:`LossError` naming the
    file and the 1-based line number for any other content, and for an empty or unreadable file.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise LossError(f"cannot read loss trace {p}: {e.strerror or e}") from e
    values = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        line = raw.strip()
        if not line:
            continue
        if line not in (b"0", b"1"):
            shown = line[:40].decode("utf-8", errors="replace")
            raise LossError(f"{p}, line {number}: expected 0 or 1 (1 = lost), got {shown!r}")
        values.append(line == b"1")
    if not values:
        raise LossError(f"{p}: empty loss trace (no 0/1 lines)")
    return np.array(values, dtype=bool)


@dataclass(frozen=True)
class LossModel:
    """A seeded packet-loss model; packets are 20 ms in the DRED chain.

    kind: "none", "bernoulli" (uses ``rate``), "ge" (``rate`` and ``mean_burst`` in packets)
    or "trace" (``path`` to a 0/1-per-line file).
    """

    kind: str = "none"
    rate: float = 0.0
    mean_burst: float = 1.0
    path: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise LossError(f"loss kind must be one of {KINDS}, got {self.kind!r}")
        if self.kind == "bernoulli":
            _check_rate(self.rate, upper_inclusive=True)
        elif self.kind == "ge":
            ge_transitions(self.rate, self.mean_burst)
        elif self.kind == "trace" and not self.path:
            raise LossError("a trace loss model needs a path")

    def mask(self, n: int, seed: int = 0) -> np.ndarray:
        """``(n,)`` bool loss mask, True = lost.

        A trace is stateless here: it always starts at its first packet (the seed is ignored,
        so every run sees the same recording), is tiled when shorter than ``n`` and cut when
        longer.
        """
        n = _check_n(n)
        if self.kind == "none":
            return np.zeros(n, dtype=bool)
        if self.kind == "bernoulli":
            return bernoulli(self.rate, n, seed)
        if self.kind == "ge":
            return gilbert_elliott(self.rate, self.mean_burst, n, seed)
        trace = read_trace(self.path)
        return np.resize(trace, n)

    def describe(self) -> str:
        """One human-readable line, e.g. ``Gilbert–Elliott 20.0 % loss, mean burst 10 packets``."""
        if self.kind == "none":
            return "no loss"
        if self.kind == "bernoulli":
            return f"Bernoulli {100 * self.rate:.1f} % loss"
        if self.kind == "ge":
            return (f"Gilbert–Elliott {100 * self.rate:.1f} % loss, "
                    f"mean burst {self.mean_burst:g} packets")
        return f"trace {Path(self.path).name}"


def loss_percent(loss: LossModel | np.ndarray) -> int:
    """The packet loss, in whole percent 0..100, that the Opus encoder is told to expect
    (``packet_loss_perc``, which sizes LBRR): a model's rate (a trace's overall loss, 0 for
    none), or the realized loss of a mask ``(n,)`` (bool or 0/1).

    The one place this figure is computed: `awb dred simulate`, the DRED panel's "from the
    loss model" and the evaluation harness all use it.
    """
    if isinstance(loss, LossModel):
        rate = read_trace(loss.path).mean() if loss.kind == "trace" else loss.rate
    else:
        rate = np.asarray(loss, dtype=float).mean() if np.size(loss) else 0.0
    return min(100, round(100 * float(rate)))


def _number(text: str, spec: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise LossError(f"bad loss spec {spec!r}: {text!r} is not a number; "
                        f"expected {SPEC_SYNTAX}") from None
    if not math.isfinite(value):
        raise LossError(f"bad loss spec {spec!r}: {text!r} is not finite; expected {SPEC_SYNTAX}")
    return value


def parse_loss(spec: str) -> LossModel:
    """A :class:`LossModel` from ``none``, ``bernoulli:0.1``, ``ge:0.2,10`` or ``trace:PATH``."""
    if not isinstance(spec, str):
        raise LossError(f"loss spec must be a string, got {type(spec).__name__}")
    kind, sep, arg = spec.strip().partition(":")
    kind = kind.strip().lower()
    if kind == "none" and not sep:
        return LossModel("none")
    if kind == "bernoulli" and sep:
        return LossModel("bernoulli", rate=_number(arg, spec))
    if kind == "ge" and sep and arg.count(",") == 1:
        rate, burst = arg.split(",")
        return LossModel("ge", rate=_number(rate, spec), mean_burst=_number(burst, spec))
    if kind == "trace" and sep and arg.strip():
        return LossModel("trace", path=arg.strip())
    raise LossError(f"bad loss spec {spec!r}: expected {SPEC_SYNTAX}")


def burst_stats(mask: np.ndarray) -> dict[str, float | int]:
    """Statistics of a loss mask ``(n,)`` (bool or 0/1), burst lengths in packets.

    Returns ``n``, ``rate`` (realized loss fraction), ``n_bursts`` (maximal runs of lost
    packets), ``mean_burst`` and ``max_burst`` (0 when nothing is lost).
    """
    m = np.asarray(mask)
    if m.ndim != 1:
        raise LossError(f"loss mask must be 1-D, got shape {m.shape}")
    if m.dtype != bool:
        if not np.isin(m, (0, 1)).all():
            raise LossError("loss mask must be bool or 0/1")
        m = m.astype(bool)
    edges = np.diff(np.concatenate([[0], m.astype(np.int8), [0]]))
    lengths = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
    return {
        "n": int(m.size),
        "rate": float(m.mean()) if m.size else 0.0,
        "n_bursts": int(lengths.size),
        "mean_burst": float(lengths.mean()) if lengths.size else 0.0,
        "max_burst": int(lengths.max()) if lengths.size else 0,
    }
