"""Hostile audio in (issue 12, build item 6): any rate from 8 kHz works wherever audio is read
(enhance returns the input's rate, render resamples), inputs shorter than one 400 ms loudness
block render, absurd rates are refused, and every odd file either works or is one clear
AudioFileError line naming the file and what was expected. Files are made in tmp_path."""

import json
import re

import numpy as np
import pytest
import soundfile as sf

from dsp.audio_io import MIN_FS_HZ, AudioFileError, read_audio
from dsp.percepnet.enhance import enhance
from dsp.percepnet.model import weight_path
from workbench.cli.main import main as awb

needs_weights = pytest.mark.skipif(not weight_path("float16").is_file(), reason="weights not built")


def _speechy(fs: int, seconds: float, channels: int = 1, level: float = 0.3) -> np.ndarray:
    from dsp.signals import speech_like

    s = speech_like(fs, seconds, seed=9)
    s = level * s / np.max(np.abs(s))
    return np.stack([s * (1 - 0.1 * c) for c in range(channels)], 1)


def _one_error(path, **kwargs) -> str:
    with pytest.raises(AudioFileError) as err:
        read_audio(path, **kwargs)
    message = str(err.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    return message


@pytest.mark.parametrize("rate", [1, 100, 4000, MIN_FS_HZ - 1])
def test_rates_below_8_khz_are_refused_naming_the_file_and_the_rate(tmp_path, rate):
    path = tmp_path / f"r{rate}.wav"
    sf.write(path, 0.3 * np.ones((100, 2)), rate)
    assert f"sample rate {rate} Hz; expected at least 8000 Hz" in _one_error(path)


def test_a_1_hz_file_is_refused_by_render_not_stretched(tmp_path, capsys):
    path = tmp_path / "one_hertz.wav"
    sf.write(path, 0.3 * np.random.default_rng(1).standard_normal((100, 2)), 1)
    assert awb(["render", "design-stereo-2", str(path), "--out", str(tmp_path / "o"),
                "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{path}: sample rate 1 Hz" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(("samples", "message"), [
    (np.array([[0.1], [np.nan], [0.2]]), "1 NaN sample (first at 0.000 s)"),
    (np.array([[0.1, np.inf], [-np.inf, 0.2]] * 4000), "8000 infinite samples (first at 0.000 s)"),
    (np.zeros((8000, 2)), "the file is silent (peak below -120 dBFS)"),
    (np.zeros((0, 2)), "the file holds no samples"),
])
def test_damaged_silent_and_empty_files_are_one_line(tmp_path, samples, message):
    path = tmp_path / "bad.wav"
    sf.write(path, samples, 8000, subtype="FLOAT")
    assert message in _one_error(path, channels=None)


@needs_weights
def test_silence_is_allowed_where_asked_and_enhances_to_silence(tmp_path):
    path = tmp_path / "silent.wav"
    sf.write(path, np.zeros((8000, 1)), 16000, subtype="PCM_16")
    x, fs = read_audio(path, channels=None, allow_silent=True)
    res = enhance(x[:, 0], fs)
    assert np.all(res.output == 0.0) and res.limit.limited_samples == 0


@pytest.mark.parametrize(("subtype", "tolerance"), [("PCM_U8", 1 / 128), ("PCM_16", 1 / 32768),
                                                   ("PCM_24", 2 ** -23), ("FLOAT", 1e-7),
                                                   ("DOUBLE", 0.0)])
def test_8_16_24_bit_and_float_samples_read_to_full_scale(tmp_path, subtype, tolerance):
    path = tmp_path / f"{subtype}.wav"
    x = _speechy(11025, 0.5, channels=2, level=0.9)
    sf.write(path, x, 11025, subtype=subtype)
    y, fs = read_audio(path)
    assert fs == 11025 and y.shape == x.shape
    assert np.max(np.abs(y - x)) <= tolerance + 1e-12


def test_many_channels_are_kept_or_refused_with_what_was_expected(tmp_path):
    path = tmp_path / "twelve.wav"
    sf.write(path, _speechy(8000, 0.3, channels=12), 8000, subtype="PCM_16")
    x, fs = read_audio(path, channels=None)
    assert x.shape == (2400, 12) and fs == 8000
    assert "12 channels; expected 2 (stereo)" in _one_error(path)
    mono, _ = read_audio(path, channels=1)
    np.testing.assert_allclose(mono[:, 0], x.mean(axis=1))


@needs_weights
def test_8_khz_six_channels_enhances_every_channel_at_8_khz(tmp_path):
    path = tmp_path / "six8k.wav"
    x = _speechy(8000, 0.6, channels=6) + 0.01 * np.random.default_rng(3).standard_normal(
        (4800, 6))
    sf.write(path, x, 8000, subtype="PCM_24")
    y, fs = read_audio(path, channels=None)
    res = enhance(y, fs)
    assert res.output.shape == (4800, 6) and res.fs_hz == 8000
    assert any("6 channels" in n for n in res.notes)


@needs_weights
@pytest.mark.parametrize("rate", [11025, 22050])
def test_awb_enhance_at_11025_and_22050_hz_writes_the_input_rate(tmp_path, capsys, rate):
    src, dst = tmp_path / f"in{rate}.wav", tmp_path / f"out{rate}.wav"
    x = _speechy(rate, 0.8) + 0.02 * np.random.default_rng(4).standard_normal((int(0.8 * rate), 1))
    sf.write(src, x, rate, subtype="PCM_16")
    assert awb(["enhance", str(src), str(dst)]) == 0, capsys.readouterr().err
    info = sf.info(dst)
    assert (info.samplerate, info.frames, info.channels, info.subtype) == (
        rate, len(x), 1, "PCM_16")
    assert f"at {rate} Hz" in capsys.readouterr().out


@pytest.mark.parametrize("seconds", [0.05, 0.2, 0.399])
def test_render_of_an_input_shorter_than_one_loudness_block(tmp_path, capsys, seconds):
    src = tmp_path / "short.wav"
    sf.write(src, _speechy(44100, seconds, channels=2), 44100, subtype="PCM_16")
    out = tmp_path / "out"
    assert awb(["render", "design-stereo-2", str(src), "--out", str(out), "--quiet",
                "--no-cues"]) == 0, capsys.readouterr().err
    rep = json.loads((out / "report.json").read_text())
    assert rep["input"]["seconds"] == pytest.approx(seconds, abs=1e-3)
    assert rep["loudness"]["input_lufs"] is not None
    for k in "ABX":  # matched by energy over the 400 ms block
        assert rep["loudness"]["paths"][k]["lufs"] == pytest.approx(
            rep["loudness"]["input_lufs"], abs=0.1)
    ears, fs = sf.read(out / "binaural_B.wav")
    assert fs == 48000 and ears.shape[0] > seconds * 48000


def test_render_refuses_a_six_channel_8_khz_file_saying_what_it_expects(tmp_path, capsys):
    src = tmp_path / "six8k.wav"
    sf.write(src, _speechy(8000, 0.5, channels=6), 8000)
    assert awb(["render", "design-stereo-2", str(src), "--out", str(tmp_path / "o"),
                "--quiet"]) == 2
    err = capsys.readouterr().err
    assert re.search(rf"{re.escape(str(src))}: 6 channels; expected 2 \(stereo\)", err)
    assert err.count("\n") == 1
