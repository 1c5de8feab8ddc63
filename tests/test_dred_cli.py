"""`awb dred simulate` / `awb dred eval`: end to end on a short held-out clip, and bad input."""

import json

import numpy as np
import pytest
import soundfile as sf
import soxr
from conftest import REPO
from test_dred_chain import MODELS, IdentityVae, heldout_speech, synthetic_speech

from workbench.cli.main import main

ASSETS = [REPO / "assets" / "dred" / n for n in ("rdovae.npz", "vocoder.npz", "plc.npz")]


@pytest.fixture
def test_models(monkeypatch):
    """Route the CLI's model loading to the small test implementations."""
    import dsp.dred.chain
    import dsp.dred.evaluate

    for module in (dsp.dred.chain, dsp.dred.evaluate):
        monkeypatch.setattr(module, "load_models", lambda: (IdentityVae(), MODELS["codec"]))
    import dsp.dred.receiver

    for module in (dsp.dred.receiver, dsp.dred.evaluate):
        monkeypatch.setattr(module, "load_vocoder", lambda: MODELS["vocoder"])
        monkeypatch.setattr(module, "load_predictor", lambda: MODELS["predictor"])


def write_clip(path, x16, fs):
    y = x16 if fs == 16000 else soxr.resample(x16, 16000, fs)
    sf.write(str(path), y, fs, subtype="PCM_16")


def test_simulate_writes_audio_report_and_bitrate(tmp_path, capsys, test_models):
    clean, out, rep = tmp_path / "clean.wav", tmp_path / "out.wav", tmp_path / "r.json"
    write_clip(clean, synthetic_speech(2.0), 22050)
    code = main(["dred", "simulate", str(clean), "--out", str(out), "--loss", "ge:0.2,3",
                 "--lbrr", "--dred-ms", "200", "--seed", "4", "--report", str(rep)])
    assert code == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("bitrate_kbps=") and "\n" not in line
    y, fs = sf.read(str(out))
    assert fs == 22050 and y.shape == (sf.info(str(clean)).frames,)
    r = json.loads(rep.read_text())
    assert float(line.split("=")[1]) == pytest.approx(r["kbps"]["total"], abs=0.01)
    assert set(r["kbps"]) == {"opus", "dred", "container", "total"}
    assert set(r["counters"]) == {"regular", "lbrr", "dred", "plc", "opus_plc"}
    assert sum(r["counters"].values()) == r["n_packets"]
    assert r["settings"]["lbrr"] is True and r["settings"]["loss_perc"] == 20
    assert r["mean_dred_reach_ms"] == pytest.approx(200, abs=15)
    assert r["rtf_encode"] > 0 and r["rtf_decode"] > 0 and r["seed"] == 4


def test_simulate_with_a_loss_trace(tmp_path, capsys, test_models):
    clean, out, trace = tmp_path / "c.wav", tmp_path / "o.wav", tmp_path / "t.txt"
    write_clip(clean, synthetic_speech(1.0), 16000)
    trace.write_text("0\n1\n1\n0\n" * 20)
    rep = tmp_path / "r.json"
    assert main(["dred", "simulate", str(clean), "--out", str(out), "--loss-trace", str(trace),
                 "--report", str(rep)]) == 0
    r = json.loads(rep.read_text())
    assert r["settings"]["loss_perc"] == 50 and r["settings"]["lbrr"] is False
    assert r["loss_stats"]["rate"] == pytest.approx(0.5, abs=0.05)


def test_simulate_with_the_panels_options(tmp_path, capsys):
    """--no-dred, --no-neural-plc, --expected-loss and --seconds: what the DRED panel sets."""
    clean, out, rep = tmp_path / "c.wav", tmp_path / "o.wav", tmp_path / "r.json"
    write_clip(clean, synthetic_speech(1.5), 16000)
    assert main(["dred", "simulate", str(clean), "--out", str(out), "--loss", "ge:0.3,3",
                 "--no-dred", "--no-neural-plc", "--expected-loss", "7", "--seconds", "0.5",
                 "--report", str(rep), "--quiet"]) == 0
    r = json.loads(rep.read_text())
    assert not r["settings"]["dred"] and not r["settings"]["neural_plc"]
    assert r["settings"]["loss_perc"] == 7 and r["kbps"]["dred"] == 0
    assert r["counters"]["dred"] == r["counters"]["plc"] == 0
    assert r["duration_s"] == pytest.approx(0.5, abs=0.01)
    assert sf.info(str(out)).frames == 8000
    capsys.readouterr()
    assert main(["dred", "simulate", str(clean), "--out", str(out), "--loss", "none",
                 "--seconds", "0"]) == 2
    assert "--seconds" in capsys.readouterr().err


@pytest.mark.parametrize("extra,match", [
    (["--loss", "ge:2,3"], "--loss"),
    (["--loss", "nonsense"], "--loss"),
    (["--loss", "ge:0.1,3", "--dred-ms", "5000"], "dred_ms"),
    (["--loss", "ge:0.1,3", "--dred-kbps", "-1"], "dred_kbps"),
    (["--loss", "ge:0.1,3", "--bitrate", "100"], "bitrate"),
    (["--loss", "ge:0.1,3", "--expected-loss", "120"], "loss_perc"),
    (["--loss", "ge:0.1,3", "--loss-trace", "x.txt"], "not allowed"),
    ([], "required"),
])
def test_simulate_bad_options_exit_2(tmp_path, capsys, extra, match):
    clean = tmp_path / "c.wav"
    write_clip(clean, synthetic_speech(0.5), 16000)
    code = main(["dred", "simulate", str(clean), "--out", str(tmp_path / "o.wav"), *extra])
    err = capsys.readouterr().err.strip()
    assert code == 2 and match in err and len(err.splitlines()) == 1


def test_simulate_bad_files_exit_2(tmp_path, capsys):
    bad_trace = tmp_path / "t.txt"
    bad_trace.write_text("0\n2\n")
    garbage = tmp_path / "g.wav"
    garbage.write_bytes(b"RIFF not really")
    silent = tmp_path / "s.wav"
    sf.write(str(silent), np.zeros(8000), 16000)
    clean = tmp_path / "c.wav"
    write_clip(clean, synthetic_speech(0.5), 16000)
    cases = [
        ([str(tmp_path / "missing.wav"), "--loss", "none"], "no such file"),
        ([str(garbage), "--loss", "none"], "not a readable audio file"),
        ([str(silent), "--loss", "none"], "silence"),
        ([str(clean), "--loss-trace", str(bad_trace)], "line 2"),
    ]
    for args, match in cases:
        code = main(["dred", "simulate", *args, "--out", str(tmp_path / "o.wav")])
        err = capsys.readouterr().err.strip()
        assert code == 2 and match in err and len(err.splitlines()) == 1, (args, err)
    code = main(["dred", "simulate", str(clean), "--loss", "none", "--out",
                 str(tmp_path / "nowhere" / "o.wav")])
    assert code == 2 and "does not exist" in capsys.readouterr().err


def test_eval_bad_input_exit_2(tmp_path, capsys):
    assert main(["dred", "eval", "--speech", str(tmp_path / "none")]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert main(["dred", "eval", "--speech", str(tmp_path)]) == 2
    assert "no audio files" in capsys.readouterr().err
    assert main(["dred", "eval", "--speech", str(tmp_path), "--max-files", "0"]) == 2


def test_eval_prints_every_condition(tmp_path, capsys, test_models):
    d = tmp_path / "speech"
    d.mkdir()
    write_clip(d / "a.wav", synthetic_speech(1.5, seed=1), 16000)
    rep = tmp_path / "r.json"
    assert main(["dred", "eval", "--speech", str(d), "--loss", "ge:0.3,3", "--quiet",
                 "--report", str(rep)]) == 0
    out = capsys.readouterr().out
    for name in ("no_loss", "opus_plc", "opus_lbrr", "neural_plc", "dred"):
        assert name in out
    r = json.loads(rep.read_text())
    c = r["conditions"]
    assert c["no_loss"]["pesq_wb"] > c["opus_plc"]["pesq_wb"]
    assert c["dred"]["kbps_dred"] > 0 == c["opus_lbrr"]["kbps_dred"]
    assert c["neural_plc"]["counters"]["plc"] > 0 and c["opus_plc"]["counters"]["opus_plc"] > 0


@pytest.mark.skipif(not all(p.is_file() for p in ASSETS), reason="trained DRED weights missing")
def test_simulate_end_to_end_with_trained_models(tmp_path, capsys):
    """The real chain on 3.5 s of held-out speech: LBRR + DRED beat neural PLC alone under
    bursty loss (PESQ-WB)."""
    from dsp.percepnet.metrics import pesq_wb

    x = heldout_speech()
    clean = tmp_path / "clean.wav"
    write_clip(clean, x, 16000)
    scores = {}
    for name, flags in (("dred", ["--lbrr"]), ("neural_plc", ["--dred-ms", "0"])):
        out = tmp_path / f"{name}.wav"
        assert main(["dred", "simulate", str(clean), "--out", str(out), "--loss", "ge:0.2,5",
                     "--seed", "1", *flags]) == 0
        capsys.readouterr()
        y, _ = sf.read(str(out))
        scores[name] = pesq_wb(sf.read(str(clean))[0], y)
    assert scores["dred"] > scores["neural_plc"] + 0.1, scores


def test_eval_normalizes_to_active_level():
    from dsp.dred.evaluate import active_level_dbov, normalize

    t = np.arange(16000) / 16000
    tone = 0.3 * np.sin(2 * np.pi * 400 * t)  # whole periods in every 10 ms frame
    assert active_level_dbov(tone) == pytest.approx(20 * np.log10(0.3 / np.sqrt(2)), abs=0.01)
    # half the file silent: the active level ignores the quiet half
    gated = np.concatenate([tone, np.zeros_like(tone)])
    assert active_level_dbov(gated) == pytest.approx(active_level_dbov(tone), abs=0.01)
    assert active_level_dbov(normalize(gated)) == pytest.approx(-26.0, abs=0.01)
