"""Field paths into JSON-like data, as the scene validation messages write them.

A path is dotted keys with list indices, e.g. ``listeners[0].position[1]``,
``room.walls.rt60`` or ``design.max_effort_db``. `parse_path` splits it into steps (keys and
indices), `get_path` reads a value, `with_values` returns a copy with values replaced (the
original is left alone, so one base scene serves every case).
"""

from __future__ import annotations

import copy
import re
from typing import Any

_STEP = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d{1,6})\]")


def parse_path(path: str) -> tuple[str | int, ...]:
    """Steps of `path` (keys str, indices int); ValueError if it is not a field path."""
    steps: list[str | int] = []
    pos = 0
    while pos < len(path):
        if steps and path[pos] == "." and pos + 1 < len(path) and path[pos + 1] != "[":
            pos += 1
        elif steps and path[pos] != "[":
            raise ValueError(f"{path!r} is not a field path (at character {pos + 1})")
        m = _STEP.match(path, pos)
        if m is None or (not steps and m.group(2) is not None):
            raise ValueError(f"{path!r} is not a field path (at character {pos + 1})")
        steps.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    if not steps:
        raise ValueError("an empty field path")
    return tuple(steps)


def format_path(steps: tuple[str | int, ...]) -> str:
    """The path text of `steps` (inverse of `parse_path`)."""
    out = ""
    for s in steps:
        out += f"[{s}]" if isinstance(s, int) else (f".{s}" if out else s)
    return out


def get_path(data: Any, steps: tuple[str | int, ...]) -> Any:
    """The value at `steps`; KeyError naming the first step that is not there."""
    node = data
    for k, s in enumerate(steps):
        if isinstance(s, int):
            ok = isinstance(node, list) and s < len(node)
        else:
            ok = isinstance(node, dict) and s in node
        if not ok:
            raise KeyError(format_path(steps[:k + 1]))
        node = node[s]
    return node


def with_values(data: Any, values: dict[tuple[str | int, ...], Any]) -> Any:
    """A deep copy of `data` with the value at each path (which must exist) replaced."""
    out = copy.deepcopy(data)
    for steps, value in values.items():
        get_path(out, steps)
        node = out
        for s in steps[:-1]:
            node = node[s]
        node[steps[-1]] = value
    return out


def number_paths(data: Any, prefix: tuple[str | int, ...] = ()) -> list[str]:
    """Paths of every number (not bool) in `data`, in document order (what a sweep can vary)."""
    if isinstance(data, dict):
        items = data.items()
    elif isinstance(data, list):
        items = enumerate(data)
    else:
        ok = isinstance(data, (int, float)) and not isinstance(data, bool)
        return [format_path(prefix)] if ok and prefix else []
    return [p for k, v in items for p in number_paths(v, (*prefix, k))]
