"""The live voice chain (issue #14): one graph offline and live (taps equal), live changes at
block boundaries without steps, `awb chain` outputs and bad input, cancel, and the quality
acceptance on the shared speech and noise."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import SHARED_DATA

from dsp.chain import (
    BLOCK,
    SCORED,
    ChainContext,
    ChainGraph,
    ChainInputError,
    ChainSettings,
    ChainSettingsError,
    LiveChain,
    Voice,
    run_offline,
    scene_responses,
)
from dsp.chain.base import Block, Stage
from dsp.chain.clock import FADE
from dsp.signals import pink_noise, speech_like
from sim.scene_io import load_scene, save_scene
from sim.task import Cancelled, TaskState
from workbench.cli.main import main
from workbench.jobs.chain import ChainRequest, run

FS = 16000
SECONDS = 3.0


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("chain_in")
    talker, noise = d / "talker.wav", d / "noise.wav"
    sf.write(str(talker), 0.3 * speech_like(FS, SECONDS, seed=5), FS, subtype="FLOAT")
    sf.write(str(noise), 0.1 * pink_noise(round(FS * 5.0), seed=6), FS, subtype="FLOAT")
    return talker, noise


@pytest.fixture(scope="module")
def responses():
    return scene_responses(load_scene("default"), "freefield")


def _graph(files, responses, settings, history_s=10.0):
    from workbench.jobs.chain import read_voice

    voice = Voice(read_voice(files[0], "talker"), read_voice(files[1], "noise"))
    return ChainGraph(ChainContext(responses, voice), settings, history_s=history_s)


def _live_taps(live, n_blocks, changes=None):
    """Drive the live runner like the audio engine's worker; the taps from the graph's history."""
    live.play()
    for i in range(n_blocks):
        if changes:
            changes(i, live.graph)
        live.next_block()
    return {t: live.graph.recent(t).astype(np.float64) for t in live.graph.taps}


def test_offline_awb_chain_and_the_live_runner_give_the_same_taps(files, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["chain", "default", "--talker", str(files[0]), "--noise", str(files[1]),
                 "--snr", "5", "--loss", "ge:0.2,4", "--seed", "3", "--out", str(out)]) == 0
    doc = json.loads((out / "report.json").read_text())
    settings = ChainSettings(snr_db=5, loss="ge:0.2,4", seed=3)
    graph = _graph(files, scene_responses(load_scene("default"), "room"), settings)
    n = graph.ctx.voice.n_samples
    n_blocks = -(-(n + graph.tap_latency("output")) // BLOCK)
    live = _live_taps(LiveChain(graph), n_blocks)
    for tap in graph.taps:
        x, _ = sf.read(str(out / f"{tap}.wav"))
        lat = graph.tap_latency(tap)
        np.testing.assert_allclose(live[tap][lat:lat + n], x, atol=1e-6, rtol=0, err_msg=tap)
    assert list(doc["stages"]) == list(SCORED) and SCORED[-1] == "output"
    assert doc["counters"] == graph.snapshot().counters and doc["counters"]["dred"] > 0


def test_changes_replayed_offline_equal_live_changes(files, responses):
    base = ChainSettings(loss="ge:0.2,4", seed=1)
    plan = {10: replace(base, snr_db=0.0), 30: replace(base, bypass=frozenset({"percepnet"})),
            50: replace(base, loss="bernoulli:0.5", bitrate=12000, lbrr=False),
            70: replace(base, dred=False, noise=False, percepnet_strength=0.5)}

    def changes(i, graph):
        if i in plan:
            graph.submit(plan[i])

    off = run_offline(_graph(files, responses, base), n_samples=100 * BLOCK, changes=changes)
    live = _live_taps(LiveChain(_graph(files, responses, base)), len(off.raw["output"]) // BLOCK,
                      changes)
    for tap, x in off.raw.items():
        np.testing.assert_allclose(live[tap], x, atol=1e-6, rtol=0, err_msg=tap)


def test_a_change_takes_effect_within_100_ms(files, responses):
    graph = _graph(files, responses, ChainSettings(snr_db=20.0, loss="none"))
    for _ in range(20):
        graph.step()
    start = graph.index * BLOCK
    tap = [graph.step().taps["noise"]]
    graph.submit(replace(graph.settings, snr_db=-10.0))
    tap = np.concatenate(tap + [graph.step().taps["noise"] for _ in range(3)])
    noise = graph.ctx.voice.noise
    gain = tap / noise[(start + np.arange(tap.size)) % noise.size]
    before, after = gain[:BLOCK], gain[BLOCK:]
    np.testing.assert_allclose(before, before[0])
    assert 20 * np.log10(after[-1] / before[0]) == pytest.approx(30.0, abs=0.01)  # 30 dB up
    np.testing.assert_allclose(after[FADE:], after[-1])  # 10 ms after the block boundary
    assert np.all(np.diff(after[:FADE]) > 0)  # a ramp, no step


def test_a_tap_switch_crossfades_without_a_click(files, responses):
    settings = ChainSettings(loss="none")

    def play(taps):
        live = LiveChain(_graph(files, responses, settings, history_s=1.0), tap=taps[0])
        live.play()
        out = []
        for i in range(40):
            if i == 25 and len(taps) > 1:
                live.select(taps[1])
            out.append(live.next_block())
        return np.concatenate(out)[:, 0]

    switched, mic, ears = play(("mic", "ears")), play(("mic",)), play(("ears",))
    region = slice(25 * 960 - 960, 27 * 960)
    own = max(np.max(np.abs(np.diff(x[region]))) for x in (mic, ears))
    gap = np.max(np.abs(mic[region] - ears[region]))
    fade = FADE * 3  # the 10 ms crossfade at 48 kHz
    assert np.max(np.abs(np.diff(switched[region]))) <= own + 2 * gap / fade
    np.testing.assert_allclose(switched[27 * 960:], ears[27 * 960:], atol=1e-12)


class _Const(Stage):
    name, source, tap = "const", "x", "y"

    def process(self, block):
        return np.full(BLOCK, 0.5)


def test_bypass_crossfades_without_steps():
    stage = _Const(None, 0)
    out = []
    for i in range(12):
        stage.bypassed = i in (3, 4, 8)
        block = Block(i, {"x": np.full(BLOCK, -0.5)})
        stage.run(block)
        out.append(block.taps["y"])
    y = np.concatenate(out)
    assert np.max(np.abs(np.diff(y))) <= 1.0 / FADE + 1e-12  # |y - x| = 1 over a 10 ms fade
    assert y.min() == pytest.approx(-0.5) and y[-1] == 0.5


def test_settings_refused_with_the_field_named(files, responses):
    with pytest.raises(ChainSettingsError, match="loss"):
        ChainSettings(loss="ge:2,8").validate()
    graph = _graph(files, responses, ChainSettings())
    with pytest.raises(ChainSettingsError, match="bypass"):
        graph.submit(replace(graph.settings, bypass=frozenset({"nope"})))
    with pytest.raises(ChainSettingsError, match="fixed"):
        graph.submit(replace(graph.settings, buffer_ms=400))


# -- awb chain ------------------------------------------------------------------------------


def _cli(files, out, *extra, scene="default", talker=None):
    return main(["chain", str(scene), "--talker", str(talker or files[0]), "--noise",
                 str(files[1]), "--snr", "5", *extra, "--out", str(out)])


def test_awb_chain_writes_every_tap_and_the_report(files, tmp_path, capsys):
    out = tmp_path / "run"
    assert _cli(files, out, "--loss", "ge:0.2,8", "--dred-ms", "400", "--seed", "2") == 0
    doc = json.loads((out / "report.json").read_text())
    assert list(doc["stages"])[-1] == "output"
    assert set(doc["counters"]) == {"regular", "lbrr", "dred", "plc"}
    assert set(doc["kbps"]) == {"opus", "dred", "total"} and doc["latency_ms"] > 0
    assert doc["real_time_factor"] > 0 and doc["settings"]["dred_ms"] == 400
    for tap in ("clean", "mic", "enhanced", "coded", "lossy", "output", "ears"):
        x, fs = sf.read(str(out / f"{tap}.wav"))
        assert fs == FS and x.shape[0] == round(SECONDS * FS)
    assert "output: PESQ-WB" in capsys.readouterr().out


def test_written_taps_are_level_safe_and_the_report_says_what_the_limiter_did(tmp_path):
    from workbench.jobs.chain import _write

    t = np.arange(FS) / FS
    loud, quiet = 2.0 * np.sin(2 * np.pi * 300 * t), 0.1 * np.sin(2 * np.pi * 300 * t)
    req = ChainRequest(scene=load_scene("default"), talker=tmp_path / "t.wav",
                       noise=tmp_path / "n.wav", settings=ChainSettings(),
                       out_dir=tmp_path / "out")
    doc = {}
    _write(req, {"mic": loud, "clean": quiet, "lossy": np.zeros(FS)}, doc)
    mic, _ = sf.read(str(tmp_path / "out" / "mic.wav"))
    clean, _ = sf.read(str(tmp_path / "out" / "clean.wav"))
    assert np.max(np.abs(mic)) <= 10 ** (-1 / 20) + 1e-9
    assert np.array_equal(clean, quiet.astype(np.float32))  # under the ceiling: untouched
    lv = json.loads((tmp_path / "out" / "report.json").read_text())["levels"]
    assert lv["mic"]["peak_before_dbfs"] == pytest.approx(6.02, abs=0.01)
    assert lv["mic"]["limited_db"] > 6.0 and lv["clean"]["limited_db"] == 0.0
    assert lv["lossy"]["peak_dbfs"] is None  # silence


def test_awb_chain_options_reach_the_chain(files, tmp_path):
    out = tmp_path / "run"
    assert _cli(files, out, "--loss", "ge:0.2,8", "--dred-kbps", "8", "--no-neural-plc",
                "--percepnet-strength", "0.5", "--bypass", "network", "--engine",
                "freefield") == 0
    doc = json.loads((out / "report.json").read_text())
    s = doc["settings"]
    assert (s["dred_kbps"], s["neural_plc"], s["percepnet_strength"], s["bypass"]) == (
        8.0, False, 0.5, ["network"])
    assert doc["engine"] == "freefield"
    assert doc["counters"]["regular"] == sum(doc["counters"].values())  # no loss: bypassed


@pytest.mark.parametrize("extra", [("--bypass", "bogus"), ("--percepnet-strength", "3"),
                                   ("--dred-kbps", "-1")])
def test_bad_chain_options_are_one_line_exit_2(files, tmp_path, capsys, extra):
    out = tmp_path / "out"
    assert _cli(files, out, "--loss", "none", *extra) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and extra[1] in err[0], err
    assert not out.exists()


def _scene_without(tmp_path, what):
    scene = load_scene("default")
    if what == "microphone":
        scene = scene.with_device(microphones=())
    else:
        scene = replace(scene, sources=tuple(s for s in scene.sources if s.kind != "talker"))
    path = tmp_path / f"no-{what}.json"
    save_scene(scene, path)
    return path


BAD = {
    "silent": lambda d: sf.write(str(d / "t.wav"), np.zeros(FS), FS),
    "nan": lambda d: sf.write(str(d / "t.wav"), np.full(FS, np.nan), FS, subtype="FLOAT"),
    "6ch-8k-24bit": lambda d: sf.write(str(d / "t.wav"), 0.1 * np.ones((8000, 6)), 8000,
                                       subtype="PCM_24"),
}


@pytest.mark.parametrize("case", [*BAD, "missing", "trace", "no-microphone", "no-talker"])
def test_bad_input_is_one_line_exit_2_and_nothing_written(case, files, tmp_path, capsys):
    talker, scene, loss = files[0], "default", ["--loss", "ge:0.2,8"]
    if case in BAD:
        BAD[case](tmp_path)
        talker = tmp_path / "t.wav"
    elif case == "missing":
        talker = tmp_path / "absent.wav"
    elif case == "trace":
        (tmp_path / "trace.txt").write_text("0\n1\n2\n")
        loss = ["--loss-trace", str(tmp_path / "trace.txt")]
    else:
        scene = _scene_without(tmp_path, case.split("-")[1])
    out = tmp_path / "out"
    assert _cli(files, out, *loss, scene=scene, talker=talker) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("awb: "), err
    assert not out.exists()


def test_cancel_stops_the_job_and_writes_nothing(files, tmp_path):
    state = TaskState(lambda f, m: state.cancel() if f > 0.3 else None)
    out = tmp_path / "out"
    with pytest.raises(Cancelled):
        run(ChainRequest(load_scene("default"), files[0], files[1], ChainSettings(),
                         out_dir=out, engine="freefield"), state)
    assert not out.exists()


def test_a_scene_without_a_talker_is_refused():
    scene = load_scene("default")
    scene = replace(scene, sources=tuple(s for s in scene.sources if s.kind != "talker"))
    with pytest.raises(ChainInputError, match="no talker"):
        scene_responses(scene, "freefield")


# -- acceptance on shared data --------------------------------------------------------------


def _shared_speech(tmp_path) -> tuple[Path, Path]:
    speech = sorted((SHARED_DATA / "speech" / "cmu_arctic").glob("*.wav"))[:4]
    noise = SHARED_DATA / "noise" / "blanket_coffee-shop.flac"
    if len(speech) < 4 or not noise.is_file():
        pytest.skip(f"shared speech/noise not available under {SHARED_DATA}")
    from dsp.audio_io import read_audio

    x = np.concatenate([read_audio(f, fs_hz=FS, channels=1)[0][:, 0] for f in speech])
    talker = tmp_path / "talker.wav"
    sf.write(str(talker), x, FS, subtype="FLOAT")
    return talker, noise


def test_full_chain_beats_the_chain_without_percepnet_and_dred(tmp_path):
    talker, noise = _shared_speech(tmp_path)
    scene = load_scene("default")
    common = dict(snr_db=5.0, loss="ge:0.2,8", seed=0)
    full = run(ChainRequest(scene, talker, noise, ChainSettings(**common)))
    bare = run(ChainRequest(scene, talker, noise, ChainSettings(
        **common, dred=False, bypass=frozenset({"percepnet"}))))
    f, b = full.report["stages"], bare.report["stages"]
    print({"full": f, "bare": b})
    assert f["output"]["pesq_wb"] > b["output"]["pesq_wb"]
    assert f["output"]["stoi"] > b["output"]["stoi"]
    assert f["enhanced"]["stoi"] > f["mic"]["stoi"]  # noisy -> enhanced -> decoded
