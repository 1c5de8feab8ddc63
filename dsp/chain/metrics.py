"""What the voice chain reports: levels, packet fates, counters, bit rates, DRED reach, quality.

:class:`ChainMeters` is updated once per block on the audio thread (cheap bookkeeping only) and
read through :meth:`ChainMeters.snapshot` from any thread. :class:`TapHistory` keeps the last
seconds of every tap for quality measurements; :func:`stage_quality` scores taps against the clean
talker at the microphone (PESQ-WB, STOI): call it off the audio thread, it takes seconds.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from dsp.chain.base import Block
from dsp.chain.clock import BLOCK, BLOCK_MS, FS_HZ
from dsp.dred.receiver import SOURCES

COUNTERS = ("regular", "lbrr", "dred", "plc")
"""Frames played per source; ``plc`` counts the neural and the Opus PLC."""
NETWORK_FATES = ("received", "lost", "late")
FATES_KEPT = 500  # packets of fate history a snapshot carries (10 s)
QUALITY_MIN_S = 1.0  # PESQ needs a few hundred ms of speech; less is not scored


@dataclass(frozen=True)
class PacketFate:
    """One packet: ``network`` "received", "lost" or "late"; ``played`` the source its frame
    was played from (``dsp.dred.receiver.SOURCES``), None until played."""

    packet: int
    network: str
    played: str | None = None


@dataclass(frozen=True)
class ChainSnapshot:
    """The chain's state for a GUI: everything a panel shows, copied.

    Attributes:
        blocks: blocks processed; seconds: audio time processed.
        levels_db: RMS dBFS of each tap's last block (-120 for silence).
        counters: frames played per :data:`COUNTERS` name.
        kbps: mean payload kb/s of ``opus`` (LBRR included), ``dred`` and ``total`` (with the
            container bytes; no IP/UDP/RTP headers).
        dred_reach_ms: mean redundancy depth per packet.
        latency_ms: talker at the microphone -> far-end output.
        real_time_factor: processing time over audio time, over the run (wall clock: what
            a live stream must stay below 1 with).
        stage_rtf: each stage's own CPU time over audio time (its cost, however loaded the
            machine is).
        network: packets per network fate ("received", "lost", "late") over the run.
        fates: the last packets' fates, oldest first.
    """

    blocks: int
    seconds: float
    levels_db: dict[str, float]
    counters: dict[str, int]
    kbps: dict[str, float]
    dred_reach_ms: float
    latency_ms: float
    real_time_factor: float
    network: dict[str, int] = field(default_factory=dict)
    stage_rtf: dict[str, float] = field(default_factory=dict)
    fates: tuple[PacketFate, ...] = field(default_factory=tuple)


def level_db(x: np.ndarray) -> float:
    """RMS in dBFS of a block (any shape), floored at -120."""
    ms = float(np.mean(np.square(x))) if np.size(x) else 0.0
    return max(-120.0, 10.0 * np.log10(ms)) if ms > 0 else -120.0


class ChainMeters:
    """Per-block bookkeeping of a graph (written by its thread, read by any)."""

    def __init__(self, latency_ms: float):
        self.latency_ms = latency_ms
        self.lock = threading.Lock()
        self.blocks = 0
        self.busy_s = 0.0
        self.stage_s: dict[str, float] = {}
        self.levels: dict[str, float] = {}
        self.counts = dict.fromkeys(COUNTERS, 0)
        self.bytes = {"opus": 0, "dred": 0, "total": 0}
        self.chunks = 0
        self.network = dict.fromkeys(NETWORK_FATES, 0)
        self.fates: deque[PacketFate] = deque(maxlen=FATES_KEPT)

    def update(self, block: Block, busy_s: float, stage_s: dict[str, float]) -> None:
        """Account one processed block (``busy_s``: the wall time it took, ``stage_s``: each
        stage's CPU time)."""
        levels = {name: level_db(x) for name, x in block.taps.items()}
        with self.lock:
            self.blocks += 1
            self.busy_s += busy_s
            for name, s in stage_s.items():
                self.stage_s[name] = self.stage_s.get(name, 0.0) + s
            self.levels = levels
            p = block.packet
            if p is not None:
                self.bytes["opus"] += p.opus
                self.bytes["dred"] += p.dred
                self.bytes["total"] += len(p.data)
                self.chunks += p.chunks
                fate = "late" if block.late else ("received" if block.arrived else "lost")
                self.network[fate] += 1
                self.fates.append(PacketFate(block.index, fate))
            if block.played is not None:
                k, src = block.played
                name = SOURCES[src]
                self.counts["plc" if name == "opus_plc" else name] += 1
                self._mark_played(k, name)

    def _mark_played(self, k: int, name: str) -> None:
        first = self.fates[0].packet if self.fates else k + 1
        i = k - first
        if 0 <= i < len(self.fates):
            f = self.fates[i]
            self.fates[i] = PacketFate(f.packet, f.network, name)

    def snapshot(self) -> ChainSnapshot:
        with self.lock:
            seconds = self.blocks * BLOCK_MS / 1000.0
            ms = max(self.blocks, 1) * BLOCK_MS
            return ChainSnapshot(
                blocks=self.blocks, seconds=seconds, levels_db=dict(self.levels),
                counters=dict(self.counts),
                kbps={k: 8.0 * v / ms for k, v in self.bytes.items()},
                dred_reach_ms=40.0 * self.chunks / max(self.blocks, 1),
                latency_ms=self.latency_ms,
                real_time_factor=self.busy_s / seconds if seconds else 0.0,
                network=dict(self.network),
                stage_rtf={k: v / seconds for k, v in self.stage_s.items()} if seconds else {},
                fates=tuple(self.fates))


class TapHistory:
    """The last ``seconds`` of every tap (float32 rings), written per block, read by copy."""

    def __init__(self, seconds: float):
        self.capacity = max(1, round(seconds * FS_HZ / BLOCK)) * BLOCK
        self.rings: dict[str, np.ndarray] = {}
        self.written = 0
        self.lock = threading.Lock()

    def push(self, taps: dict[str, np.ndarray]) -> None:
        i = self.written % self.capacity
        with self.lock:
            for name, x in taps.items():
                ring = self.rings.get(name)
                if ring is None:
                    ring = self.rings[name] = np.zeros((self.capacity, *x.shape[1:]), np.float32)
                ring[i:i + BLOCK] = x
            self.written += BLOCK

    def recent(self, tap: str, seconds: float | None = None) -> np.ndarray:
        """The tap's last ``seconds`` (all kept when None), oldest sample first."""
        with self.lock:
            ring = self.rings.get(tap)
            if ring is None:
                return np.zeros(0, np.float32)
            n = min(self.written, self.capacity)
            if seconds is not None:
                n = min(n, round(seconds * FS_HZ))
            end = self.written % self.capacity or (self.capacity if self.written else 0)
            idx = (end - n + np.arange(n)) % self.capacity
            return ring[idx].copy()


def stage_quality(taps: dict[str, np.ndarray], latencies: dict[str, int],
                  scored: tuple[str, ...], reference: str = "clean") -> dict[str, dict]:
    """PESQ-WB and STOI of each mono tap in ``scored`` against ``taps[reference]``.

    ``taps`` hold the same stretch of blocks (16 kHz); tap t lags the reference by
    ``latencies[t]`` samples, so it is compared with the reference that much earlier. A tap
    (or reference) shorter than :data:`QUALITY_MIN_S` after the shift, or silent, gets None
    for both; a stretch in which PESQ finds no speech gets None for PESQ.
    """
    from pesq import PesqError

    from dsp.percepnet.metrics import pesq_wb, stoi

    ref_all = np.asarray(taps[reference], np.float64)
    out: dict[str, dict] = {}
    for name in scored:
        lag = latencies[name] - latencies[reference]
        est = np.asarray(taps[name], np.float64)[lag:]
        ref = ref_all[:est.size]
        if est.size < QUALITY_MIN_S * FS_HZ or not np.any(ref) or not np.any(est):
            out[name] = {"pesq_wb": None, "stoi": None}
            continue
        try:
            p = round(pesq_wb(ref, est), 3)
        except PesqError:  # no speech PESQ can find (a noise-only stretch)
            p = None
        out[name] = {"pesq_wb": p, "stoi": round(stoi(ref, est), 4)}
    return out
