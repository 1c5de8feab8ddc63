"""`awb sweep`: robustness sweeps from the command line.

    awb sweep SPEC.json --out RESULTS.parquet [--workers N | --scheduler tcp://HOST:8786 |
              --serial] [--batch N] [--quiet]
    awb sweep report RESULTS.parquet --out DIR

The first runs (or resumes: the same SPEC and --out again) the sweep job
(`workbench.jobs.sweep`) with a progress line on stderr and the Dask dashboard address; the
results are a Parquet folder. The second writes the report (`workbench.jobs.sweep_report`):
percentile, floor-map and histogram figures as PNG and PDF, and summary.json. Bad input (spec,
output, design, unreachable scheduler) exits 2 with one line and writes nothing; Ctrl+C stops
after the running cases, keeping what finished (exit 130). Wired into `workbench.cli.main` by
`register(subparsers)`.
"""

from __future__ import annotations

import signal
import sys
import time

from sim.task import TaskState
from workbench.cli.errors import EXIT_OK, BadInput


class _ProgressLine:
    """One progress line on stderr: rewritten in place on a terminal, else a line per 10 %."""

    def __init__(self):
        self.tty = sys.stderr.isatty()
        self.t0 = time.monotonic()
        self.last_decile = -1

    def __call__(self, fraction: float, message: str) -> None:
        pct = int(100 * fraction)
        if self.tty:
            width = 24
            bar = "#" * round(width * fraction) + "." * (width - round(width * fraction))
            print(f"\r  [{bar}] {pct:3d}%  {message}   ", end="", file=sys.stderr, flush=True)
            if fraction >= 1.0:
                print(file=sys.stderr)
        elif pct // 10 != self.last_decile or fraction >= 1.0:
            self.last_decile = pct // 10
            print(f"  {pct:3d}%  {message}", file=sys.stderr)


def _cmd_run(args) -> int:
    from workbench.jobs.sweep import SweepInputError, SweepRequest, run

    if args.workers is not None and args.workers < 1:
        raise BadInput(f"--workers = {args.workers} must be ≥ 1")
    if args.batch < 1:
        raise BadInput(f"--batch = {args.batch} must be ≥ 1")
    state = TaskState(None if args.quiet else _ProgressLine())
    request = SweepRequest(spec=args.spec, out=args.out, workers=args.workers,
                           scheduler=args.scheduler, serial=args.serial, batch_cases=args.batch,
                           notify=lambda m: print(m, file=sys.stderr))
    previous = signal.signal(signal.SIGINT, lambda *_: state.cancel())
    try:
        outcome = run(request, state)
    except SweepInputError as e:
        raise BadInput(str(e)) from None
    finally:
        signal.signal(signal.SIGINT, previous)
    print(f"wrote {outcome.out}: {outcome.n_computed} cases computed"
          f" ({outcome.n_failed} failed), {outcome.n_resumed} already there, of"
          f" {outcome.n_cases}; {outcome.seconds:.1f} s, {outcome.cases_per_s:.2f} cases/s"
          f" on {outcome.mode}")
    return EXIT_OK


def _cmd_report(args) -> int:
    from workbench.jobs.sweep_report import ReportRequest, run

    outcome = run(ReportRequest(results=args.results, out=args.out))
    s = outcome.summary
    print(f"wrote {len(outcome.files)} files to {args.out}: {s['n_ok']} ok and"
          f" {s['n_failed']} failed cases of {s['n_cases_planned']}")
    return EXIT_OK


def _dispatch(args) -> int:
    if args.spec == "report":
        if args.results is None:
            raise BadInput("sweep report: give the results folder (awb sweep report"
                           " RESULTS.parquet --out DIR)")
        if args.workers is not None or args.scheduler or args.serial:
            raise BadInput("sweep report: --workers, --scheduler and --serial are for runs")
        return _cmd_report(args)
    if args.results is not None:
        raise BadInput(f"sweep: unexpected argument {args.results!r} (awb sweep SPEC --out"
                       " RESULTS.parquet)")
    return _cmd_run(args)


def register(subparsers) -> None:
    """Add the `sweep` subcommand (runs, and `sweep report`) to awb's subparsers."""
    p = subparsers.add_parser(
        "sweep", help="robustness sweep on Dask (awb sweep SPEC --out R.parquet), or its"
                      " report (awb sweep report R.parquet --out DIR)")
    p.add_argument("spec", metavar="SPEC|report", help="sweep spec JSON, or 'report'")
    p.add_argument("results", nargs="?", metavar="RESULTS",
                   help="report: the results folder of a sweep")
    p.add_argument("--out", required=True, metavar="RESULTS.parquet|DIR",
                   help="run: the results folder (rerun to resume); report: the report folder")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None,
                       help="local cluster of N worker processes (default: one per CPU)")
    where.add_argument("--scheduler", metavar="tcp://HOST:8786",
                       help="run on the Dask cluster of this scheduler")
    where.add_argument("--serial", action="store_true", help="no Dask: one case after another")
    p.add_argument("--batch", type=int, default=20,
                   help="cases per Parquet part (a part is also written every 10 s)")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(func=_dispatch)
