"""The live voice chain (issue #14): talker + noise in the simulated room -> device microphone ->
PercepNet -> Opus + LBRR + DRED -> lossy network -> receiver -> far end (-> the listener's ears).
No Qt. 16 kHz mono, one 20 ms block (320 samples, one packet) per step.

Stages (registry ``dsp.chain.base.STAGES``, chain order; name: source tap -> tap):

    room      dry      -> mic       talker/noise convolved with their responses (+ tap ``clean``:
                                    the talker through the direct path, the reference)
    percepnet mic      -> enhanced  PercepNet (40 ms), wet/dry ``percepnet_strength``
    sender    enhanced -> coded     Opus + LBRR + DRED packets; ``coded`` = lossless decode
    network   coded    -> lossy     loss model / trace + jitter; ``lossy`` = lost frames muted
    receiver  lossy    -> output    playout buffer + regular/LBRR/DRED/neural PLC/Opus PLC
    playback  output   -> ears      drivers -> first listener's ears (stereo)

Taps (``graph.taps``): ``clean``, ``mic``, ``enhanced``, ``coded``, ``lossy``, ``output``,
``ears``; ``graph.tap_latency(tap)`` = samples it lags the talker at the microphone. Bypassing a
stage (``ChainSettings.bypass``) makes its output its delayed input (network: every packet
arrives; sender: PCM to the far end; receiver: no concealment); crossfaded, 10 ms.

Build::

    from dsp.chain import ChainGraph, ChainSettings, LiveChain, run_offline
    graph = ChainGraph.from_scene(scene, talker16k, noise16k, ChainSettings(snr_db=5),
                                  engine="room")   # ChainInputError: no mic/talker, bad audio
    # or ChainGraph(ChainContext(responses, Voice(talker, noise)), settings)

Steer (any thread; applied at the next block boundary, i.e. within 20 ms of graph time)::

    graph.submit(dataclasses.replace(graph.settings, snr_db=0, loss="ge:0.1,4",
                                     bypass=frozenset({"percepnet"})))  # ChainSettingsError
    graph.set_responses(scene_responses(moved_scene, early_only=True))  # on a worker (while
                                  # the talker is dragged); crossfaded in over 50 ms

``buffer_ms`` and ``seed`` are fixed per graph (build a new graph to change them).

Poll (any thread)::

    snap = graph.snapshot()       # ChainSnapshot: levels_db{tap}, counters{regular,lbrr,dred,plc},
                                  # kbps{opus,dred,total}, dred_reach_ms, latency_ms,
                                  # real_time_factor, stage_rtf{stage}, network{received,
                                  # lost,late}, fates (PacketFate: packet, network "received"/
                                  # "lost"/"late", played source or None; the last 10 s)
    graph.recent("enhanced", 4.0) # last seconds of a tap (spectrogram: dsp.spectrum.
                                  # speech_spectrogram(x, FS_HZ))
    graph.quality(5.0)            # {tap: {"pesq_wb", "stoi"}}: seconds of work, call it on a worker

Live (the audition engine's worker drives the graph; see :mod:`dsp.chain.live`)::

    live = LiveChain(graph, tap="output")
    engine = workbench.gui.audio.engine.AudioEngine(live, device, ring_ms=LIVE_RING_MS)
    engine.start(); live.play(); live.select("mic"); ...; engine.close()

Offline (the same graph, block by block over the whole talker; ``awb chain``)::

    run = run_offline(graph, changes=None, state=task_state)   # OfflineRun: taps aligned
    run.quality()                                              # per-stage PESQ-WB/STOI

Save Run… (what ``awb chain`` writes): ``workbench.jobs.chain.run(ChainRequest(scene, talker_path,
noise_path, settings, out_dir=DIR), state)`` on a worker (``input_errors()``: one-line messages).
"""

from dsp.chain import codec, enhance, network, playback, receive, room  # noqa: F401 (registry)
from dsp.chain.base import STAGES
from dsp.chain.clock import BLOCK, FS_HZ
from dsp.chain.context import ChainContext, ChainInputError, Responses, Voice, scene_responses
from dsp.chain.graph import REFERENCE, SCORED, ChainGraph
from dsp.chain.live import LIVE_RING_MS, LiveChain
from dsp.chain.metrics import COUNTERS, ChainSnapshot, PacketFate
from dsp.chain.offline import OfflineRun, run_offline
from dsp.chain.settings import ChainSettings, ChainSettingsError

__all__ = [
    "BLOCK", "COUNTERS", "FS_HZ", "LIVE_RING_MS", "REFERENCE", "SCORED", "STAGES",
    "ChainContext", "ChainGraph", "ChainInputError", "ChainSettings", "ChainSettingsError",
    "ChainSnapshot", "LiveChain", "OfflineRun", "PacketFate", "Responses", "Voice",
    "run_offline", "scene_responses",
]
