"""The live voice chain in real time (issue #14): 60 s through JACK's dummy backend with the
settings, the talker's position and the listened tap changing every 2 s: no underrun.
`@pytest.mark.audio`; skipped when PortAudio or a JACK server is missing."""

import time
from dataclasses import replace

import numpy as np
import pytest
from conftest import jack_output_or_skip

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
SECONDS = 60.0
EVERY_S = 2.0


def _changes(base: ChainSettings) -> list[ChainSettings]:
    return [replace(base, snr_db=0.0), replace(base, noise=False),
            replace(base, bypass=frozenset({"percepnet"})), replace(base, loss="ge:0.4,12"),
            replace(base, bitrate=12000, lbrr=False), replace(base, dred_ms=200),
            replace(base, percepnet_strength=0.3, jitter_ms=150.0),
            replace(base, dred=False, neural_plc=False),
            replace(base, bypass=frozenset({"network", "playback"})),
            replace(base, bypass=frozenset({"sender"})), base]



def _stream(device):
    """60 s of the live chain with a change every 2 s; (engine stats, snapshot, s played)."""
    from workbench.gui.audio.engine import AudioEngine

    scene = load_scene("default")
    here = scene_responses(scene, "room")
    moved = scene_responses(scene.with_source(0, position_m=(3.5, 2.0, 1.6)), "room",
                            early_only=True)
    voice = Voice(0.3 * speech_like(FS, 12.0, seed=9), pink_noise(FS * 7, seed=10))
    base = ChainSettings(snr_db=5.0, loss="ge:0.2,8")
    graph = ChainGraph(ChainContext(here, voice), base)
    live = LiveChain(graph)
    engine = AudioEngine(live, device=device, ring_ms=LIVE_RING_MS)
    changes, taps = _changes(base), graph.taps
    t0 = time.perf_counter()
    try:
        engine.start()
        live.play()
        for k in range(int(SECONDS / EVERY_S)):
            while time.perf_counter() - t0 < EVERY_S * (k + 1):
                time.sleep(0.05)
                graph.snapshot()  # a GUI polls while it plays
            graph.submit(changes[k % len(changes)])
            live.select(taps[k % len(taps)])
            if k % 5 == 4:  # the talker dragged away and back
                graph.set_responses(moved if k % 10 == 4 else here)
    finally:
        engine.close()
    assert engine.worker_error is None
    stats, snap = engine.stats(), graph.snapshot()
    played_s = stats["frames_played"] / live.fs_hz
    stage = {k: round(v, 4) for k, v in snap.stage_rtf.items()}
    print(f"stats {stats}, {played_s:.1f} s played, chain RTF {snap.real_time_factor:.3f}, "
          f"stage RTF {stage}, counters {snap.counters}")
    return stats, snap, played_s


@pytest.mark.audio
def test_live_chain_streams_60_s_through_jack_without_underruns():
    device = jack_output_or_skip()
    stats, snap, played_s = _stream(device)
    if stats["status_flags"] and stats["short_reads"] == 0:
        # PortAudio flagged a late callback although the ring never ran dry: a descheduled
        # jackd on a loaded box (as in tests/test_audio_engine.py); one more run must be clean.
        print("xrun without a short read: streaming once more")
        stats, snap, played_s = _stream(device)
    assert played_s >= 0.95 * SECONDS
    assert stats["short_reads"] == 0, stats  # the chain never fell behind the audio device
    assert snap.counters["dred"] > 0 and np.isfinite(snap.real_time_factor)
