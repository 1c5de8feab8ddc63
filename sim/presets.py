"""The shipped presets: JSON files for devices, rooms and scenes in the `presets` package."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

KINDS = ("device", "room", "scene")
_FOLDERS = {"device": "devices", "room": "rooms", "scene": "scenes"}


@dataclass(frozen=True)
class PresetInfo:
    name: str
    kind: str
    description: str
    path: Path


def _root() -> Path:
    return Path(str(resources.files("presets")))


def list_presets(kind: str | None = None) -> list[PresetInfo]:
    """All shipped presets (optionally one kind), sorted by kind then name."""
    out = []
    for k in KINDS if kind is None else (kind,):
        for path in sorted((_root() / _FOLDERS[k]).glob("*.json")):
            data = json.loads(path.read_text())
            out.append(PresetInfo(path.stem, k, data.get("description", ""), path))
    return out


def find_preset(name: str, kind: str | None = None) -> PresetInfo | None:
    """The preset called `name` (of `kind` if given), or None."""
    for info in list_presets(kind):
        if info.name == name:
            return info
    return None
