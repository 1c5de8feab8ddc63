"""The sweep job: every case of a sweep spec (`dsp.sweep.spec`) computed on Dask or serially,
results streamed into a Parquet results folder (`dsp.sweep.results`), resumable. No Qt.

`run(request, state)`:

1. validates everything before writing anything: the spec, the design at the base scene
   (designed once there unless designs are per case), the output folder (new, or a restart of
   the same spec), the executor (a LocalCluster, a scheduler address that must answer within
   `connect_timeout_s`, or serial). Bad input raises `SweepInputError` (one line).
2. computes the cases the folder does not hold yet with `dsp.sweep.case.run_case`: serially
   in this process, or as Dask tasks (the shared data scattered once to every worker,
   `IN_FLIGHT` tasks per worker thread submitted at a time). A case that fails (its scene is
   invalid, its design impossible, it timed out, its worker died) is a failed row with its
   message; the sweep goes on. A Dask task runs a few consecutive cases (neighbours share
   most of their scene, so a worker's caches serve them); one with no result
   `IN_FLIGHT × (2 × timeout_s + 30 s)` per case after it was submitted (it may wait behind
   the others in flight; longer: a hung worker) is cancelled and its cases recorded as timed
   out.
3. writes a part every `batch_cases` cases or `flush_s` seconds, and what is buffered when it
   stops, cancelled or not. Progress: the fraction of all cases finished, with a message
   "done/total cases, failed, cases/s"; cancellation (`state.cancel()`) stops between cases.

`request.notify` gets one-line notices as they happen: where it runs, the Dask dashboard
address, how many cases a restart skips.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from dsp.sweep.case import run_case, run_cases, shared_data
from dsp.sweep.metrics import import_engine
from dsp.sweep.results import ResultsWriter, check_output
from dsp.sweep.spec import SweepSpec, load_spec
from sim.outputs import OutputError
from sim.scene_fields import SceneError
from sim.task import TaskState, report

IN_FLIGHT = 4
"""Tasks per worker thread submitted at a time: enough that the workers never wait while this
process is busy between results (its first Parquet part imports pandas, ~0.5 s)."""


class SweepInputError(ValueError):
    """A sweep that cannot start: bad spec, design, output or scheduler (one line)."""


@dataclass
class SweepRequest:
    """spec: a spec file path or a validated SweepSpec; out: the results folder. Executor:
    `serial`, else `scheduler` (a Dask scheduler address, e.g. tcp://host:8786), else a
    LocalCluster of `workers` processes (None: one per CPU)."""

    spec: str | Path | SweepSpec
    out: str | Path
    workers: int | None = None
    scheduler: str | None = None
    serial: bool = False
    batch_cases: int = 20
    flush_s: float = 10.0
    connect_timeout_s: float = 10.0
    notify: Callable[[str], None] | None = None


@dataclass
class SweepOutcome:
    """out: the results folder; n_cases in the spec; n_resumed found finished there;
    n_computed now (n_failed of them failed); seconds of this run; mode ("serial", "local
    cluster, 2 workers", "scheduler tcp://..."); dashboard address (None when serial)."""

    out: Path
    n_cases: int
    n_resumed: int
    n_computed: int
    n_failed: int
    seconds: float
    mode: str
    dashboard: str | None

    @property
    def cases_per_s(self) -> float:
        return self.n_computed / self.seconds if self.seconds > 0 else 0.0


def _notify(request: SweepRequest, message: str) -> None:
    if request.notify is not None:
        request.notify(message)


def _prepare(request: SweepRequest) -> tuple[SweepSpec, dict]:
    """The spec and the tasks' shared data; SweepInputError for anything invalid."""
    from dsp.design import check_design
    from dsp.params import DesignError, DesignParams
    from dsp.sweep.case import design_case
    from sim.scene_io import scene_from_dict

    try:
        spec = request.spec if isinstance(request.spec, SweepSpec) else load_spec(request.spec)
        check_output(Path(request.out), spec)
        base = scene_from_dict(spec.scene)
        check_design(base, DesignParams(**spec.design))
        design = None if spec.per_case else design_case(base, spec.design)
    except (SceneError, OutputError) as e:
        raise SweepInputError(str(e)) from None
    except DesignError as e:
        raise SweepInputError(f"design: {e}") from None
    return spec, shared_data(spec, design)


class _Serial:
    """Cases one after another in this process."""

    mode, dashboard = "serial", None

    def results(self, shared: dict, cases: list[dict], state: TaskState | None,
                timeout_s: float, group: int) -> Iterator[dict]:
        for case in cases:
            if state is not None:
                state.check()
            yield run_case(shared, case)

    def close(self) -> None:
        pass


def _start_method() -> str:
    """How our LocalCluster starts its worker processes. fork on Linux when this process runs
    no other Python thread (the CLI, a script): the workers inherit the modules imported here
    instead of each importing Dask, numpy, scipy and pyroomacoustics again (~1 s of start-up
    on two cores, where the sweep itself may take a few seconds). spawn otherwise: beside
    other threads (the GUI runs the job beside Qt's) a lock one of them held at the fork would
    stay locked in the workers, and macOS and Windows have no safe fork."""
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return "fork"
    return "spawn"


def _local_worker_config(start_method: str) -> dict:
    """Dask settings for our LocalCluster. Dask's default worker environment sets
    MALLOC_TRIM_THRESHOLD_, which also fixes glibc's mmap threshold: every large temporary of
    a case (FFT buffers, IR blocks) then costs an mmap, page faults and an munmap, and a case
    runs twice as slow as in this process; it is left out (Dask's one BLAS thread per worker
    is kept; forked workers keep this process's BLAS threads, which cases hardly use). No
    sampling profiler (~10 % of a case); event-loop health checks every second instead of
    every 20 ms in each of the five servers (half the idle CPU of a cluster on a busy
    2-core machine); no work stealing (`_Dask.results` keeps a few tasks per thread in
    flight, there is nothing worth stealing)."""
    import dask.config

    env = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ").items()
           if k != "MALLOC_TRIM_THRESHOLD_"}
    return {"distributed.nanny.pre-spawn-environ": env,
            "distributed.worker.profile.enabled": False,
            "distributed.worker.multiprocessing-method": start_method,
            "distributed.admin.tick.interval": "1s",
            "distributed.scheduler.work-stealing": False}


def _check_reachable(address: str, timeout_s: float) -> None:
    """Fail fast on a tcp:// scheduler that refuses connections (Dask would retry until its
    timeout); other schemes are left to Dask."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(address)
    if parts.scheme != "tcp":
        return
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None:
        raise SweepInputError(f"--scheduler {address}: expected tcp://HOST:PORT")
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout_s).close()
    except OSError as e:
        raise SweepInputError(f"--scheduler {address}: unreachable ({e.strerror or e})") \
            from None


class _Dask:
    """Cases as tasks on a Dask cluster: a scheduler address, or a LocalCluster of processes."""

    def __init__(self, scheduler: str | None, workers: int | None, connect_timeout_s: float,
                 engine: str):
        import logging
        import os

        import dask.config
        from dask.distributed import Client, LocalCluster

        from workbench.jobs import dask_dashboard

        self.cluster = None
        self.dashboard_note = ""  # a remote scheduler's dashboard is its installation's
        if scheduler is None:
            n = workers or os.cpu_count() or 1
            start_method = _start_method()
            if start_method == "fork":
                import_engine(engine)
            # Worker logs are silenced: a failing case is recorded with its error, a dying
            # worker as its cases' error, and shutdown races would print tracebacks.
            # Without a usable bokeh Dask's own start-up serves its "needs bokeh" page there.
            self.dashboard_note = dask_dashboard.note()
            lazy = not self.dashboard_note
            with dask.config.set(_local_worker_config(start_method)):
                self.cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                            dashboard_address=":0",
                                            scheduler_kwargs={"dashboard": not lazy},
                                            silence_logs=logging.CRITICAL)
            self.mode = f"local cluster, {n} worker{'s' if n > 1 else ''}"
            self.client = Client(self.cluster)
            if lazy:  # bokeh is imported when someone opens the address
                self.client.run_on_scheduler(dask_dashboard.serve_on_first_visit)
        else:
            _check_reachable(scheduler, connect_timeout_s)
            try:
                self.client = Client(scheduler, timeout=f"{connect_timeout_s}s")
            except (OSError, TimeoutError, ValueError) as e:
                raise SweepInputError(f"--scheduler {scheduler}: unreachable ({e})") from None
            self.mode = f"scheduler {scheduler}"
        self.dashboard = self.client.dashboard_link

    def results(self, shared: dict, cases: list[dict], state: TaskState | None,
                timeout_s: float, group: int) -> Iterator[dict]:
        from dask.distributed import wait

        n_threads = max(sum(self.client.nthreads().values()), 1)
        # Tasks of consecutive cases, up to a run of the fastest-varying value (whose scenes
        # share most directivities: a worker's caches serve the next case), small enough
        # that every worker gets ~8 tasks.
        chunk = max(1, min(group, len(cases) // (8 * n_threads)))
        chunks = (cases[i:i + chunk] for i in range(0, len(cases), chunk))
        shared_f = self.client.scatter(shared, broadcast=True, hash=False)
        running: dict = {}  # future → (its cases, submit time)
        try:
            while True:
                while len(running) < IN_FLIGHT * n_threads and (part := next(chunks, None)):
                    fut = self.client.submit(run_cases, shared_f, part, pure=False)
                    running[fut] = (part, time.monotonic())
                if not running:
                    return
                try:
                    wait(list(running), timeout=0.5, return_when="FIRST_COMPLETED")
                except TimeoutError:
                    pass
                if state is not None:
                    state.check()
                yield from self._collect(running, timeout_s)
        finally:
            self.client.cancel(list(running))

    def _collect(self, running: dict, timeout_s: float) -> Iterator[dict]:
        """Results of finished (or hung) tasks, removed from `running`."""
        now = time.monotonic()
        for fut, (part, t0) in list(running.items()):
            if fut.status == "finished":
                yield from fut.result()
            elif fut.status == "error":
                exc = fut.exception()
                yield from (_failed(c, f"task failed: {type(exc).__name__}: {exc}")
                            for c in part)
            elif fut.status in ("cancelled", "lost"):
                yield from (_failed(c, f"task {fut.status} by Dask") for c in part)
            elif now - t0 > IN_FLIGHT * (2 * timeout_s + 30) * len(part):
                self.client.cancel([fut])
                yield from (_failed(c, f"timed out: no result {now - t0:.0f} s after"
                                       " submission") for c in part)
            else:
                continue
            del running[fut]

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _failed(case: dict, error: str) -> dict:
    return {"case": case["case"], "values": case["values"], "status": "failed",
            "error": error[:300], "seconds": float("nan"), "positions_m": None, "metrics": None}


def run(request: SweepRequest, state: TaskState | None = None) -> SweepOutcome:
    """Run (or resume) the sweep; see the module docstring."""
    t_start = time.perf_counter()
    spec, shared = _prepare(request)
    executor = _Serial() if request.serial else _Dask(request.scheduler, request.workers,
                                                       request.connect_timeout_s, spec.engine)
    try:
        _notify(request, f"running on {executor.mode}")
        if executor.dashboard:
            _notify(request, f"Dask dashboard: {executor.dashboard}{executor.dashboard_note}")
        writer = ResultsWriter(Path(request.out), spec, request.batch_cases, request.flush_s)
        done = writer.open()
        if done:
            _notify(request, f"resuming: {len(done)} of {spec.n_cases} cases already in"
                             f" {request.out}")
        cases = [{"case": i, "values": spec.case_values(i)} for i in range(spec.n_cases)
                 if i not in done]
        n_done = n_failed = 0
        t0 = time.perf_counter()
        try:
            for result in executor.results(shared, cases, state, spec.timeout_s,
                                           spec.shape[-1]):
                writer.add(result)
                n_done += 1
                n_failed += result["status"] != "ok"
                rate = n_done / max(time.perf_counter() - t0, 1e-9)
                report(state, (len(done) + n_done) / spec.n_cases,
                       f"{len(done) + n_done}/{spec.n_cases} cases, {n_failed} failed,"
                       f" {rate:.2f} cases/s")
        finally:
            writer.flush()
    finally:
        executor.close()
    return SweepOutcome(out=Path(request.out), n_cases=spec.n_cases, n_resumed=len(done),
                        n_computed=n_done, n_failed=n_failed,
                        seconds=time.perf_counter() - t_start, mode=executor.mode,
                        dashboard=executor.dashboard)
