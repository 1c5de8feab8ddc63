"""Every export format is read back and checked identical to the FilterSet (CamillaDSP and
Equalizer APO configurations are also executed by reference interpreters of their documented
routing and compared with the direct MIMO convolution)."""

import json

import numpy as np
import pytest
import soundfile as sf

from dsp.export import c_header, camilladsp, csv_text, eqapo, export, json_file, npz
from dsp.filterset import FilterSet


@pytest.fixture(scope="module")
def filters():
    rng = np.random.default_rng(7)
    fir = rng.standard_normal((2, 3, 64)) * np.exp(-np.arange(64) / 16)
    meta = {"method": "ctc", "scene": "test", "inputs": ["left", "right"],
            "drivers": ["d1", "d 2", "d3"], "parameters": {"n_taps": 64}, "version": "0"}
    return FilterSet(fir=fir, fs_hz=48000, delay_samples=32, meta=meta)


@pytest.fixture(scope="module")
def written(filters, tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    return out, export(filters, out)


def test_npz_contract(filters, written):
    out, _ = written
    with np.load(out / "filters.npz") as z:
        assert set(z.files) == {"fir", "fs", "delay", "meta"}
        assert z["fir"].shape == (2, 3, 64)
        np.testing.assert_array_equal(z["fir"], filters.fir)
        assert int(z["fs"]) == 48000 and int(z["delay"]) == 32
        assert json.loads(str(z["meta"]))["method"] == "ctc"
    back = npz.read(out / "filters.npz")
    np.testing.assert_array_equal(back.fir, filters.fir)


def test_json_exact(filters, written):
    out, _ = written
    back = json_file.read(out / "filters.json")
    np.testing.assert_array_equal(back.fir, filters.fir)
    for key in ("scene", "method", "parameters", "version"):
        assert key in back.meta
    assert back.fs_hz == 48000 and back.delay_samples == 32


def test_csv_exact(filters, written):
    out, _ = written
    data, names, header = csv_text.read(out / "filters.csv")
    np.testing.assert_array_equal(data, filters.fir.reshape(6, 64))
    assert names[0] == "left->d1" and header == {"fs": "48000", "delay": "32", "taps": "64"}


def test_wav_float32(filters, written):
    out, _paths = written
    for i, name in enumerate(filters.input_names):
        x, fs = sf.read(out / f"filters_{name}.wav", dtype="float32")
        assert fs == 48000 and x.shape == (64, 3)
        np.testing.assert_array_equal(x.T, filters.fir[i].astype(np.float32))
    m, _ = sf.read(out / "filters_matrix.wav", dtype="float32")
    np.testing.assert_array_equal(m.T, filters.fir.reshape(6, 64).astype(np.float32))


def test_c_header_arrays(filters, written):
    out, _ = written
    arr, macros = c_header.read(out / "filters.h")
    np.testing.assert_array_equal(arr, filters.fir.astype(np.float32))
    assert macros["FILTERS_FS_HZ"] == 48000 and macros["FILTERS_DELAY_SAMPLES"] == 32


def test_sofa_general_fir(filters, written):
    import sofar

    out, _ = written
    s = sofar.read_sofa(str(out / "filters.sofa"))
    assert s.GLOBAL_SOFAConventions == "GeneralFIR"
    np.testing.assert_array_equal(s.Data_IR, filters.fir)
    assert float(np.squeeze(s.Data_SamplingRate)) == 48000.0


def test_camilladsp_schema_and_routing(filters, written):
    yaml = pytest.importorskip("yaml")
    out, _ = written
    cfg = yaml.safe_load((out / "filters_camilladsp.yml").read_text())
    assert set(cfg) == {"devices", "filters", "mixers", "pipeline"}
    assert cfg["devices"]["samplerate"] == 48000
    assert cfg["devices"]["capture"]["channels"] == 2
    assert cfg["devices"]["playback"]["channels"] == 3
    assert len(cfg["filters"]) == 6
    for f in cfg["filters"].values():
        assert f["type"] == "Conv"
        assert f["parameters"]["type"] == "Raw" and f["parameters"]["format"] == "F64_LE"
    assert cfg["mixers"]["fanout"]["channels"] == {"in": 2, "out": 6}
    assert cfg["mixers"]["sum_to_drivers"]["channels"] == {"in": 6, "out": 3}
    kinds = [s["type"] for s in cfg["pipeline"]]
    assert kinds[0] == "Mixer" and kinds[-1] == "Mixer" and kinds.count("Filter") == 6
    # Raw coefficient files are bit-exact.
    for i, a in enumerate(filters.input_names):
        for d, b in enumerate(filters.driver_names):
            name = f"filters_{a}_to_{b.replace(' ', '_')}.f64"
            np.testing.assert_array_equal(np.fromfile(out / name, "<f8"), filters.fir[i, d])
    x = np.random.default_rng(3).standard_normal((2, 500))
    y = camilladsp.run_config(cfg, out, x)
    np.testing.assert_allclose(y, filters.apply(x)[:, :500], atol=1e-12)


def test_eqapo_config_routing(filters, written):
    out, _ = written
    path = out / "filters_eqapo_config.txt"
    text = path.read_text()
    assert "Copy:" in text and "Convolution:" in text
    x = np.random.default_rng(4).standard_normal((2, 500))
    preamp = float(text.splitlines()[1].split()[1])
    y = eqapo.run_config(path, x, 3 + 6)[:3] * 10 ** (-preamp / 20)
    np.testing.assert_allclose(y, filters.apply(x)[:, :500], atol=1e-5)  # float32 WAVs


def test_unknown_format_is_refused(filters, tmp_path):
    with pytest.raises(ValueError, match="unknown export format"):
        export(filters, tmp_path, ["mp3"])
