"""`awb render` and `awb upmix` (issue #4 item 6): files, report, exit status 2 on bad input."""

import json

import numpy as np
import pytest
import soundfile as sf

from dsp.signals import music_like, speech_like
from workbench.cli import main as cli

FS_IN = 44100  # not the scene's 48 kHz: the input is resampled with soxr


@pytest.fixture
def awb():
    return cli.main


@pytest.fixture(scope="module")
def song(tmp_path_factory):
    s = speech_like(FS_IN, 2.0, seed=1)
    x = np.stack([s + music_like(FS_IN, 2.0, seed=2), s + music_like(FS_IN, 2.0, seed=3)], 1)
    path = tmp_path_factory.mktemp("in") / "song.wav"
    sf.write(path, 0.1 * x, FS_IN, subtype="PCM_16")
    return path


def test_render_all_paths_free_field(awb, song, tmp_path, capsys):
    out = tmp_path / "out"
    assert awb(["render", "design-soundbar-8", str(song), "--out", str(out), "--quiet"]) == 0
    assert "wrote" in capsys.readouterr().out
    drivers, fs = sf.read(out / "drivers.wav")
    assert fs == 48000 and drivers.shape[1] == 8
    rep = json.loads((out / "report.json").read_text())
    lat = rep["latency_samples"]
    assert lat["drivers"] == lat["upmix"] + lat["network"] == 2047 + lat["network"]
    assert lat["ears"] == max(lat["arrival"].values())
    assert all(lat["arrival"][k] + lat["alignment"][k] == lat["ears"] for k in "ABX")
    target = rep["loudness"]["input_lufs"]
    for k in "ABX":
        ears, _ = sf.read(out / f"binaural_{k}.wav")
        assert ears.shape[1] == 2
        assert rep["loudness"]["paths"][k]["lufs"] == pytest.approx(target, abs=0.1)
    assert rep["input"]["fs_in_hz"] == FS_IN and rep["input"]["seconds"] == pytest.approx(2.0)
    assert rep["rtf"]["drivers"] > 0 and rep["render"]["block"] == 256
    errors = rep["cues"]["errors"]["left"]["B"]
    assert abs(errors["itd_us"]) < 50 and abs(errors["ild_db"]) < 1.0
    assert rep["cues"]["iacc"]["wide"]["A"] > rep["cues"]["iacc"]["wide"]["B"]
    assert set(rep["peak_dbfs"]) == {"drivers.wav", "binaural_A.wav", "binaural_B.wav",
                                     "binaural_X.wav"}


def test_render_one_path_in_the_living_room(awb, song, tmp_path):
    out = tmp_path / "room"
    assert awb(["render", "default", str(song), "--out", str(out), "--path", "B",
                "--block", "512", "--early-only", "--no-cues", "--quiet"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["binaural_B.wav", "drivers.wav",
                                                      "report.json"]
    rep = json.loads((out / "report.json").read_text())
    assert rep["render"]["engine"] == "room" and rep["render"]["early_only"]
    assert rep["render"]["methods"] == {"LR": "virtualizer", "C": "beam", "space": "freefield"}
    assert sf.info(out / "drivers.wav").channels == 5


def test_render_designed_in_the_room_reports_its_design_space_and_onset_cues(awb, song,
                                                                            tmp_path, capsys):
    out = tmp_path / "room-early"
    assert awb(["render", "default", str(song), "--out", str(out), "--path", "B",
                "--early-only", "--design-space", "room_early", "--quiet"]) == 0
    assert "designed in room_early" in capsys.readouterr().out
    rep = json.loads((out / "report.json").read_text())
    assert rep["render"]["methods"]["space"] == "room_early"
    assert rep["render"]["params"]["design_space"] == "room_early"
    assert rep["render"]["params"]["early_window_ms"] == 20.0
    cues = rep["cues"]
    assert cues["design_space"] == "room_early" and cues["onset"]["window_ms"] == 5.0
    for stim in ("left", "right"):
        assert abs(cues["errors"][stim]["B"]["itd_us"]) < 60  # steady state
        assert abs(cues["onset"]["errors"][stim]["B"]["itd_us"]) < 40  # first wavefront
    assert cues["iacc"]["wide"]["A"] > cues["iacc"]["wide"]["B"]


def test_upmix_files_mix_back_to_the_input(awb, song, tmp_path):
    out = tmp_path / "up"
    assert awb(["upmix", str(song), "--out", str(out)]) == 0
    x, fs = sf.read(song)
    lrc = [sf.read(out / f"{c}.wav")[0] for c in "LRC"]
    assert fs == FS_IN and all(len(s) == len(x) for s in lrc)
    back = np.stack([lrc[0] + lrc[2] / np.sqrt(2), lrc[1] + lrc[2] / np.sqrt(2)], 1)
    err_db = 10 * np.log10(np.sum((back - x) ** 2) / np.sum(x ** 2))
    assert err_db < -60  # float32 files: about −140 dB


@pytest.mark.parametrize("args,message", [
    (["--block", "32"], "--block 32: must be in 64 .. 1024"),
    (["--listener", "3"], "--listener 3"),
    (["--frame", "1000"], "frame = 1000"),
    (["--c-method", "beam"], "needs ≥ 3 drivers"),
    (["--design-space", "room_early"], "is anechoic"),
])
def test_render_bad_options_exit_2_with_one_line(awb, song, tmp_path, capsys, args, message):
    code = awb(["render", "design-stereo-2", str(song), "--out", str(tmp_path / "o"),
                "--quiet", *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1


def test_bad_audio_files_exit_2(awb, tmp_path, capsys):
    nan = tmp_path / "nan.wav"
    x = np.zeros((4800, 2), dtype=np.float32)
    x[100, 0] = np.nan
    sf.write(nan, x, 48000, subtype="FLOAT")
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros((4800, 2)), 48000)
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio at all")
    surround = tmp_path / "six.wav"
    sf.write(surround, np.full((4800, 6), 0.1), 48000)
    for path, message in ((nan, "1 NaN sample (first at 0.002 s)"), (silent, "silent"),
                          (junk, "not a readable audio file"), (surround, "6 channels"),
                          (tmp_path / "missing.wav", "no such file")):
        assert awb(["upmix", str(path), "--out", str(tmp_path / "u")]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
