"""Audible change latency of the live voice chain (issue #14: a change is heard within 100 ms).

The audio engine plays the live runner with the chain's ring (:data:`dsp.chain.LIVE_RING_MS`);
its PortAudio callback is called by hand, 512 frames at a time (JACK's dummy backend in
tests/test_chain_realtime.py: ``-p 512``), and the worker fills the ring the moment a block fits
(a prompt worker keeps the ring fullest: the worst case for latency). A change submitted before
each callback of a whole cycle of callback and block phases is heard ``n`` frames later: the
first played frame that differs from the same run without the change. Those frames plus the
device's own two periods (JACK's playback latency) must stay within 100 ms."""

from dataclasses import replace

import numpy as np
import pytest

from dsp.chain import (
    LIVE_RING_MS,
    ChainContext,
    ChainGraph,
    ChainSettings,
    LiveChain,
    Voice,
    scene_responses,
)
from dsp.signals import pink_noise, speech_like
from sim.scene_io import load_scene

FS = 16000
PERIOD = 512  # frames per callback at 48 kHz (jackd -d dummy -p 512)
DEVICE_PERIODS = 2  # JACK's playback latency: two periods
BASE = ChainSettings(snr_db=5.0, loss="none")
CHANGE = replace(BASE, snr_db=-10.0)


@pytest.fixture(scope="module")
def responses():
    return scene_responses(load_scene("default"), "freefield")


def _played(responses, submit_after: int | None, callbacks: int) -> tuple[np.ndarray, int]:
    """Frames the callback played (channel 0) and the frames played when the change went in."""
    from workbench.gui.audio.engine import AudioEngine

    voice = Voice(0.3 * speech_like(FS, 3.0, seed=5), 0.1 * pink_noise(FS * 5, seed=6))
    graph = ChainGraph(ChainContext(responses, voice), BASE)
    live = LiveChain(graph, tap="mic")
    engine = AudioEngine(live, ring_ms=LIVE_RING_MS)
    live.play()
    out = np.zeros((callbacks * PERIOD, 2), np.float32)
    at = -1

    def fill() -> None:
        while engine._ring.space >= live.block:
            engine._produce()

    fill()
    for c in range(callbacks):
        if c == submit_after:
            graph.submit(CHANGE)
            at = c * PERIOD
        engine._callback(out[c * PERIOD:(c + 1) * PERIOD], PERIOD, None, 0)
        fill()
    assert engine.short_reads == 0
    return out[:, 0], at


def test_a_change_is_heard_within_100_ms(responses):
    phases = np.lcm(PERIOD, 960) // PERIOD  # callbacks until callback and block line up again
    callbacks = 20 + phases
    ref, _ = _played(responses, None, callbacks)
    latencies = []
    for submit_after in range(10, 10 + phases):
        got, at = _played(responses, submit_after, callbacks)
        differs = np.flatnonzero(np.abs(got - ref) > 1e-7)
        assert differs.size and differs[0] >= at  # nothing changed before the submit
        latencies.append(int(differs[0]) - at)
    worst = max(latencies) + DEVICE_PERIODS * PERIOD
    print(f"ring {LIVE_RING_MS} ms: change heard after {latencies} frames of the ring, worst "
          f"{worst} frames = {1000 * worst / 48000:.1f} ms with the device's periods")
    assert worst <= 0.100 * 48000
