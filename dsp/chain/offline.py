"""The offline run: the live graph driven block by block over the whole talker file.

:func:`run_offline` steps a :class:`dsp.chain.graph.ChainGraph` until the talker has been heard
once at the far end (its length plus the output tap's latency, in whole blocks), keeps every
block of every tap, and returns each tap cut to the talker's length and shifted back by its
latency, so all taps line up with the clean talker at the microphone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dsp.chain.clock import BLOCK, FS_HZ
from dsp.chain.graph import REFERENCE, SCORED, ChainGraph
from dsp.chain.metrics import ChainSnapshot, stage_quality
from sim.task import TaskState, check, report

PROGRESS_BLOCKS = 25  # progress and cancel checks every half second of audio


@dataclass
class OfflineRun:
    """taps: name -> ``(n,)`` (``(n, 2)`` for ears) aligned with the talker, 16 kHz;
    raw: name -> the tap as the graph made it (unshifted, whole blocks); latency: samples per
    tap; snapshot: the meters at the end; fates: ``(n_packets,)`` network fate names."""

    taps: dict[str, np.ndarray]
    raw: dict[str, np.ndarray]
    latency: dict[str, int]
    snapshot: ChainSnapshot
    fs_hz: int = FS_HZ

    def quality(self) -> dict[str, dict]:
        """PESQ-WB / STOI of every scored tap against the clean talker (slow)."""
        return aligned_quality(self.taps)


def aligned_quality(taps: dict[str, np.ndarray]) -> dict[str, dict]:
    """PESQ-WB / STOI of every scored tap in ``taps`` (aligned with the clean talker, as
    :class:`OfflineRun` holds them; other taps may be left out) against the clean talker."""
    return stage_quality(taps, dict.fromkeys(taps, 0), SCORED, REFERENCE)


def run_offline(graph: ChainGraph, n_samples: int | None = None,
                changes: Callable[[int, ChainGraph], None] | None = None,
                state: TaskState | None = None) -> OfflineRun:
    """Drive ``graph`` over ``n_samples`` of talker (default: the talker once).

    ``changes(block_index, graph)`` is called before each block (submit settings there to
    replay a live session); ``state`` gets progress and is checked for cancellation.
    """
    n = graph.ctx.voice.n_samples if n_samples is None else int(n_samples)
    lat = {t: graph.tap_latency(t) for t in graph.taps}
    n_blocks = -(-(n + max(lat.values())) // BLOCK)
    kept: dict[str, list[np.ndarray]] = {t: [] for t in graph.taps}
    for i in range(n_blocks):
        if i % PROGRESS_BLOCKS == 0:
            check(state)
            report(state, i / n_blocks, "running the chain")
        if changes is not None:
            changes(i, graph)
        block = graph.step()
        for t in graph.taps:
            kept[t].append(block.taps[t])
    raw = {t: np.concatenate(v) for t, v in kept.items()}
    taps = {t: x[lat[t]:lat[t] + n] for t, x in raw.items()}
    report(state, 1.0, "chain done")
    return OfflineRun(taps=taps, raw=raw, latency=lat, snapshot=graph.snapshot())
