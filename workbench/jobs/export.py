"""The export job: a design's filters in the chosen formats (`dsp.export`, every file written
atomically) and its design report (`dsp.report`), the same report.json whether `awb design
--report` or the Design panel's Export writes it. The files and the report are one
`sim.outputs.batch`: a run that fails, or is refused because a file would replace one it read,
writes nothing new.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from dsp.export import export
from sim.task import TaskState, report
from workbench.jobs.design import DesignOutcome
from workbench.jobs.inputs import refuse_outputs_on_inputs, scene_files

REPORT_NAME = "report.json"
"""The report's file name where the GUI writes it: beside the filters."""


@dataclass(frozen=True)
class ExportRequest:
    """design: what to export (a `DesignOutcome`: scene, redesign, probe distance); folder:
    where the filter files go (created); formats: `dsp.export.format_names()`; stem: file name
    stem; report_path: where the JSON report goes (None: no report); reads: the files the
    caller read to make the design (the scene file, a target curve): no output may replace one
    of them or of the files the scene refers to."""

    design: DesignOutcome
    folder: Path
    formats: tuple[str, ...]
    stem: str = "filters"
    report_path: Path | None = None
    reads: tuple[Path, ...] = ()

    def inputs(self) -> tuple[Path, ...]:
        """Every file the design was made from: the scene's files and `reads`."""
        return (*scene_files(self.design.scene), *(Path(p) for p in self.reads))


@dataclass
class ExportOutcome:
    """written: format → paths; report: the design report (`dsp.report.build_report` plus
    timing_ms.export and files: format → file names)."""

    written: dict[str, list[Path]]
    report: dict


def run(request: ExportRequest, state: TaskState | None = None) -> ExportOutcome:
    """Build the report, create the folder, write each format in turn (progress per format),
    then the report, all as one batch. OutputError when an output would replace an input: the
    report path before any work, the filter files (named by their writers) before any is
    replaced."""
    from dsp.report import build_report
    from sim.outputs import batch, write_text

    inputs = request.inputs()
    refuse_outputs_on_inputs([request.report_path], inputs)
    d = request.design
    report(state, 0.0, "measuring the design")
    doc = build_report(d.scene, d.redesign, probe_cm=d.probe_cm)
    request.folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, list[Path]] = {}
    n = len(request.formats)
    t = time.perf_counter()
    with batch():
        for k, fmt in enumerate(request.formats):
            report(state, 0.2 + 0.8 * k / n, f"writing {fmt}")
            written.update(export(d.filters, request.folder, [fmt], stem=request.stem))
        # Staged, not yet renamed: a file landing on an input is refused with none replaced.
        refuse_outputs_on_inputs([p for paths in written.values() for p in paths], inputs)
        doc["timing_ms"]["export"] = round(1e3 * (time.perf_counter() - t), 2)
        doc["files"] = {k: [p.name for p in v] for k, v in written.items()}
        if request.report_path is not None:
            write_text(request.report_path, json.dumps(doc, indent=2) + "\n")
    report(state, 1.0, "done")
    return ExportOutcome(written, doc)
