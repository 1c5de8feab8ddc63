"""`awb design`: the report JSON keys and one-line errors."""

import json

import pytest

from workbench.cli.main import main


def test_design_ctc_writes_report_and_all_formats(capsys, tmp_path):
    rep = tmp_path / "r.json"
    code = main(["design", "design-stereo-2", "--method", "ctc", "--out", str(tmp_path / "o"),
                 "--report", str(rep)])
    _out, err = capsys.readouterr()
    assert code == 0, err
    r = json.loads(rep.read_text())
    for key in ("effort_db", "fir_error_db", "zone_area_m2"):
        assert isinstance(r[key], float)
    assert isinstance(r["timing_ms"], dict)
    c = r["cancellation_db"]
    assert c["band_hz"][0] == 100.0 and len(c["left"]) == len(c["band_hz"]) == len(c["right"])
    assert set(r["cancellation_probe_db"]) >= {"band_hz", "left", "right"}
    assert (tmp_path / "o" / "filters.npz").is_file()
    assert (tmp_path / "o" / "filters.sofa").is_file()


def test_design_beam_and_virtualizer_report_keys(capsys, tmp_path):
    rep = tmp_path / "b.json"
    assert main(["design", "design-soundbar-8", "--method", "beam", "--out", str(tmp_path),
                 "--format", "npz", "--report", str(rep)]) == 0
    r = json.loads(rep.read_text())
    assert set(r["null_depth_db"]) == {"band_hz", "minus90", "plus90"}
    assert isinstance(r["lobe_deviation_db"], float)
    rep = tmp_path / "v.json"
    assert main(["design", "design-stereo-2", "--method", "virtualizer", "--out",
                 str(tmp_path), "--format", "json", "--report", str(rep)]) == 0
    r = json.loads(rep.read_text())
    assert isinstance(r["itd_error_us"], float)
    assert set(r["ild_error_db"]) == {"band_hz", "left", "right"}


def test_design_beam_and_virtualizer_parameters_of_the_panel(tmp_path):
    rep = tmp_path / "b.json"
    assert main(["design", "design-soundbar-8", "--method", "beam", "--null-angles=-60,60",
                 "--lobe-half-width", "30", "--null-gain-db", "-40", "--out", str(tmp_path),
                 "--format", "npz", "--report", str(rep)]) == 0
    p = json.loads(rep.read_text())["parameters"]
    assert p["null_angles_deg"] == [-60.0, 60.0] and p["lobe_half_width_deg"] == 30.0
    assert p["null_gain_db"] == -40.0
    assert main(["design", "design-stereo-2", "--method", "virtualizer", "--virtual-angle",
                 "20", "--out", str(tmp_path), "--format", "npz", "--report", str(rep)]) == 0
    assert json.loads(rep.read_text())["parameters"]["virtual_angle_deg"] == 20.0


@pytest.mark.parametrize("argv, fragment", [
    (["--method", "beam"], "cannot null"),
    (["--method", "ctc", "--taps", "64"], "too short"),
    (["--method", "ctc", "--max-effort-db", "-20"], "impossible"),
    (["--method", "ctc", "--format", "mp3"], "unknown"),
    (["--method", "beam", "--null-angles", "north"], "expected degrees"),
    (["--method", "ctc", "--target-curve", "/no/such.csv"], "cannot be read"),
])
def test_design_bad_input_exit_2(capsys, tmp_path, argv, fragment):
    code = main(["design", "design-stereo-2", *argv, "--out", str(tmp_path / "o")])
    _, err = capsys.readouterr()
    assert code == 2
    assert fragment in err and len(err.strip().splitlines()) == 1
