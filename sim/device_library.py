"""The user's device library: validated device files in the per-user data folder.

Where: `sim.user_data.library_dir()`, the `devices/` folder of the per-user data folder
(AWB_DATA_DIR overrides it), one `<name>.json` device file per device, in the format of the
shipped presets/devices/*.json (presets/SCHEMA.md), read by `sim.scene_io.load_device`, which
also takes a library device's name wherever a device preset's is taken.

Reading: `scan()` loads and validates every file; a file that does not load becomes one line
in `Library.problems` naming the file and what is wrong, and never hides the others.
Writing: `save(device, name)` writes through `sim.scene_io.save_device` (validated first,
atomic via `sim.outputs`). A library name is a file name: letters, digits, space, ".", "_"
and "-", at most 64 characters, starting with a letter or digit and not ending in "." or a
space (names every platform's file system keeps as typed). The name of a shipped device
preset is refused (the library never shadows a preset), and an existing library device of the
same name (compared without case, as some file systems do) raises `NameClash` unless
`replace_existing=True` (the file then keeps its name's spelling).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from sim.presets import find_preset, list_presets
from sim.scene import Device
from sim.scene_fields import SceneError, read_json
from sim.scene_io import load_device, save_device
from sim.user_data import library_dir

NAME_PATTERN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9 ._-]{0,62}[A-Za-z0-9_-])?")


class NameClash(SceneError):
    """A library device of that name exists (`path`); save again with `replace_existing`."""

    def __init__(self, name: str, path: Path):
        super().__init__(f"the library already holds a device named {name!r} ({path})", "name")
        self.path = path


@dataclass(frozen=True)
class LibraryDevice:
    """One loaded library file: `name` (its file name without .json), `path`, the file's
    `description` and the validated `device` (local frame, placed at the origin)."""

    name: str
    path: Path
    description: str
    device: Device


@dataclass(frozen=True)
class Library:
    """What `scan()` found: the devices that load, by name, and one line per file that does
    not ("<file>: <what is wrong>")."""

    devices: tuple[LibraryDevice, ...]
    problems: tuple[str, ...]

    def find(self, name: str) -> LibraryDevice | None:
        return next((d for d in self.devices if d.name == name), None)


@dataclass(frozen=True)
class OfferedDevice:
    """A device a user can pick: a shipped preset (`library` False) or a library device."""

    name: str
    description: str
    path: Path
    library: bool


def _description(path: Path) -> str:
    data = read_json(path)  # already read once by load_device: a valid device file
    return str(data.get("description", ""))


def scan() -> Library:
    """Every device file of the library, loaded and validated, sorted by name."""
    folder = library_dir()
    paths = sorted(folder.glob("*.json"), key=lambda p: p.name.lower()) if folder.is_dir() \
        else []
    devices, problems = [], []
    for path in paths:
        if find_preset(path.stem, "device") is not None:
            problems.append(f"{path}: has the name of a shipped device preset, which takes"
                            " precedence; rename the file")
            continue
        try:
            device = load_device(str(path))
        except SceneError as e:
            problems.append(str(e) if e.file else f"{path}: {e}")
            continue
        devices.append(LibraryDevice(path.stem, path, _description(path), device))
    return Library(tuple(devices), tuple(problems))


def offered(library: Library | None = None) -> list[OfferedDevice]:
    """The shipped device presets, then the library's devices (`scan()` when not given)."""
    library = scan() if library is None else library
    return ([OfferedDevice(p.name, p.description, p.path, False)
             for p in list_presets("device")]
            + [OfferedDevice(d.name, d.description, d.path, True) for d in library.devices])


def check_name(name: str) -> str:
    """`name` stripped, if it can name a library device; SceneError says why not."""
    name = name.strip()
    if not NAME_PATTERN.fullmatch(name):
        raise SceneError(f"name = {name!r}: a library name is 1 to 64 letters, digits, spaces,"
                         " '.', '_' or '-', starting with a letter or digit and not ending in"
                         " '.'", "name")
    if find_preset(name, "device") is not None:
        raise SceneError(f"name = {name!r} is a shipped device preset; choose another name",
                         "name")
    return name


def save(device: Device, name: str, description: str = "", replace_existing: bool = False
         ) -> Path:
    """Write `device`, renamed `name`, to the library as `<name>.json`; returns the path.

    Raises SceneError (a bad or shipped name, a device that does not validate), NameClash
    (a library device of that name exists and `replace_existing` is False) or OSError.
    """
    name = check_name(name)
    folder = library_dir()
    same = [p for p in folder.glob("*.json") if p.stem.lower() == name.lower()] \
        if folder.is_dir() else []
    if same and not replace_existing:
        raise NameClash(name, same[0])
    folder.mkdir(parents=True, exist_ok=True)
    path = same[0] if same else folder / f"{name}.json"  # a replaced file keeps its name
    save_device(replace(device, name=name, model=name), path, description)
    return path
