"""Filter export: one module per format, each registered once (`dsp.export.registry`) and
writing through `sim.outputs` into a folder. `export(filters, out_dir, formats)` runs several
as one `sim.outputs.batch`: if any file fails (a read-only target, a full disk), none is
replaced.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from dsp.filterset import FilterSet
from sim.outputs import batch

# Importing a format module registers it; the import order is the order formats are offered.
# isort: off
from dsp.export import wav, csv_text, npz, json_file, c_header, camilladsp, eqapo, sofa
# isort: on
from dsp.export.registry import ExportFormat, export_formats, format_names, get_format

__all__ = [
    "ExportFormat",
    "c_header",
    "camilladsp",
    "csv_text",
    "eqapo",
    "export",
    "export_formats",
    "format_names",
    "get_format",
    "json_file",
    "npz",
    "sofa",
    "wav",
]


def export(filters: FilterSet, out_dir: str | Path, formats: Sequence[str] | None = None,
           stem: str = "filters") -> dict[str, list[Path]]:
    """Write `filters` in each named format (default: all) into out_dir (must exist); returns
    format → paths. A beam's RTF form (`FilterSet.rtf`) is written beside the full weights in
    the same formats, as `{stem}_rtf_reference*` and `{stem}_rtf_relative*`. Unknown names
    raise ValueError before anything is written."""
    chosen = [get_format(name) for name in (format_names() if formats is None else formats)]
    out = Path(out_dir)
    parts = [(filters, stem)]
    if filters.rtf is not None:
        parts += [(filters.rtf.reference, f"{stem}_rtf_reference"),
                  (filters.rtf.relative, f"{stem}_rtf_relative")]
    with batch():
        return {fmt.name: [p for fs, name in parts for p in fmt.write(fs, out, name)]
                for fmt in chosen}
