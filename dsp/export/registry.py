"""The export formats, each declared once: name, dialog label, file suffix and writer.

A format module builds its `ExportFormat` and `register`s it when imported (`dsp.export`
imports them all, in the order they are offered). The CLI's `--format` choices, the export
dialog's check boxes and `dsp.export.export` all read this registry, so a new format is one
new module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dsp.filterset import FilterSet

Writer = Callable[[FilterSet, Path, str], list[Path]]
"""write(filters, out_dir, stem) → the paths written (the main file first), each atomically."""


@dataclass(frozen=True)
class ExportFormat:
    """name: the CLI and settings name ("wav"); label: the dialog's text; suffix: the suffix
    of the main file the writer makes (".wav"); write: the `Writer`."""

    name: str
    label: str
    suffix: str
    write: Writer


_REGISTRY: dict[str, ExportFormat] = {}


def register(fmt: ExportFormat) -> ExportFormat:
    """Offer `fmt` (after those registered before it); returns it."""
    if fmt.name in _REGISTRY:
        raise ValueError(f"export format {fmt.name!r} is registered twice")
    _REGISTRY[fmt.name] = fmt
    return fmt


def export_formats() -> tuple[ExportFormat, ...]:
    """Every registered format, in the order they are offered."""
    return tuple(_REGISTRY.values())


def format_names() -> tuple[str, ...]:
    """Names of every registered format, in the order they are offered."""
    return tuple(_REGISTRY)


def get_format(name: str) -> ExportFormat:
    """The format registered as `name`; ValueError names the known ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown export format {name!r}; known: "
                         f"{', '.join(_REGISTRY)}") from None
