"""Audio files in: any rate (soxr), channels, integer or float samples; clear errors."""

import re

import numpy as np
import pytest
import soundfile as sf

from dsp.audio_io import AudioFileError, audio_info, read_audio, write_audio


def test_mono_24_bit_at_22k_becomes_stereo_48k_with_the_tone_intact(tmp_path):
    fs_in, f = 22050, 1000.0
    t = np.arange(fs_in) / fs_in
    path = tmp_path / "mono24.wav"
    sf.write(path, 0.5 * np.sin(2 * np.pi * f * t), fs_in, subtype="PCM_24")
    x, fs = read_audio(path, fs_hz=48000)
    assert fs == 48000 and x.shape == (48000, 2)
    np.testing.assert_array_equal(x[:, 0], x[:, 1])
    mid = x[4800:-4800, 0]  # away from the resampler's edges
    spec = np.abs(np.fft.rfft(mid * np.hanning(len(mid))))
    assert np.fft.rfftfreq(len(mid), 1 / 48000)[np.argmax(spec)] == pytest.approx(f, abs=2.0)
    rms = np.sqrt(np.mean(mid ** 2))  # 800 whole periods
    assert 20 * np.log10(rms * np.sqrt(2) / 0.5) == pytest.approx(0.0, abs=0.01)


def test_float_files_keep_values_above_full_scale(tmp_path):
    path = tmp_path / "hot.flac"
    x = np.full((1000, 2), 0.25)
    sf.write(path, x, 48000, subtype="PCM_16")
    y, _ = read_audio(path)
    np.testing.assert_allclose(y, x, atol=1 / 32768)
    hot = tmp_path / "hot.wav"
    write_audio(hot, np.full((1000, 2), 1.5), 48000)
    z, _ = read_audio(hot)
    assert z.max() == 1.5  # 32-bit float: nothing clipped
    assert (hot.stat().st_mode & 0o777) != 0o600  # the usual file mode, not mkstemp's


def test_channels_none_keeps_the_layout(tmp_path):
    path = tmp_path / "six.wav"
    sf.write(path, np.full((100, 6), 0.1), 44100)
    x, fs = read_audio(path, channels=None)
    assert x.shape == (100, 6) and fs == 44100
    with pytest.raises(AudioFileError, match="6 channels; expected 2"):
        read_audio(path)


def test_mono_window_and_header(tmp_path):
    path = tmp_path / "st.flac"
    n = 16000
    left, right = np.linspace(-0.5, 0.5, n), np.full(n, 0.25)
    sf.write(path, np.column_stack([left, right]), 16000, subtype="PCM_24")
    info = audio_info(path)
    assert (info.fs_hz, info.channels, info.frames, info.subtype, info.format) == (
        16000, 2, n, "PCM_24", "FLAC")
    x, fs = read_audio(path, channels=1, start_s=0.25, dur_s=0.5)
    assert fs == 16000 and x.shape == (8000, 1)
    np.testing.assert_allclose(x[:, 0], (left + right)[4000:12000] / 2, atol=1e-6)
    y, fs = read_audio(path, fs_hz=8000, channels=1, start_s=0.5)
    assert fs == 8000 and y.shape == (4000, 1)


def test_every_failure_is_one_error_naming_the_file(tmp_path):
    silent, junk, nan = tmp_path / "silent.wav", tmp_path / "junk.wav", tmp_path / "nan.wav"
    sf.write(silent, np.zeros(800), 8000)
    junk.write_bytes(b"RIFF not really")
    sf.write(nan, np.array([0.1, np.nan, 0.2]), 8000, subtype="FLOAT")
    cases = [(tmp_path / "none.wav", "no such file"), (junk, "not a readable audio file"),
             (silent, "the file is silent"), (nan, "1 NaN sample (first at 0.000 s)")]
    for path, message in cases:
        with pytest.raises(AudioFileError, match=re.escape(message)) as err:
            read_audio(path)
        assert str(err.value).startswith(f"{path}: ")
    for path in cases[0][0], junk:
        with pytest.raises(AudioFileError, match=f"^{re.escape(str(path))}: "):
            audio_info(path)
    x, _ = read_audio(silent, channels=None, allow_silent=True)
    assert x.shape == (800, 1) and not x.any()
    with pytest.raises(AudioFileError, match="holds no samples"):
        read_audio(silent, allow_silent=True, start_s=1.0)
