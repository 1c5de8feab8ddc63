"""Audio files in: any rate (soxr), channels, integer or float samples; clear errors."""

import numpy as np
import pytest
import soundfile as sf

from dsp.audio_io import AudioFileError, read_audio, write_audio


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
