"""What every `awb` command shares: exit codes, the one-line user error, the parser that reports
on one line, and running a job with progress on stderr and Ctrl+C as cancel.

Exit status: 0 success, 2 bad input (one line on stderr naming the file and field), 130
interrupted.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sim.task import TaskState

EXIT_OK, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 2, 130

R = TypeVar("R")


class BadInput(Exception):
    """A user error to report on one line with exit status 2."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (BadInput), not the whole usage block."""

    def error(self, message: str):
        raise BadInput(f"{message} (see '{self.prog} --help')")


def progress_printer(quiet: bool) -> Callable[[float, str], None] | None:
    """A TaskState progress callback printing '  40%  message' on stderr at every 10 %, or None
    when quiet."""
    if quiet:
        return None
    last = [-1]

    def show(fraction: float, message: str) -> None:
        pct = int(fraction * 100)
        if pct // 10 != last[0] // 10 or fraction >= 1.0:
            last[0] = pct
            print(f"  {pct:3d}%  {message}", file=sys.stderr)

    return show


def run_job(job: Callable[..., R], request, quiet: bool = True) -> R:
    """job(request, state) with progress on stderr (unless quiet) and Ctrl+C cancelling it
    (`sim.task.Cancelled`, exit status 130 in `main`)."""
    state = TaskState(progress_printer(quiet))
    previous = signal.signal(signal.SIGINT, lambda *_: state.cancel())
    try:
        return job(request, state)
    finally:
        signal.signal(signal.SIGINT, previous)


def out_file(flag: str, value: str, suffix: str | None = None) -> Path:
    """An output file path whose folder exists (and with `suffix`, when given)."""
    path = Path(value)
    if not path.parent.is_dir():
        raise BadInput(f"{flag} {path}: folder {path.parent} does not exist")
    if suffix is not None and path.suffix != suffix:
        raise BadInput(f"{flag} {path}: expected a {suffix} file name")
    return path


def report_path(value: str | None, *input_dirs: Path) -> Path | None:
    """An eval command's --report (None when not asked): its folder must exist, and it may not
    lie inside a folder the command reads (refused before any work, `sim.outputs.OutputError`)."""
    from sim.outputs import refuse_overwrite

    if not value:
        return None
    path = out_file("--report", value)
    refuse_overwrite([path], input_dirs)
    return path


def finish_eval(report: dict, table: str, report_to: Path | None) -> int:
    """An eval command's end: `table` on stdout, and `report` as JSON at `report_to` when
    asked (atomically); returns EXIT_OK."""
    from sim.outputs import write_text

    print(table)
    if report_to:
        write_text(report_to, json.dumps(report, indent=1) + "\n")
        print(f"wrote {report_to}")
    return EXIT_OK


def out_dir(flag: str, value: str) -> Path:
    """An output folder: it may exist (as a folder), its parent must."""
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise BadInput(f"{flag} {path}: exists and is not a folder")
    if not path.parent.is_dir():
        raise BadInput(f"{flag} {path}: folder {path.parent} does not exist")
    return path
