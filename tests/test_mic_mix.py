"""dsp.mic_mix: source signals and the mixture at a device microphone."""

import numpy as np
import pytest
import soundfile as sf

from dsp.mic_mix import mic_mixture, scene_mic_mix, source_signal


@pytest.mark.parametrize("ref", ["builtin:pink-noise", "builtin:white-noise",
                                 "builtin:speech-shaped-noise", "builtin:speech-like"])
def test_builtin_signals_have_unit_rms(ref):
    x = source_signal(ref, 16000, 1.5)
    assert x.shape == (24000,)
    assert np.sqrt(np.mean(x ** 2)) == pytest.approx(1.0, rel=1e-6)


def test_unknown_builtin_is_an_error():
    with pytest.raises(ValueError, match="unknown builtin"):
        source_signal("builtin:nope", 16000, 1.0)


def test_file_signal_is_looped_to_length(tmp_path):
    path = tmp_path / "a.wav"
    sf.write(path, 0.1 * np.random.default_rng(0).standard_normal((8000, 2)), 16000)
    x = source_signal(str(path), 16000, 1.2)
    assert x.shape == (19200,)
    assert np.allclose(x[:8000], x[8000:16000])


def test_mixture_is_sum_of_images_with_levels_and_delay():
    ir = np.zeros((2, 1, 64))
    ir[0, 0, 10] = 1.0   # talker: 10 samples later, unit gain
    ir[1, 0, 10] = 0.5   # noise: half amplitude
    s = [np.ones(100), np.ones(100)]
    mix, clean, noise = mic_mixture(ir, s, [0.0, -6.0206], ["talker", "noise"], t0_samples=10,
                                    peak_dbfs=0.0)
    assert np.max(np.abs(mix)) == pytest.approx(1.0)
    assert np.allclose(mix, clean + noise)
    # noise is −6 dB by level and −6 dB by the IR: a quarter of the talker at the mic
    assert np.allclose(noise / clean, 0.25, atol=1e-4)
    with pytest.raises(ValueError):
        mic_mixture(ir, s, [0.0, 0.0], ["talker", "noise"], mic=3)


def test_default_scene_mixture_at_a_mic():
    from sim.scene_io import load_scene
    from sim.transfer import simulate

    scene = load_scene("default")
    tr = simulate(scene, "freefield", fs_hz=16000, talkers=True)
    m = scene_mic_mix(scene, tr, mic=2, seconds=2.0)
    assert m.fs_hz == 16000 and m.mixture.shape == (32000,)
    assert np.allclose(m.mixture, m.clean + m.noise)
    assert np.max(np.abs(m.mixture)) == pytest.approx(10 ** (-3 / 20))
    assert 0.0 < m.snr_db < 30.0
    quiet = scene_mic_mix(scene, tr, mic=2, seconds=2.0, noises=[])
    assert np.all(quiet.noise == 0) and quiet.snr_db == float("inf")
