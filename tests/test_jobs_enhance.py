"""The enhancement job without Qt: file and scene sources, every processing option, the clean
reference, writing the output, progress and cancel."""

import numpy as np
import pytest
import soundfile as sf
from conftest import cancel_latencies

from dsp.audio_io import AudioFileError
from dsp.percepnet.audio_io import mix_at_snr
from dsp.percepnet.model import weight_path
from dsp.signals import pink_noise, speech_like
from sim.scene_io import load_scene
from sim.task import TaskState
from workbench.jobs.enhance import EnhanceRequest, run

FS = 16000
pytestmark = pytest.mark.skipif(not weight_path("float16").is_file(), reason="weights not built")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("enhance")
    clean = 0.1 * speech_like(FS, 3.0, seed=3)
    noisy = mix_at_snr(clean, pink_noise(len(clean), seed=5), 5.0)
    sf.write(d / "clean.wav", clean, FS, subtype="FLOAT")
    sf.write(d / "noisy.wav", noisy, FS, subtype="PCM_24")
    sf.write(d / "clean8k.wav", clean[::2], FS // 2, subtype="FLOAT")
    return d


def _file(files, **kw):
    kw.setdefault("clean_path", str(files / "clean.wav"))
    return EnhanceRequest("file", noisy_path=str(files / "noisy.wav"), **kw)


def test_file_with_a_clean_reference_is_scored_and_clipped(files):
    o = run(_file(files))
    assert o.fs_hz == FS and o.noisy.shape == o.result.output.shape == (3 * FS,)
    assert not o.oracle and o.label == "noisy.wav"
    assert o.metrics_enhanced["pesq_wb"] > o.metrics_noisy["pesq_wb"]
    assert set(o.metrics_noisy) == {"pesq_wb", "stoi", "si_sdr"}
    assert o.clips.names == ("Noisy", "Enhanced", "Clean")
    np.testing.assert_array_equal(o.clips.signals[1, :, 0], o.result.output)


def test_every_processing_option_changes_the_output(files):
    base = run(_file(files, listen=False)).result.output
    for change in (dict(use_comb=False), dict(use_postfilter=False), dict(oracle=True),
                   dict(int8=True), dict(postfilter_strength=1.0), dict(postfilter_gate=True)):
        o = run(_file(files, listen=False, **change))
        assert not np.array_equal(o.result.output, base), change
        assert o.clips is None
    o = run(_file(files, listen=False, oracle=True))
    assert o.oracle and o.metrics_enhanced["pesq_wb"] > o.metrics_noisy["pesq_wb"]


def test_without_a_clean_reference_there_is_no_oracle_and_no_score(files):
    o = run(EnhanceRequest("file", noisy_path=str(files / "noisy.wav"), oracle=True))
    assert not o.oracle and o.clean is None and o.metrics_noisy is None
    assert o.clips.names == ("Noisy", "Enhanced")


def test_the_output_is_written_in_the_input_format(files, tmp_path):
    out = tmp_path / "out.wav"
    o = run(_file(files, out_path=str(out), listen=False))
    info = sf.info(str(out))
    assert (info.samplerate, info.subtype) == (FS, "PCM_24")
    y, _ = sf.read(str(out))
    np.testing.assert_allclose(y, o.result.output, atol=2 ** -22)


def test_bad_inputs_name_the_file(files, tmp_path):
    junk = tmp_path / "junk.wav"
    junk.write_text("not audio")
    for path, text in ((tmp_path / "missing.wav", "no such file"),
                       (junk, "not a readable audio file")):
        with pytest.raises(AudioFileError, match=text) as e:
            run(EnhanceRequest("file", noisy_path=str(path)))
        assert str(path) in str(e.value)
    with pytest.raises(AudioFileError, match="8000 Hz, the input 16000 Hz"):
        run(_file(files, clean_path=str(files / "clean8k.wav")))


def test_a_short_clean_reference_is_padded_with_a_note(files, tmp_path):
    x, _ = sf.read(str(files / "clean.wav"))
    sf.write(tmp_path / "short.wav", x[: 2 * FS], FS, subtype="FLOAT")
    o = run(_file(files, clean_path=str(tmp_path / "short.wav"), listen=False))
    assert o.clean.shape == (3 * FS,) and np.all(o.clean[2 * FS:] == 0)
    assert any("cut/padded" in n for n in o.notes)


def test_scene_source_mixes_the_talker_and_noise_at_a_microphone():
    scene = load_scene("default")
    seen = []
    o = run(EnhanceRequest("scene", scene=scene, mic=1, talker=0, noises=(1,), seconds=2.0,
                           listen=False), TaskState(lambda f, m: seen.append((f, m))))
    assert o.fs_hz == 16000 and o.noisy.shape == (32000,)
    assert o.clean is not None and np.std(o.noisy - o.clean) > 0  # the noise was mixed in
    assert "mic2" in o.label and "freefield" in o.label
    assert o.metrics_enhanced is not None
    # progress moves through the enhancement block by block, not in one jump
    enhancing = [f for f, m in seen if m.startswith("Enhancing")]
    assert len(enhancing) > 10 and np.all(np.diff([f for f, _ in seen]) >= 0)


def test_a_cancel_is_noticed_within_100_ms(files):
    x = mix_at_snr(0.1 * speech_like(48000, 30.0, seed=1), pink_noise(30 * 48000, seed=2), 0.0)
    long = files / "long.wav"
    sf.write(long, np.stack([x, x], 1), 48000, subtype="FLOAT")
    req = EnhanceRequest("file", noisy_path=str(long), listen=False)
    latencies = cancel_latencies(lambda state: run(req, state), (0.1, 0.3, 0.5, 0.7))
    assert max(latencies) < 0.1, latencies
