"""Every dsp/ and sim/ writer goes through sim.outputs: an existing file keeps its mode, a new
one gets the umask's, a read-only target is refused with an error naming it, and a multi-file
run that fails replaces nothing and leaves no temp file (issue 12, build item 2)."""

import json
import os

import numpy as np
import pytest
import soundfile as sf

from dsp.audio_io import write_audio
from dsp.export import export
from dsp.filterset import FilterSet
from sim.outputs import OutputError


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path) -> int:
    return path.stat().st_mode & 0o777


def _names(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize(("name", "subtype", "fmt", "written"), [
    ("a.wav", "FLOAT", "WAV", "FLOAT"),
    ("a.flac", "FLOAT", "FLAC", "PCM_24"),   # FLAC holds no float: its finest, 24 bits
    ("a.flac", "PCM_16", "FLAC", "PCM_16"),
    ("a.out", "PCM_16", "WAV", "PCM_16"),    # an unknown suffix: WAV
])
def test_write_audio_container_from_the_suffix_and_mode_kept(tmp_path, umask_022, name,
                                                             subtype, fmt, written):
    path = tmp_path / name
    x = 0.5 * np.sin(np.linspace(0, 100, 4800))[:, None].repeat(2, 1)
    assert write_audio(path, x, 48000, subtype) == path
    info = sf.info(path)
    assert (info.format, info.subtype, info.channels) == (fmt, written, 2)
    assert _mode(path) == 0o644
    path.chmod(0o600)
    write_audio(path, 0.5 * x, 48000, subtype)
    assert _mode(path) == 0o600
    np.testing.assert_allclose(sf.read(path)[0], 0.5 * x, atol=1e-4)
    path.chmod(0o444)
    with pytest.raises(OutputError, match=f"{name}: is read-only"):
        write_audio(path, x, 48000, subtype)
    assert _names(tmp_path) == [name]


def _filters() -> FilterSet:
    fir = np.random.default_rng(2).standard_normal((2, 2, 64))
    return FilterSet(fir=fir, fs_hz=48000, delay_samples=8,
                     meta={"inputs": ["left", "right"], "drivers": ["a", "b"]})


def test_export_keeps_modes_and_a_read_only_file_stops_every_format(tmp_path, umask_022):
    paths = [p for ps in export(_filters(), tmp_path).values() for p in ps]
    assert {_mode(p) for p in paths} == {0o644} and len(paths) == len(_names(tmp_path)) == 18
    before = {p.name: p.read_bytes() for p in paths}
    (tmp_path / "filters.csv").chmod(0o640)
    (tmp_path / "filters.sofa").chmod(0o444)  # the last format written
    other = FilterSet(fir=2 * _filters().fir, fs_hz=48000, delay_samples=8, meta={})
    with pytest.raises(OutputError, match=r"filters\.sofa: is read-only") as err:
        export(other, tmp_path)
    assert err.value.filename == str(tmp_path / "filters.sofa")
    assert {p.name: p.read_bytes() for p in paths} == before  # nothing new, not even the WAVs
    assert _names(tmp_path) == sorted(before)  # and no temp file
    (tmp_path / "filters.sofa").chmod(0o644)
    export(other, tmp_path)
    assert _mode(tmp_path / "filters.csv") == 0o640
    with np.load(tmp_path / "filters.npz") as z:
        np.testing.assert_array_equal(z["fir"], other.fir)


def test_render_folder_refused_on_a_read_only_report_writes_nothing(tmp_path, umask_022):
    from dsp.offline_render import RenderRequest, render_to_folder
    from dsp.signals import speech_like
    from sim.scene_io import load_scene

    scene = load_scene("design-stereo-2")
    x = 0.1 * speech_like(48000, 0.5, seed=2)[:, None].repeat(2, 1)
    (tmp_path / "drivers.wav").write_bytes(b"old feeds")
    (tmp_path / "drivers.wav").chmod(0o640)
    (tmp_path / "report.json").write_text("{}")
    (tmp_path / "report.json").chmod(0o444)
    req = RenderRequest(paths=("A", "B"), cues=False)
    with pytest.raises(OutputError, match=r"report\.json: is read-only"):
        render_to_folder(scene, x, tmp_path, req)
    assert (tmp_path / "drivers.wav").read_bytes() == b"old feeds"
    assert _names(tmp_path) == ["drivers.wav", "report.json"]
    (tmp_path / "report.json").chmod(0o644)
    rep = render_to_folder(scene, x, tmp_path, req)
    assert json.loads((tmp_path / "report.json").read_text())["files"] == rep["files"]
    assert _mode(tmp_path / "drivers.wav") == 0o640
    assert _mode(tmp_path / "binaural_A.wav") == _mode(tmp_path / "report.json") == 0o644
    assert _names(tmp_path) == ["binaural_A.wav", "binaural_B.wav", "drivers.wav",
                                "report.json"]


def test_rir_cache_and_scene_files_go_through_the_writer(tmp_path, umask_022):
    from sim.room.cache import RirCache
    from sim.scene_io import load_scene, save_scene

    cache = RirCache(tmp_path / "rirs")
    cache.put("k", {"ir": np.ones((2, 8)), "meta": {"fs": 48000}})
    entry = tmp_path / "rirs" / "k.npz"
    assert _mode(entry) == 0o644 and _names(tmp_path / "rirs") == ["k.npz"]
    assert RirCache(tmp_path / "rirs").get("k")["meta"] == {"fs": 48000}
    scene_file = tmp_path / "scene.json"
    save_scene(load_scene("design-stereo-2"), scene_file)
    scene_file.chmod(0o444)
    with pytest.raises(OutputError, match=r"scene\.json: is read-only"):
        save_scene(load_scene("default"), scene_file)
    assert load_scene(scene_file).name == load_scene("design-stereo-2").name
