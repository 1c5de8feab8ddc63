"""Filter export: one module per format, each writing atomically into a folder and returning
the paths it wrote. `export(filters, out_dir, formats)` runs several.

Formats: wav, csv, npz, json, c, camilladsp, eqapo, sofa.
"""

from __future__ import annotations

from pathlib import Path

from dsp.filterset import FilterSet

FORMATS = ("wav", "csv", "npz", "json", "c", "camilladsp", "eqapo", "sofa")


def export(filters: FilterSet, out_dir: str | Path, formats=FORMATS,
           stem: str = "filters") -> dict[str, list[Path]]:
    """Write `filters` in each format into out_dir (must exist); returns format → paths."""
    from dsp.export import c_header, camilladsp, csv_text, eqapo, json_file, npz, sofa, wav

    writers = {"wav": wav.write, "csv": csv_text.write, "npz": npz.write,
               "json": json_file.write, "c": c_header.write, "camilladsp": camilladsp.write,
               "eqapo": eqapo.write, "sofa": sofa.write}
    out = Path(out_dir)
    unknown = [f for f in formats if f not in writers]
    if unknown:
        raise ValueError(f"unknown export format(s) {', '.join(unknown)}; known: "
                         f"{', '.join(FORMATS)}")
    return {f: writers[f](filters, out, stem) for f in formats}
