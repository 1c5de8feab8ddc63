"""Scene-mutation fuzzing: every preset, mutated by hypothesis, either loads to a valid object or
fails with one `SceneError` line — never another exception, never a hang.

Mutations (1 to 3 per mutant): delete a field or list entry, replace a value (wrong types, huge,
tiny, negative, NaN/inf, integer literals of hundreds or thousands of digits, long strings and
lists, odd Unicode, references to other presets and files), duplicate a list entry or a key,
move a value elsewhere, nest a value 2 to 5 000 levels deep, add unknown keys; and at the text
level truncate the file or break its UTF-8.

For every mutant: `validate_any` returns or raises SceneError (0 tracebacks); the error is one
line of at most 500 characters; the load takes under LOAD_TIME_LIMIT_S (0 hangs); and an
accepted mutant is really valid (0 wrong successes): it saves and loads back equal, and
independent invariants hold (finite numbers, positions inside the room, heads clear of drivers,
unique names, text fields are text).

CI runs FUZZ_EXAMPLES mutants per preset (15 presets); AWB_FUZZ_EXAMPLES=500 (or more) gives
the full run. With `-s` the module prints its figures: mutants, accepted, rejected, tracebacks,
longest error line, slowest load.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import fields, is_dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.presets import list_presets
from sim.scene import Device, Room, Scene
from sim.scene_fields import MAX_MESSAGE_CHARS
from sim.scene_io import (
    MIN_DRIVER_SPACING_M,
    SceneError,
    load_room,
    load_scene,
    save_scene,
    validate_any,
)
from sim.scene_json import room_to_dict

FUZZ_EXAMPLES = int(os.environ.get("AWB_FUZZ_EXAMPLES", "100"))
LOAD_TIME_LIMIT_S = 5.0
PRESETS = list_presets()
STATS = {"mutants": 0, "accepted": 0, "rejected": 0, "tracebacks": 0, "max_error_chars": 0,
         "max_load_s": 0.0}

_DEVICE_PRESET = next(p.path for p in PRESETS if p.kind == "device")
# Raw JSON text a mutation may splice in where a value was (json.dumps cannot write these).
_RAW_VALUES = [
    "1" + "0" * 309, "-" + "9" * 5000, "9" * 31, "1e999", "-1e999", "NaN", "Infinity",
    "-Infinity", "1" + "0" * 400 + ".5", "0." + "0" * 400 + "1",
    "[" + ",".join(["1.5"] * 200_000) + "]",
    "[" + ",".join(['{"name": "x", "position": [0.1, 0.2, 0.3]}'] * 2000) + "]",
    json.dumps("x" * 100_000), json.dumps(["a"] * 50_000),
]
_STRINGS = [
    "", " ", "\x00", "a\nb", "\u202e", "\ud800", "\udfff", "é", "🔊" * 30, "\u0301",
    "builtin:pink-noise", "builtin:nope", "~nosuchuser/x.sofa", "../../../../etc/passwd",
    "/dev/zero", "/dev/stdin", "/", ".", "a" * 5000, "default", "living-room", "hall",
    "anechoic", "studio", "soundbar-8", "echo-studio-like", "scene", "device", "room",
    "shoebox", "polygon", "omni", "cardioid", "piston", "sofa", "frd", "sphere", "talker", "noise",
    "rt60", "linoleum_on_concrete", str(_DEVICE_PRESET),
]
_KEYS = ["name", "kind", "type", "position", "drivers", "microphones", "listeners", "sources",
         "room", "device", "walls", "rt60", "material", "materials", "absorption", "floor",
         "height", "dimensions", "description", "schema_version", "simulation", "fs",
         "directivity", "hrtf", "file", "folder", "driver", "model", "zzz", "",
         "\u00e9t\u00e9", "a" * 300]

_numbers = st.one_of(
    st.sampled_from([0, -1, 1, 2, 3, -0.0, 1e-9, 5e-324, 1e308, -1e308, 2**63, -(2**63) - 1,
                     10**20, 10**29, 0.5, 0.0875, 48000, 192000, 1000, 999.0, 20.0, 10.0]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**30), 10**30),
)
_scalars = st.one_of(_numbers, st.sampled_from(_STRINGS), st.text(max_size=30), st.booleans(),
                     st.none())
_values = st.one_of(
    _scalars,
    st.lists(_scalars, max_size=5),
    st.lists(_numbers, min_size=2, max_size=4),
    st.dictionaries(st.sampled_from(_KEYS), _scalars, max_size=4),
    st.just([]), st.just({}),
)


def _paths(tree, prefix=()):
    """Every (path to a value) in the JSON tree, root excluded."""
    items = tree.items() if isinstance(tree, dict) else enumerate(tree)
    for k, v in items:
        yield (*prefix, k)
        if isinstance(v, (dict, list)):
            yield from _paths(v, (*prefix, k))


def _get(tree, path):
    for k in path:
        tree = tree[k]
    return tree


class _Raw:
    """Raw JSON text to splice in: stands in the tree as a unique placeholder string."""

    def __init__(self):
        self.texts: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        key = f"@@raw{len(self.texts)}@@"
        self.texts[key] = text
        return key

    def splice(self, text: str) -> str:
        for key, raw in self.texts.items():
            text = text.replace(json.dumps(key), raw)
        return text


def _mutate(draw, tree, raw: _Raw) -> None:
    paths = list(_paths(tree))
    op = draw(st.sampled_from(["delete", "replace", "replace", "raw", "duplicate", "move",
                               "nest", "unknown_key", "dup_key"]))
    if not paths:
        op = "unknown_key"
    path = draw(st.sampled_from(paths)) if paths else ()
    parent = _get(tree, path[:-1])
    key = path[-1] if path else None
    if op == "delete":
        del parent[key]
    elif op == "replace":
        parent[key] = draw(_values)
    elif op == "raw":
        parent[key] = raw(draw(st.sampled_from(_RAW_VALUES)))
    elif op == "duplicate" and isinstance(parent, list):
        parent.insert(key, json.loads(json.dumps(parent[key])))
    elif op == "move":
        parent[key] = json.loads(json.dumps(_get(tree, draw(st.sampled_from(paths)))))
    elif op == "nest":
        depth = draw(st.sampled_from([2, 5, 17, 50, 400, 1000, 5000]))
        bracket = draw(st.sampled_from(["[]", "{}"]))
        inner = json.dumps(parent[key], allow_nan=True)
        if bracket == "[]":
            parent[key] = raw("[" * depth + inner + "]" * depth)
        else:
            parent[key] = raw('{"a": ' * depth + inner + "}" * depth)
    elif op == "dup_key" and isinstance(parent, dict):
        value = json.dumps(parent[key], allow_nan=True)
        parent[key] = raw(f"{value}, {json.dumps(key)}: {json.dumps(draw(_values))}")
    else:  # unknown_key, or a list-only/dict-only operation on the other kind
        target = parent if isinstance(parent, dict) else tree
        target[draw(st.sampled_from(_KEYS))] = draw(_values)


@st.composite
def _mutant_text(draw, base: dict) -> bytes:
    tree = json.loads(json.dumps(base))
    raw = _Raw()
    for _ in range(draw(st.integers(1, 3))):
        _mutate(draw, tree, raw)
    text = raw.splice(json.dumps(tree, allow_nan=True, ensure_ascii=draw(st.booleans())))
    data = text.encode("utf-8", "surrogatepass")  # a lone surrogate makes it invalid UTF-8
    ending = draw(st.sampled_from(["whole"] * 8 + ["truncate", "bad_utf8"]))
    if ending == "truncate":
        data = data[:draw(st.integers(0, len(data)))]
    elif ending == "bad_utf8":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + b"\xff\xfe" + data[at:]
    return data


# ---------------------------------------------------------------------------------------------
# What an accepted mutant must satisfy, checked independently of the loader's own checks.


def _plain_values(obj):
    """Every leaf value of a dataclass tree."""
    if is_dataclass(obj):
        for f in fields(obj):
            yield from _plain_values(getattr(obj, f.name))
    elif isinstance(obj, (tuple, list)):
        for v in obj:
            yield from _plain_values(v)
    else:
        yield obj


def _check_leaves(obj) -> None:
    for v in _plain_values(obj):
        assert v is None or isinstance(v, (bool, int, float, str)), type(v)
        if isinstance(v, float):
            assert math.isfinite(v)
        if isinstance(v, str):
            v.encode("utf-8")  # no lone surrogates


def _check_device(dev: Device) -> None:
    assert 1 <= len(dev.drivers)
    pos = np.array([d.position_m for d in dev.drivers])
    assert np.all(np.abs(pos) <= 10.0)
    gaps = np.linalg.norm(pos[:, None] - pos[None], axis=-1) + np.eye(len(pos))
    assert gaps.min() >= MIN_DRIVER_SPACING_M
    assert len({d.name for d in dev.drivers}) == len(dev.drivers)
    assert len({m.name for m in dev.microphones}) == len(dev.microphones)


def _check_room(room: Room, folder: Path) -> None:
    if room.kind == "shoebox":
        assert all(0.0 < d <= 200.0 for d in room.dimensions_m)
    elif room.kind == "polygon":
        assert len(room.floor_m) >= 3 and 0.0 < room.height_m <= 200.0
    path = folder / "room_again.json"
    path.write_text(json.dumps({"schema_version": 1, "kind": "room", **room_to_dict(room)}))
    assert load_room(str(path)) == room


def _check_scene(scene: Scene, folder: Path) -> None:
    room, dev = scene.room, scene.device
    assert isinstance(scene.description, str) and isinstance(scene.name, str)
    assert 8000 <= scene.simulation.fs_hz <= 192000
    _check_device(dev)
    points = [dev.position_m, *dev.driver_positions(), *dev.mic_positions(),
              *(li.position_m for li in scene.listeners), *(s.position_m for s in scene.sources)]
    assert all(room.contains(np.asarray(p)) for p in points)
    for li in scene.listeners:
        gap = np.linalg.norm(dev.driver_positions() - np.asarray(li.position_m), axis=1).min()
        assert gap > li.head_radius_m
    assert len({li.name for li in scene.listeners}) == len(scene.listeners)
    assert len({s.name for s in scene.sources}) == len(scene.sources)
    path = folder / "scene_again.json"
    save_scene(scene, path)
    assert load_scene(path) == scene


def _check_accepted(kind: str, obj, folder: Path) -> None:
    _check_leaves(obj)
    if kind == "scene":
        _check_scene(obj, folder)
    elif kind == "device":
        _check_device(obj)
    else:
        _check_room(obj, folder)


def _load(path: Path):
    """(kind, object) or the SceneError; any other exception counts as a traceback."""
    t0 = time.perf_counter()
    try:
        return validate_any(str(path))
    except SceneError as e:
        return e
    except BaseException:
        STATS["tracebacks"] += 1
        raise
    finally:
        STATS["max_load_s"] = max(STATS["max_load_s"], time.perf_counter() - t0)
        assert time.perf_counter() - t0 < LOAD_TIME_LIMIT_S, "load too slow (a hang)"


@pytest.fixture(scope="module", autouse=True)
def _figures():
    validate_any("default")  # imports (pyroomacoustics) before the first timed load
    yield
    print(f"\nscene fuzz: {json.dumps(STATS)}")


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: f"{p.kind}:{p.name}")
def test_mutated_presets_load_or_fail_with_one_line(preset, tmp_path_factory):
    base = json.loads(preset.path.read_text())
    folder = tmp_path_factory.mktemp(f"fuzz-{preset.name}")

    @settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None,
              derandomize="AWB_FUZZ_EXAMPLES" not in os.environ,
              suppress_health_check=list(HealthCheck))
    @given(data=_mutant_text(base))
    def run(data: bytes) -> None:
        path = folder / "mutant.json"
        path.write_bytes(data)
        STATS["mutants"] += 1
        outcome = _load(path)
        if isinstance(outcome, SceneError):
            STATS["rejected"] += 1
            message = str(outcome)
            STATS["max_error_chars"] = max(STATS["max_error_chars"], len(message))
            assert len(message) <= MAX_MESSAGE_CHARS and "\n" not in message
        else:
            STATS["accepted"] += 1
            _check_accepted(*outcome, folder)

    run()
