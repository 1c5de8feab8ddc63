"""Levels out (issue 12, build item 7): an offline render's drivers.wav is normalised (one static
gain for all channels, down to −1 dBFS when the feeds peak above it), its binaural files pass live
audition's −1 dBFS safety limiter, and report.json says per file what was done; binaural_B is
what the written drivers.wav sounds like; PercepNet enhance never returns a sample above 0 dBFS.
Acceptance: no written file above −1 dBFS without the report saying so."""

import json

import numpy as np
import pytest
import soundfile as sf

from dsp.limiter import SafetyLimiter, limit_file
from dsp.offline_render import RenderRequest, render_to_folder
from dsp.percepnet.model import weight_path
from dsp.signals import music_like, speech_like
from sim.scene_io import load_scene

FS = 48000
RENDERED = ("drivers.wav", "binaural_A.wav", "binaural_B.wav", "binaural_X.wav")


def _programme(peak_dbfs: float, seconds: float = 1.5) -> np.ndarray:
    """Speech over music, stereo, scaled to a sample peak of peak_dbfs."""
    s = speech_like(FS, seconds, seed=1)
    x = np.stack([s + music_like(FS, seconds, seed=2), s + music_like(FS, seconds, seed=3)], 1)
    return x * 10 ** (peak_dbfs / 20) / np.max(np.abs(x))


def _db(x: np.ndarray) -> float:
    return 20 * np.log10(np.max(np.abs(x)))


def test_limit_file_is_the_stream_without_its_latency():
    x = np.random.default_rng(4).standard_normal((FS, 3)) * 0.3
    x[FS // 3:FS // 2] *= 8.0
    y, rep = limit_file(x, FS)
    lim = SafetyLimiter(FS, 3)
    ref = lim.process(np.concatenate([x, np.zeros((lim.latency, 3))]))[lim.latency:]
    np.testing.assert_array_equal(y, ref)
    assert _db(y.astype(np.float32)) <= -1.0 and rep.peak_dbfs == pytest.approx(_db(y))
    assert rep.peak_before_dbfs == pytest.approx(_db(x))
    assert rep.limited_samples == np.count_nonzero(np.any(y != x, axis=1))
    assert rep.reduction_db >= rep.peak_before_dbfs + 1.0 - 1e-6
    quiet = 0.5 * x / np.max(np.abs(x))
    same, rep = limit_file(quiet, FS)
    np.testing.assert_array_equal(same, quiet)  # bit for bit below the ceiling
    assert (rep.limited_samples, rep.reduction_db) == (0, 0.0)


@pytest.mark.parametrize(("preset", "peak_dbfs", "early_only"), [
    ("design-soundbar-8", -3.0, False),   # ordinary programme: the feeds went to +8 dBFS
    ("design-echo-studio", 0.0, False),
    ("design-stereo-2", 0.0, False),
    ("soundbar-8-studio", -1.0, True),    # in a room
])
def test_no_rendered_file_above_minus_1_dbfs_without_the_report_saying_so(tmp_path, preset,
                                                                         peak_dbfs,
                                                                         early_only):
    rep = render_to_folder(load_scene(preset), _programme(peak_dbfs), tmp_path,
                           RenderRequest(early_only=early_only, cues=False))
    assert json.loads((tmp_path / "report.json").read_text())["levels"] == rep["levels"]
    assert sorted(rep["levels"]) == sorted(RENDERED) == rep["files"]
    limited = []
    for name in RENDERED:
        data, fs = sf.read(tmp_path / name, always_2d=True)
        lv = rep["levels"][name]
        assert fs == FS and _db(data) <= -1.0
        assert lv["peak_dbfs"] == pytest.approx(_db(data), abs=0.01)
        if name == "drivers.wav":  # normalised: one gain, never the limiter
            assert lv["limited_samples"] == 0 and lv["limiter_db"] == 0.0
            assert lv["gain_db"] == pytest.approx(min(0.0, -1.0 - lv["peak_raw_dbfs"]), abs=0.01)
            assert lv["peak_dbfs"] == pytest.approx(min(-1.0, lv["peak_raw_dbfs"]), abs=0.01)
        elif lv["peak_before_dbfs"] > -1.0:
            assert lv["limited_samples"] > 0  # and it takes the peak down to −1 dBFS (0.01 dB)
            assert lv["limiter_db"] >= lv["peak_before_dbfs"] + 1.0 - 0.01
            assert any(w.startswith(f"{name} peaked at {lv['peak_before_dbfs']:+.1f} dBFS")
                       for w in rep["warnings"])
            limited.append(name)
        else:
            assert lv["limited_samples"] == 0 and lv["peak_dbfs"] == lv["peak_before_dbfs"]
    # Ordinary programme: the feeds peak far above the input, so drivers.wav is scaled down,
    # and the report says by how much.
    drivers = rep["levels"]["drivers.wav"]
    assert drivers["peak_raw_dbfs"] > peak_dbfs + 5.0 and drivers["gain_db"] < -5.0
    assert [w for w in rep["warnings"] if w.startswith("drivers.wav: ")] == [
        f"drivers.wav: the driver feeds peaked at {drivers['peak_raw_dbfs']:+.1f} dBFS; written"
        f" {-drivers['gain_db']:.1f} dB lower (one gain for all channels) to peak at -1 dBFS"]
    assert len([w for w in rep["warnings"] if "safety limiter" in w]) == len(limited)


def test_drivers_wav_is_one_static_gain_and_binaural_b_is_what_it_sounds_like(tmp_path):
    from dsp.listening import build_paths, drivers_to_ears
    from dsp.renderer import build_network

    scene = load_scene("design-stereo-2")
    req = RenderRequest(engine="freefield", cues=False)
    loud, softer = tmp_path / "loud", tmp_path / "softer"
    rep = render_to_folder(scene, _programme(0.0), loud, req)
    render_to_folder(scene, _programme(-12.0), softer, req)
    drivers = sf.read(loud / "drivers.wav", always_2d=True)[0]
    # A static gain is linear: 12 dB less input, normalised to the same peak, the same file (a
    # limiter working on most samples, as before, would not be).
    np.testing.assert_allclose(sf.read(softer / "drivers.wav", always_2d=True)[0], drivers,
                               rtol=0, atol=1e-6)
    assert _db(drivers) == pytest.approx(-1.0, abs=0.01)
    # binaural_B.wav = the written feeds through the device, loudness-matched (the report's
    # gain: rounded to 0.01 dB, hence the 0.2 % tolerance), then limited.
    paths = build_paths(scene, build_network(scene, req.params), engine="freefield")
    ears = drivers_to_ears(drivers, paths, req.block)
    got = sf.read(loud / "binaural_B.wav", always_2d=True)[0]
    level = rep["levels"]["binaural_B.wav"]
    expect, _ = limit_file(ears * 10 ** (level["gain_db"] / 20), FS)
    np.testing.assert_allclose(got, expect[:len(got)], rtol=2e-3, atol=1e-6)
    assert level["limited_samples"] > 0  # the limiter's part is compared too


def test_a_quiet_render_is_untouched_and_warns_of_nothing(tmp_path):
    rep = render_to_folder(load_scene("design-stereo-2"), _programme(-30.0), tmp_path,
                           RenderRequest(cues=False))
    for name, lv in rep["levels"].items():
        assert (lv["limited_samples"], lv["limiter_db"]) == (0, 0.0), name
    assert not any("safety limiter" in w for w in rep["warnings"])
    target = rep["loudness"]["input_lufs"]
    assert all(p["lufs"] == pytest.approx(target, abs=0.1)
               for p in rep["loudness"]["paths"].values())


needs_weights = pytest.mark.skipif(not weight_path("float16").is_file(), reason="weights not built")


@needs_weights
@pytest.mark.parametrize(("fs", "channels"), [(16000, 1), (44100, 2)])
def test_enhance_never_returns_a_sample_above_0_dbfs(fs, channels):
    from dsp.percepnet.enhance import enhance

    s = speech_like(fs, 1.0, seed=6)
    x = np.stack([s * (1 - 0.2 * c) for c in range(channels)], 1)
    hot = 2.0 * x / np.max(np.abs(x))  # a float file at +6 dBFS
    res = enhance(hot[:, 0] if channels == 1 else hot, fs)
    assert np.max(np.abs(res.output)) < 1.0
    assert res.limit.limited_samples > 0 and res.limit.peak_before_dbfs > 0.0
    assert any(n.startswith("output peaked at +") and "limited to 0 dBFS" in n for n in res.notes)
    calm = enhance(0.3 * x / np.max(np.abs(x)), fs)
    assert calm.limit.limited_samples == 0 and not any("limited" in n for n in calm.notes)


@needs_weights
def test_awb_enhance_of_a_hot_float_file_writes_below_full_scale(tmp_path, capsys):
    from workbench.cli.main import main as awb

    src, dst = tmp_path / "hot.wav", tmp_path / "out.wav"
    s = speech_like(16000, 1.0, seed=8)
    sf.write(src, 2.0 * s / np.max(np.abs(s)), 16000, subtype="FLOAT")
    assert awb(["enhance", str(src), str(dst)]) == 0
    assert np.max(np.abs(sf.read(dst)[0])) < 1.0
    assert "limited to 0 dBFS" in capsys.readouterr().err
