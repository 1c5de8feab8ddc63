"""The render jobs without Qt: the programme, the audition player and overviews, the level
overview, the offline render and the upmix to files."""

import json
from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf

from dsp.audio_io import AudioFileError
from dsp.programme_view import lrc_levels
from dsp.renderer import RenderError
from dsp.signals import music_like
from dsp.upmix import UpmixParams
from sim.scene_io import load_scene
from sim.task import TaskState
from workbench.jobs import render
from workbench.jobs.render import (
    AuditionRequest,
    AuditionSettings,
    LevelsRequest,
    RenderRequest,
    UpmixRequest,
    format_time,
    read_programme,
)

FS_IN = 44100


@pytest.fixture(scope="module")
def mono(tmp_path_factory):
    path = tmp_path_factory.mktemp("render") / "mono.wav"
    sf.write(path, 0.1 * music_like(FS_IN, 1.0, seed=2), FS_IN, subtype="PCM_16")
    return path


@pytest.fixture(scope="module")
def scene():
    return load_scene("design-stereo-2")  # anechoic, 2 drivers: paths build in ~0.1 s


def test_a_programme_is_stereo_at_the_scenes_rate(mono, tmp_path):
    p = read_programme(mono, 48000)
    assert p.x.shape == (48000, 2) and np.array_equal(p.x[:, 0], p.x[:, 1])
    assert (p.fs_hz, p.fs_in_hz, p.channels_in, p.subtype) == (48000, FS_IN, 1, "PCM_16")
    assert p.describe() == "mono.wav — 0:01.0, 44100 Hz → 48000 Hz (soxr), mono → stereo"
    assert p.at_rate(48000) is p and p.at_rate(16000).x.shape == (16000, 2)
    with pytest.raises(AudioFileError, match="no such file"):
        read_programme(tmp_path / "none.wav", 48000)
    assert format_time(65.25) == "1:05.2" and format_time(-1) == "0:00.0"


def test_prepare_builds_the_player_and_the_overviews(mono, scene):
    seen = []
    prog = read_programme(mono, 44100)  # another rate than the scene's: resampled
    prep = render.prepare(AuditionRequest(prog, scene, AuditionSettings(block=256), "A"),
                          TaskState(lambda f, m: seen.append((f, m))))
    assert prep.programme.fs_hz == 48000 and prep.player.fs_hz == 48000
    assert prep.player.selected == "A" and prep.player.paths.network is not None
    assert prep.levels.levels_db.shape[0] == 3 and prep.spectrogram.level_db.size
    fractions = [f for f, _ in seen]
    assert np.all(np.diff(fractions) >= 0) and any("designing" in m for _, m in seen)
    from_file = render.prepare(AuditionRequest(mono, scene, AuditionSettings()))
    np.testing.assert_array_equal(from_file.programme.x, prep.programme.x)


def test_without_a_listener_nothing_is_rendered(mono, scene, tmp_path):
    alone = replace(scene, listeners=())
    prog = read_programme(mono, 48000)
    with pytest.raises(RenderError, match="no listener"):
        render.prepare(AuditionRequest(prog, alone, AuditionSettings()))
    with pytest.raises(RenderError, match="no listener"):
        render.run(RenderRequest(alone, prog, tmp_path))


def test_levels_follow_the_upmix(mono):
    prog = read_programme(mono, 48000)
    up = UpmixParams(centre_width=0.05)
    track = render.levels(LevelsRequest(prog, up))
    np.testing.assert_array_equal(track.levels_db, lrc_levels(prog.x, 48000, up).levels_db)


def test_offline_render_writes_the_paths_and_the_report(mono, scene, tmp_path):
    prog = read_programme(mono, 44100)
    rep = render.run(RenderRequest(scene, prog, tmp_path / "out", paths=("B",), cues=False))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "binaural_B.wav", "drivers.wav", "report.json"]
    assert json.loads((tmp_path / "out" / "report.json").read_text()) == rep
    assert rep["input"]["fs_in_hz"] == FS_IN and rep["input"]["fs_hz"] == 48000
    assert rep["render"]["block"] == 256 and rep["cues"] is None


def test_upmix_writes_l_r_c_that_mix_back_to_the_input(tmp_path):
    x = 0.1 * np.stack([music_like(FS_IN, 1.0, seed=3), music_like(FS_IN, 1.0, seed=4)], 1)
    o = render.upmix(UpmixRequest(x, FS_IN, tmp_path))
    assert [p.name for p in o.files] == ["L.wav", "R.wav", "C.wav"] and o.seconds == 1.0
    lrc = [sf.read(p)[0] for p in o.files]
    back = np.stack([lrc[0] + lrc[2] / np.sqrt(2), lrc[1] + lrc[2] / np.sqrt(2)], 1)
    assert 10 * np.log10(np.sum((back - x) ** 2) / np.sum(x ** 2)) < -60
    for name, y in zip("LRC", lrc, strict=True):
        assert o.rms_db[name] == pytest.approx(10 * np.log10(np.mean(y ** 2)), abs=1e-3)
