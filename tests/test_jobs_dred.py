"""The DRED jobs without Qt: the comparison with the Opus LBRR + PLC baseline (one loss mask),
refused loss specs and settings, the expected loss, the lost-packet spans, a file through the
chain.

Runs without DRED and the neural PLC need no trained weights; the DRED run skips without
assets/dred/*.npz."""

import numpy as np
import pytest
import soundfile as sf
from conftest import REPO

from dsp.dred.loss import parse_loss
from dsp.dred.receiver import SOURCES
from dsp.dred.sender import DredSettings
from dsp.signals import speech_like
from sim.scene_io import load_scene
from workbench.jobs.dred import (
    FILLED,
    DredInputError,
    DredRequest,
    TransmitRequest,
    chain_settings,
    check_loss,
    lost_spans,
    run,
    transmit,
)

OPUS_ONLY = DredSettings(bitrate=16000, lbrr=True, dred=False, neural_plc=False, loss_perc=30)
TRAINED = all((REPO / "assets" / "dred" / f).is_file()
              for f in ("rdovae.npz", "vocoder.npz", "plc.npz"))


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    """3 s of speech-like stereo at 48 kHz (the chain takes a 16 kHz mono mix)."""
    fs = 48000
    s = 0.2 * speech_like(fs, 3.0, seed=4)
    path = tmp_path_factory.mktemp("dred") / "speech.wav"
    sf.write(path, np.stack([s, 0.9 * s], 1), fs, subtype="PCM_24")
    return path


def test_loss_specs_are_checked_before_anything_runs(tmp_path):
    for spec, expect in (("ge:0.2", "'ge:RATE,MEAN_BURST'"), ("bernoulli:1.5", "[0, 1]"),
                         ("burst", "'bernoulli:RATE'"),
                         (f"trace:{tmp_path / 'missing.txt'}", "missing.txt")):
        with pytest.raises(DredInputError, match=r"^Loss model:") as e:
            check_loss(spec)
        assert expect in str(e.value) and "\n" not in str(e.value)
    bad = tmp_path / "trace.txt"
    bad.write_text("0\n1\nx\n")
    with pytest.raises(DredInputError, match="line 3"):
        check_loss(f"trace:{bad}")


def test_the_expected_loss_is_given_or_the_loss_models(tmp_path):
    trace = tmp_path / "t.txt"
    trace.write_text("0\n1\n1\n0\n" * 20)
    assert chain_settings(DredSettings(), check_loss("ge:0.3,4")).loss_perc == 30
    assert chain_settings(DredSettings(), check_loss(f"trace:{trace}")).loss_perc == 50
    assert chain_settings(DredSettings(), check_loss("none"), 12).loss_perc == 12
    with pytest.raises(DredInputError, match=r"^Setting dred_ms"):
        chain_settings(DredSettings(dred_ms=5000), check_loss("none"))


def test_lost_spans_are_whole_packets_where_their_audio_is():
    lost = np.array([0, 1, 1, 0, 1, 0], bool)
    sources = np.array([SOURCES.index(n) for n in
                        ("regular", "lbrr", "lbrr", "regular", "opus_plc", "regular")])
    spans = lost_spans(lost, sources, lookahead=104)
    assert set(spans) == set(FILLED)
    starts, widths = spans["lbrr"]
    np.testing.assert_allclose(starts, [(320 - 104) / 16000])
    np.testing.assert_allclose(widths, [0.04])
    assert spans["opus_plc"][0].size == 1 and spans["dred"][0].size == 0


def test_opus_only_settings_are_their_own_baseline(speech):
    o = run(DredRequest("file", path=str(speech), settings=OPUS_ONLY, loss="ge:0.3,4", seed=3))
    assert o.baseline is o.run and o.run.settings == OPUS_ONLY
    assert o.run.clean16.shape == (48000,) and o.label == "speech.wav"
    assert o.metrics["run"] is o.metrics["baseline"] and 1.0 <= o.metrics["run"]["pesq_wb"] <= 4.7
    assert any("are the baseline" in n for n in o.notes)
    assert o.clips.names == ("Clean", "Opus LBRR+PLC")
    lost = int(np.count_nonzero(o.run.lost))
    assert sum(round(float(w.sum()) / 0.02) for _, w in o.spans.values()) == lost > 10


def test_seconds_cut_the_file(speech):
    o = run(DredRequest("file", path=str(speech), seconds=1.0, settings=OPUS_ONLY, loss="none"))
    assert o.run.clean16.shape == (16000,)


def test_scene_talker_at_a_microphone():
    scene = load_scene("default")
    o = run(DredRequest("scene", scene=scene, mic=1, talker=0, seconds=2.0, settings=OPUS_ONLY,
                        loss="bernoulli:0.2"))
    assert o.run.clean16.shape == (32000,)
    assert o.label == "talker at mic2, freefield"
    assert o.metrics["run"] is not None


@pytest.mark.skipif(not TRAINED, reason="DRED weights not trained yet (assets/dred/*.npz)")
def test_dred_against_the_opus_baseline_under_one_loss_mask(speech):
    settings = chain_settings(DredSettings(dred_ms=400), check_loss("ge:0.3,6"))
    o = run(DredRequest("file", path=str(speech), settings=settings, loss="ge:0.3,6", seed=1))
    run_, base = o.run, o.baseline
    assert run_.settings.dred and run_.settings.neural_plc and run_.settings.dred_ms == 400
    assert not base.settings.dred and not base.settings.neural_plc
    np.testing.assert_array_equal(run_.lost, base.lost)  # one loss mask for both
    assert run_.counters["dred"] > 0 and run_.counters["opus_plc"] == 0
    assert base.counters["dred"] == base.counters["plc"] == 0
    assert run_.kbps["dred"] > 0 and base.kbps["dred"] == 0 and run_.mean_dred_reach_ms > 0
    assert o.run_label == "DRED" and o.clips.names == ("Clean", "Opus LBRR+PLC", "DRED")
    assert o.metrics["run"]["pesq_wb"] > o.metrics["baseline"]["pesq_wb"]


def test_transmit_writes_the_received_audio_at_the_input_rate(speech, tmp_path):
    out, rep = tmp_path / "out.wav", tmp_path / "r.json"
    o = transmit(TransmitRequest(speech, out, OPUS_ONLY, "ge:0.3,4", seed=2, report_path=rep))
    info = sf.info(str(out))
    assert (info.samplerate, info.channels, info.frames) == (48000, 1, 3 * 48000)
    assert info.subtype == "PCM_16"
    assert o.report["seed"] == 2 and o.report["input_rate_hz"] == 48000
    assert o.report["kbps"]["total"] == pytest.approx(o.run.kbps["total"], abs=1e-3)
    assert parse_loss("ge:0.3,4").describe() == o.report["loss"]
    assert rep.read_text().startswith("{")
