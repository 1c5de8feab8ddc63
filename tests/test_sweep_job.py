"""The sweep job and `awb sweep`: a LocalCluster run and its report, serial = cluster, failed
cases recorded, kill and resume, bad input, and the metrics against dsp.analysis."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import numpy as np
import pytest
from conftest import REPO

from dsp.sweep.case import run_case, shared_data
from dsp.sweep.results import finished_cases, read_results
from dsp.sweep.spec import spec_from_dict
from sim.task import TaskState
from workbench.cli.main import main
from workbench.jobs.sweep import SweepRequest, _start_method, run

METRICS = ["cancellation_db", "itd_error_us", "ild_error_db", "effort_db"]


def _spec(tmp_path, vary, name="spec.json", **extra) -> str:
    spec = {"schema_version": 1, "kind": "sweep", "scene": "default", "engine": "freefield",
            "seed": 3, "vary": vary, "design": {"method": "nullsteer", "max_effort_db": 18},
            **extra}
    path = tmp_path / name
    path.write_text(json.dumps(spec))
    return str(path)


def _sorted(frame):
    return frame.sort_values(["case", "listener", "band_hz"]).reset_index(drop=True)


def test_cluster_sweep_equals_serial_records_failures_and_reports(tmp_path):
    # 20 cases; x = 5.5 m puts the listener outside the 5 m room in 5 of them.
    spec = _spec(tmp_path, {"listeners[0].position[0]": {"grid": [2.0, 2.5, 3.0, 5.5]},
                            "listeners[0].head_radius": {"normal": [0.0875, 0.006], "n": 5}})
    notes, pages = [], []

    def fetch_dashboard(fraction, message):  # while the sweep runs: the page Dask serves
        if not pages:
            url = next(n for n in notes if n.startswith("Dask dashboard: ")).split()[2]
            try:
                with urllib.request.urlopen(url, timeout=10) as answer:
                    pages.append((answer.status, answer.read().decode()))
            except urllib.error.HTTPError as e:
                pages.append((e.code, ""))

    cluster = run(SweepRequest(spec=spec, out=tmp_path / "cluster.parquet", workers=2,
                               batch_cases=6, notify=notes.append),
                  TaskState(fetch_dashboard))
    serial = run(SweepRequest(spec=spec, out=tmp_path / "serial.parquet", serial=True))
    assert cluster.mode == "local cluster, 2 workers" and cluster.dashboard
    # The dashboard's address, and whether it is only Dask's "needs bokeh" page.
    dashboard = next(n for n in notes if n.startswith("Dask dashboard: "))
    assert dashboard.startswith(f"Dask dashboard: {cluster.dashboard}")
    assert ("needs bokeh" in dashboard) == (importlib.util.find_spec("bokeh") is None)
    if importlib.util.find_spec("bokeh") is not None:  # the dashboard, joined after start-up
        assert pages[0][0] == 200 and "bokeh" in pages[0][1].lower(), pages[0][0]
    for o in (cluster, serial):
        assert (o.n_cases, o.n_computed, o.n_failed, o.n_resumed) == (20, 20, 5, 0)
    a, info = read_results(tmp_path / "cluster.parquet")
    b, _ = read_results(tmp_path / "serial.parquet")
    a, b = _sorted(a), _sorted(b)
    assert len(list((tmp_path / "cluster.parquet").glob("part-*.parquet"))) >= 4
    failed = a[a["status"] == "failed"]
    assert sorted(failed["case"]) == sorted(b[b["status"] == "failed"]["case"])
    assert set(failed["listeners[0].position[0]"]) == {5.5}
    assert set(failed["error"]) == {"listeners[0].position[0] = 5.5 m is outside the room"
                                    " (0 .. 5 m)"}
    ok = a[a["status"] == "ok"]
    assert len(ok) == 15 * len(info["band_hz"])
    for m in METRICS:
        np.testing.assert_array_equal(a[m].isna(), b[m].isna())
        diff = np.nanmax(np.abs(a[m].to_numpy() - b[m].to_numpy()))
        assert diff <= 1e-9 * np.nanmax(np.abs(b[m].to_numpy())), m
    assert np.isfinite(ok[METRICS].to_numpy()).all()

    out = tmp_path / "report"
    assert main(["sweep", "report", str(tmp_path / "cluster.parquet"), "--out", str(out)]) == 0
    for stem in ("percentiles", "floor_map", "histograms"):
        for ext in ("png", "pdf"):
            assert (out / f"{stem}.{ext}").stat().st_size > 1000
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["n_cases_done"], summary["n_ok"], summary["n_failed"]) == (20, 15, 5)
    assert summary["failures"][0]["cases"] == 5
    assert len(summary["bands"]["cancellation_db"]["p50"]) == len(info["band_hz"])
    assert summary["worst_cancellation"][0]["cancellation_db"] == \
        summary["scalars"]["cancellation_db"]["min"]


def test_workers_fork_from_a_lone_thread_and_spawn_beside_other_threads(tmp_path):
    # The CLI's process runs one thread: its workers fork (and inherit the imports). The GUI
    # runs the job in a thread beside Qt's: a fork could copy a lock another thread holds, so
    # its workers spawn; both give the serial results.
    code = "import workbench.jobs.sweep as job; print(job._start_method())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                         env={**os.environ, "PYTHONPATH": str(REPO)}, check=True)
    assert out.stdout.strip() == "fork"
    spec = _spec(tmp_path, {"listeners[0].position[0]": {"grid": [2.0, 2.5]},
                            "listeners[0].head_radius": {"grid": [0.08, 0.09]}})
    seen = {}

    def beside_another_thread():
        seen["method"] = _start_method()
        seen["outcome"] = run(SweepRequest(spec=spec, out=tmp_path / "c.parquet", workers=2))

    worker = threading.Thread(target=beside_another_thread)
    worker.start()
    worker.join(120)
    run(SweepRequest(spec=spec, out=tmp_path / "s.parquet", serial=True))
    assert seen["method"] == "spawn" and seen["outcome"].n_computed == 4
    a, _ = read_results(tmp_path / "c.parquet")
    b, _ = read_results(tmp_path / "s.parquet")
    np.testing.assert_array_equal(_sorted(a)[METRICS].to_numpy(), _sorted(b)[METRICS].to_numpy())


def test_killed_sweep_resumes_without_recomputing_finished_cases(tmp_path):
    # Designs per case make each case ~50 ms: the kill lands after the first parts.
    spec = _spec(tmp_path, {"listeners[0].head_radius": {"uniform": [0.08, 0.095], "n": 40}},
                 design={"method": "nullsteer", "max_effort_db": 18, "per_case": True})
    out = tmp_path / "r.parquet"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "workbench.cli", "sweep", spec, "--out",
                             str(out), "--serial", "--batch", "3", "--quiet"], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(list(out.glob("part-*.parquet"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = finished_cases(out)
    assert 0 < len(before) < 40, "the kill came too late to test a resume"
    parts_before = set(out.glob("part-*.parquet"))

    outcome = run(SweepRequest(spec=spec, out=out, serial=True, batch_cases=50))
    assert (outcome.n_resumed, outcome.n_computed) == (len(before), 40 - len(before))
    import pyarrow.parquet as pq

    new_cases = {c for p in set(out.glob("part-*.parquet")) - parts_before
                 for c in pq.read_table(p, columns=["case"]).column(0).to_pylist()}
    assert not new_cases & before and new_cases | before == set(range(40))
    frame, _ = read_results(out)
    assert frame.groupby("case")["band_hz"].count().eq(frame["band_hz"].nunique()).all()


@pytest.mark.parametrize(("vary", "extra", "words"), [
    ({"listeners[2].position[0]": {"grid": [2.0]}}, [], "unknown path"),
    ({"listeners[0].position[0]": {"uniform": [3.0, 2.0], "n": 4}}, [], "empty range"),
    ({"listeners[0].position[0]": {"normal": [2.5, 0.1], "n": 0}}, [], "n = 0"),
    ({"listeners[0].position[0]": {"grid": [2.0]}}, ["--scheduler", "tcp://127.0.0.1:9"],
     "unreachable"),
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys, vary, extra,
                                                             words):
    spec = _spec(tmp_path, vary)
    out = tmp_path / "r.parquet"
    assert main(["sweep", spec, "--out", str(out), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("awb: error: ") and words in err and "\n" not in err
    assert not out.exists()


def test_results_of_another_spec_are_not_resumed(tmp_path, capsys):
    first = _spec(tmp_path, {"listeners[0].position[0]": {"grid": [2.0]}})
    out = tmp_path / "r.parquet"
    assert main(["sweep", first, "--out", str(out), "--serial", "--quiet"]) == 0
    other = _spec(tmp_path, {"listeners[0].position[0]": {"grid": [2.2]}}, name="other.json")
    assert main(["sweep", other, "--out", str(out), "--serial"]) == 2
    assert "another sweep" in capsys.readouterr().err
    assert finished_cases(out) == {0}


def test_a_case_past_its_timeout_fails_with_the_reason():
    spec = spec_from_dict({"schema_version": 1, "kind": "sweep", "scene": "default",
                           "engine": "room_early", "vary": {"room.walls.rt60": {"grid": [0.5]}},
                           "design": {"method": "nullsteer", "per_case": True}})
    shared = {**shared_data(spec), "timeout_s": 1e-6}
    result = run_case(shared, {"case": 0, "values": spec.case_values(0)})
    assert result["status"] == "failed" and result["error"] == "timed out after 1e-06 s"


def test_metrics_equal_the_design_analysis_in_free_field_and_room():
    from dsp.analysis import cancellation, room_cancellation
    from dsp.sweep.case import design_case
    from dsp.sweep.metrics import BAND_HZ
    from sim.scene_io import scene_from_dict

    spec = spec_from_dict({"schema_version": 1, "kind": "sweep", "scene": "default",
                           "engine": "room_early",
                           "vary": {"listeners[0].position[0]": {"grid": [2.6]}},
                           "design": {"method": "nullsteer"}})
    base = scene_from_dict(spec.scene)
    design = design_case(base, spec.design)
    moved = base.with_listener(0, position_m=(2.6, 3.0, 1.0))
    for engine in ("freefield", "room_early"):
        shared = {**shared_data(spec, design), "engine": engine}
        result = run_case(shared, {"case": 0, "values": spec.case_values(0)})
        got = result["metrics"]["cancellation_db"][0]
        if engine == "freefield":
            c = cancellation(moved, design.filters)
        else:
            c = room_cancellation(moved, design.filters).full
        np.testing.assert_array_equal(c.band_hz, BAND_HZ)
        np.testing.assert_allclose(got, np.minimum(c.left, c.right), atol=1e-9)


def test_the_job_imports_no_qt():
    code = ("import sys, workbench.jobs.sweep, workbench.jobs.sweep_report, workbench.cli.sweep;"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in"
            " ('PySide6', 'pyqtgraph', 'shiboken6')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                         env={**os.environ, "PYTHONPATH": str(REPO)}, check=True)
    assert out.stdout.strip() == "[]"
