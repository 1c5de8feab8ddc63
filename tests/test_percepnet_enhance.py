"""One-call API and `awb enhance` / `awb eval-ns`: any rate/channels, bad input, oracle mode."""

import json

import numpy as np
import pytest
import soundfile as sf
from conftest import cancel_latencies, shared_file

from dsp.percepnet.audio_io import load_mono, mix_at_snr
from dsp.percepnet.enhance import EnhanceError, EnhanceOptions, enhance
from dsp.percepnet.metrics import si_sdr
from dsp.percepnet.model import weight_path
from sim.task import TaskState
from workbench.cli.enhance import register
from workbench.cli.errors import EXIT_BAD_INPUT, EXIT_OK, BadInput, Parser

needs_weights = pytest.mark.skipif(not weight_path("float16").is_file(), reason="weights not built")


def awb(argv: list[str]) -> int:
    """Run a subcommand the way awb's main does (parser errors and BadInput → exit 2)."""
    p = Parser(prog="awb")
    register(p.add_subparsers(dest="command", required=True, parser_class=Parser))
    try:
        args = p.parse_args(argv)
        return args.func(args)
    except BadInput as e:
        print(f"awb: error: {e}")
        return EXIT_BAD_INPUT


def _tone_noise(fs, seconds=0.6, channels=None):
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * fs)) / fs
    x = 0.1 * np.sin(2 * np.pi * 200 * t) + 0.02 * rng.standard_normal(len(t))
    return x if channels is None else np.stack([x * (1 + 0.1 * c) for c in range(channels)], 1)


def test_bad_input_is_a_clear_error():
    with pytest.raises(EnhanceError, match="empty"):
        enhance(np.zeros(0), 16000)
    x = _tone_noise(16000)
    x[100] = np.nan
    with pytest.raises(EnhanceError, match=r"NaN/Inf samples \(first at sample 100\)"):
        enhance(x, 16000)
    with pytest.raises(EnhanceError, match="outside 8000"):
        enhance(_tone_noise(16000), 4000)
    with pytest.raises(EnhanceError, match="shape"):
        enhance(np.zeros((4, 4, 4)), 16000)


@needs_weights
@pytest.mark.parametrize(("fs", "channels"), [(8000, None), (48000, 6), (44100, 2), (16000, None)])
def test_any_rate_and_channel_count(fs, channels):
    x = _tone_noise(fs, channels=channels)
    res = enhance(x, fs)
    assert res.output.shape == x.shape and res.fs_hz == fs
    assert np.all(np.isfinite(res.output))
    assert res.latency_s == pytest.approx(0.04)
    assert res.before.level_db.shape == res.after.level_db.shape and res.gains.shape[1] == 27
    if fs == 8000:
        assert any("processed at 16000 Hz" in n for n in res.notes)
    if channels == 6:
        assert any("6 channels" in n for n in res.notes)


@needs_weights
def test_progress_per_block_changes_nothing():
    fs = 48000
    x = _tone_noise(fs, seconds=4.0, channels=2)
    seen = []
    res = enhance(x, fs, state=TaskState(lambda f, m: seen.append((f, m))))
    np.testing.assert_array_equal(res.output, enhance(x, fs).output)
    fractions = [f for f, _ in seen]
    assert np.all(np.diff(fractions) >= 0) and fractions[-1] == 1.0
    # every stage of both channels moves in 0.5 s blocks: 8 blocks of 4 s, several stages each
    assert len(seen) > 2 * 5 * 8
    assert {m.split(":")[0] for _, m in seen} >= {"channel 1/2", "channel 2/2", "spectrograms"}


@needs_weights
@pytest.mark.parametrize(("fs", "oracle"), [(48000, False), (16000, False), (16000, True)])
def test_a_cancel_is_noticed_within_100_ms(fs, oracle):
    x = _tone_noise(fs, seconds=60.0, channels=2)
    opts = EnhanceOptions(oracle_clean=0.5 * x if oracle else None)
    # each channel: analysis, model (or oracle targets), synthesis; then the spectrograms
    stages = (0.05, 0.15, 0.25, 0.4, 0.7, 0.92, 0.97)
    latencies = cancel_latencies(lambda state: enhance(x, fs, opts, state), stages)
    assert max(latencies) < 0.1, latencies


@needs_weights
def test_clipped_input_gives_a_note():
    x = np.clip(_tone_noise(16000) * 20, -1, 1)
    res = enhance(x, 16000)
    assert any("clipped" in n for n in res.notes)
    assert np.all(np.isfinite(res.output))


def test_oracle_mode_improves_si_sdr():
    clean, _ = load_mono(shared_file("speech/librispeech_test-other/533/533-1066-0000.flac"), 16000)
    noise, _ = load_mono(shared_file("noise/speechcommands_exercise_bike.wav"), 16000)
    clean = clean[:32000]
    noisy = mix_at_snr(clean, noise[-len(clean):], 0.0)
    res = enhance(noisy, 16000, EnhanceOptions(oracle_clean=clean))
    assert si_sdr(clean, res.output) > si_sdr(clean, noisy) + 5.0


@needs_weights
def test_cli_enhance_file_dir_and_formats(tmp_path, capsys):
    fs = 48000
    x = _tone_noise(fs, channels=2)
    src = tmp_path / "in24.wav"
    sf.write(src, x, fs, subtype="PCM_24")
    assert awb(["enhance", str(src), str(tmp_path / "out.wav"), "--no-comb"]) == EXIT_OK
    info = sf.info(tmp_path / "out.wav")
    assert (info.samplerate, info.channels, info.subtype) == (48000, 2, "PCM_24")
    d_in, d_out = tmp_path / "in", tmp_path / "out"
    d_in.mkdir()
    sf.write(d_in / "a.wav", x[:, 0], fs)
    sf.write(d_in / "b.flac", _tone_noise(16000), 16000)
    assert awb(["enhance", "--in-dir", str(d_in), "--out-dir", str(d_out), "--int8"]) == EXIT_OK
    assert sorted(p.name for p in d_out.iterdir()) == ["a.wav", "b.flac"]
    assert "wrote" in capsys.readouterr().out


def test_cli_bad_input_exits_2(tmp_path, capsys):
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros(0), 16000)
    nan = tmp_path / "nan.wav"
    x = _tone_noise(16000)
    x[5] = np.nan
    sf.write(nan, x, 16000, subtype="FLOAT")
    junk = tmp_path / "junk.wav"
    junk.write_text("not audio")
    none = tmp_path / "none"
    none.mkdir()
    cases = [
        (["enhance", str(empty), str(tmp_path / "o.wav")], "empty"),
        (["enhance", str(nan), str(tmp_path / "o.wav")], "NaN"),
        (["enhance", str(junk), str(tmp_path / "o.wav")], "not a readable audio file"),
        (["enhance", str(tmp_path / "missing.wav"), str(tmp_path / "o.wav")], "no such file"),
        (["enhance", str(junk)], "expected IN OUT"),
        (["enhance", str(empty), str(tmp_path / "nodir" / "o.wav")], "does not exist"),
        (["enhance", "--in-dir", str(tmp_path / "nodir"), "--out-dir", str(tmp_path)],
         "not a folder"),
        (["eval-ns", "--speech", str(tmp_path / "x"), "--noise", str(tmp_path)], "not a folder"),
        (["eval-ns", "--speech", str(none), "--noise", str(tmp_path)], "no audio files"),
        (["eval-ns", "--speech", str(tmp_path), "--noise", str(tmp_path)], "empty.wav"),
        (["enhance", str(empty), str(tmp_path / "o.wav"), "--postfilter-strength", "-1"],
         "expected a number >= 0"),
        (["eval-ns", "--speech", str(none), "--noise", str(tmp_path), "--postfilter-strength",
          "nan"], "expected a number >= 0"),
        (["eval-ns", "--speech", str(none), "--noise", str(tmp_path), "--weights-dir",
          str(none)], "no percepnet16k_f16.npz"),
    ]
    for argv, msg in cases:
        capsys.readouterr()
        assert awb(argv) == EXIT_BAD_INPUT, argv
        out = capsys.readouterr().out.strip()
        assert msg in out and "\n" not in out, (argv, out)


@needs_weights
def test_cli_eval_ns_report(tmp_path, capsys):
    pytest.importorskip("pesq", reason="pesq is not installed (the 'test' extra)")
    pytest.importorskip("pystoi", reason="pystoi is not installed (the 'test' extra)")
    speech = shared_file("speech/librispeech_test-other/367/367-130732-0000.flac").parent
    noise = shared_file("noise/blanket_rain.flac").parent
    rep = tmp_path / "r.json"
    argv = ["eval-ns", "--speech", str(speech), "--noise", str(noise), "--snrs", "5",
            "--max-files", "1", "--no-int8", "--report", str(rep), "--quiet",
            "--weights-dir", str(weight_path().parent)]
    assert awb(argv) == EXIT_OK
    report = json.loads(rep.read_text())
    systems = report["systems"]
    for name in ("noisy", "oracle:bin", "oracle:band", "oracle:band+comb", "oracle:band+comb+pf",
                 "model"):
        assert set(systems[name]["5.0"]) == {"pesq_wb", "stoi", "si_sdr"}
    assert systems["oracle:band+comb"]["5.0"]["pesq_wb"] > systems["noisy"]["5.0"]["pesq_wb"]
    assert "PESQ" in capsys.readouterr().out


def _clean_noisy_files(tmp_path, f0_hz: float, seed: int):
    """A 1 s tone starting at 0.3 s and it plus white noise, at 16 kHz, written as clean.wav and
    noisy.wav in tmp_path; returns (fs, clean, noisy)."""
    fs = 16000
    t = np.arange(fs) / fs
    clean = 0.2 * np.sin(2 * np.pi * f0_hz * t) * (t > 0.3)
    noisy = clean + 0.05 * np.random.default_rng(seed).standard_normal(fs)
    sf.write(tmp_path / "clean.wav", clean, fs, subtype="FLOAT")
    sf.write(tmp_path / "noisy.wav", noisy, fs, subtype="FLOAT")
    return fs, clean, noisy


def test_postfilter_strength_zero_is_no_postfilter_and_bad_strength_is_refused(tmp_path):
    fs, _, noisy = _clean_noisy_files(tmp_path, 180.0, seed=2)
    outs = {}
    for name, flags in (("s0", ["--postfilter-strength", "0"]), ("off", ["--no-postfilter"]),
                        ("s1", ["--postfilter-strength", "1"]), ("default", [])):
        argv = ["enhance", str(tmp_path / "noisy.wav"), str(tmp_path / f"{name}.wav"),
                "--oracle", str(tmp_path / "clean.wav"), *flags]
        assert awb(argv) == EXIT_OK
        outs[name] = sf.read(tmp_path / f"{name}.wav")[0]
    # strength 0: g_w = g and G = 1, so the postfilter is the identity
    assert np.max(np.abs(outs["s0"] - outs["off"])) < 1e-6
    assert np.max(np.abs(outs["s1"] - outs["default"])) > 1e-3
    with pytest.raises(EnhanceError, match="postfilter strength"):
        enhance(noisy, fs, EnhanceOptions(postfilter_strength=float("nan")))


def test_cli_oracle_mode(tmp_path, capsys):
    _, clean, noisy = _clean_noisy_files(tmp_path, 220.0, seed=1)
    sf.write(tmp_path / "clean8k.wav", clean[::2], 8000, subtype="FLOAT")
    out = tmp_path / "out.wav"
    assert awb(["enhance", str(tmp_path / "noisy.wav"), str(out),
                "--oracle", str(tmp_path / "clean.wav")]) == EXIT_OK
    y, _ = sf.read(out)
    assert si_sdr(clean, y) > si_sdr(clean, noisy) + 6.0
    assert "vs clean: PESQ-WB" in capsys.readouterr().out  # the scores the panel shows
    assert awb(["enhance", str(tmp_path / "noisy.wav"), str(out),
                "--oracle", str(tmp_path / "clean8k.wav")]) == EXIT_BAD_INPUT


@needs_weights
def test_48k_is_processed_full_band_and_time_aligned():
    from dsp.percepnet.evaluate import measure_delay

    fs = 48000
    rng = np.random.default_rng(3)
    t = np.arange(fs) / fs
    voiced = sum(0.1 / k * np.sin(2 * np.pi * 150 * k * t) for k in range(1, 80))  # to 12 kHz
    x = voiced * (t > 0.2) + 0.01 * rng.standard_normal(fs)
    res = enhance(x, fs)
    f = np.fft.rfftfreq(fs, 1 / fs)
    high_in = np.sum(np.abs(np.fft.rfft(x))[f > 9000] ** 2)
    high_out = np.sum(np.abs(np.fft.rfft(res.output))[f > 9000] ** 2)
    assert 1e-3 * high_in < high_out <= 2 * high_in  # content above 8 kHz is kept (gained)
    assert measure_delay(x, res.output, 4000) == 0
