"""`awb presets list` and `awb scene validate`: the shipped presets, the user's device library
and scene files."""

from __future__ import annotations

import sys

from workbench.cli.errors import EXIT_OK, Parser


def _cmd_presets_list(args) -> int:
    """One line per preset ("kind name description"), the library's devices after the
    shipped devices, marked "[library: PATH]"; a library file that does not load is one line on
    stderr and the others are still listed."""
    from sim import device_library
    from sim.presets import KINDS, list_presets

    rows = [(p.kind, p.name, p.description) for p in list_presets(args.kind)]
    problems: tuple[str, ...] = ()
    if args.kind in (None, "device"):
        library = device_library.scan()
        problems = library.problems
        rows += [("device", d.name, f"[library: {d.path}] {d.description}".rstrip())
                 for d in library.devices]
        rows.sort(key=lambda row: KINDS.index(row[0]))  # stable: beside the shipped devices
    width = max(len(name) for _kind, name, _d in rows)
    for kind, name, description in rows:
        print(f"{kind:<7} {name:<{width}}  {description}")
    for line in problems:
        print(f"awb: warning: library device skipped: {line}", file=sys.stderr)
    return EXIT_OK


def _summary(kind: str, obj) -> str:
    if kind == "scene":
        dev = obj.device
        room = obj.room.kind if not obj.room.name else f"{obj.room.name} ({obj.room.kind})"
        return (f"scene {obj.name!r}: room {room}, device {dev.name!r} with {len(dev.drivers)}"
                f" drivers and {len(dev.microphones)} microphones, {len(obj.listeners)}"
                f" listeners, {len(obj.sources)} sources, {obj.simulation.fs_hz} Hz")
    if kind == "device":
        return f"device {obj.name!r}: {len(obj.drivers)} drivers, {len(obj.microphones)} mics"
    return f"room {obj.name or obj.kind!r}: {obj.kind}"


def _cmd_scene_validate(args) -> int:
    from sim.scene_io import validate_any

    kind, obj = validate_any(args.scene)
    print(f"ok: {_summary(kind, obj)}")
    return EXIT_OK


def register(subparsers) -> None:
    """Add `presets list` and `scene validate` to awb's subparsers."""
    presets = subparsers.add_parser("presets", help="shipped presets and library devices")
    presets_sub = presets.add_subparsers(dest="action", required=True, parser_class=Parser)
    pl = presets_sub.add_parser("list", help="list presets with their kinds")
    pl.add_argument("--kind", choices=("device", "room", "scene"))
    pl.set_defaults(func=_cmd_presets_list)

    scene = subparsers.add_parser("scene", help="scene files")
    scene_sub = scene.add_subparsers(dest="action", required=True, parser_class=Parser)
    sv = scene_sub.add_parser("validate", help="check a scene, device or room file or preset")
    sv.add_argument("scene", metavar="FILE|PRESET")
    sv.set_defaults(func=_cmd_scene_validate)
