"""The design, export and transfer jobs without Qt: what a redesign carries, the report the
export writes (the same JSON as `awb design --report`), the transfer request."""

import json

import numpy as np
import pytest

from dsp.params import DesignParams
from sim.scene_io import load_scene
from sim.task import TaskState
from sim.transfer import simulate
from workbench.cli.main import main
from workbench.jobs import design, export, transfer
from workbench.jobs.design import DesignRequest, design_relevant
from workbench.jobs.export import ExportRequest
from workbench.jobs.transfer import TransferRequest


@pytest.fixture(scope="module")
def stereo():
    return load_scene("design-stereo-2")


def test_a_redesign_carries_what_the_panel_shows(stereo):
    seen = []
    o = design.run(DesignRequest(stereo, DesignParams(method="ctc")),
                   TaskState(lambda f, m: seen.append(f)))
    assert o.probe is not None and o.virtual is None and o.probe_cm == 5.0
    assert o.filters is o.redesign.design.filters and o.responses is not None
    assert o.summary.effort_db == pytest.approx(o.redesign.design.max_effort_db, abs=0.05)
    assert seen[-1] == 1.0 and np.all(np.diff(seen) >= 0)
    assert design.run(DesignRequest(stereo, DesignParams(method="ctc"), 0.0)).probe is None
    v = design.run(DesignRequest(stereo, DesignParams(method="virtualizer")))
    assert set(v.virtual) >= {"itd_error_us", "ild_error_db"}


def test_talkers_and_noise_do_not_change_the_design():
    scene = load_scene("default")
    assert scene.sources and design_relevant(scene).sources == ()
    assert design_relevant(design_relevant(scene)) == design_relevant(scene)


def test_the_export_writes_the_report_awb_design_writes(stereo, tmp_path):
    cli_report = tmp_path / "cli.json"
    assert main(["design", "design-stereo-2", "--method", "ctc", "--out", str(tmp_path / "cli"),
                 "--format", "npz,json", "--report", str(cli_report)]) == 0
    o = design.run(DesignRequest(stereo, DesignParams(method="ctc")))
    folder = tmp_path / "gui"
    out = export.run(ExportRequest(o, folder, ("npz", "json"),
                                   report_path=folder / export.REPORT_NAME))
    assert sorted(p.name for p in folder.iterdir()) == ["filters.json", "filters.npz",
                                                        "report.json"]
    assert out.written == {"npz": [folder / "filters.npz"], "json": [folder / "filters.json"]}
    ours, theirs = (json.loads(p.read_text()) for p in (folder / "report.json", cli_report))
    assert ours == out.report
    for doc in (ours, theirs):
        doc.pop("timing_ms")  # wall-clock times differ run to run
    assert ours == theirs


def test_export_without_a_report_path_writes_none(stereo, tmp_path):
    o = design.run(DesignRequest(stereo, DesignParams(method="ctc"), 0.0))
    out = export.run(ExportRequest(o, tmp_path / "x", ("csv",), stem="ctc"))
    assert [p.name for p in (tmp_path / "x").iterdir()] == ["ctc.csv"]
    assert out.report["files"] == {"csv": ["ctc.csv"]} and "export" in out.report["timing_ms"]


def test_transfer_request_is_the_simulation(stereo):
    r = transfer.run(TransferRequest(stereo, "freefield", fs_hz=16000))
    direct = simulate(stereo, "freefield", fs_hz=16000)
    assert r.fs_hz == 16000 and r.engine == "freefield"
    np.testing.assert_array_equal(r.ir, direct.ir)
