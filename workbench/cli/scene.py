"""`awb presets list`, `awb scene validate` and `awb scene export-frd`: the shipped presets,
the user's device library, scene files, and a driver's directivity written as a folder of FRD
files."""

from __future__ import annotations

import sys

from workbench.cli.errors import EXIT_OK, BadInput, Parser


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


def _cmd_export_frd(args) -> int:
    from pathlib import Path

    from sim.directivity.frd_files import write_frd_folder
    from sim.scene_io import validate_any

    kind, obj = validate_any(args.scene)
    if kind == "room":
        raise BadInput(f"{args.scene}: a room has no drivers; expected a scene or device")
    device = obj.device if kind == "scene" else obj
    driver = next((d for d in device.drivers if d.name == args.driver), None)
    if driver is None:
        raise BadInput(f"{args.scene}: no driver {args.driver!r} (drivers: "
                       f"{', '.join(d.name for d in device.drivers)})")
    out = Path(args.out)
    source = driver.directivity.file
    if source and Path(source).resolve() == out.resolve():
        raise BadInput(f"{out}: the driver's own FRD folder; expected another folder")
    step = args.step
    if not 0.0 < step <= 30.0:
        raise BadInput(f"--step {step:g}: expected 0 < step ≤ 30 degrees")
    angles = [-180.0 + step * (k + 1) for k in range(int(360.0 / step + 1e-9))]
    fs = obj.simulation.fs_hz if kind == "scene" else 48000
    c = obj.simulation.c_m_s if kind == "scene" else 343.0
    paths = write_frd_folder(driver.directivity, out, args.name or driver.name, angles,
                             vertical=args.vertical, c=c, fs_hz=fs)
    print(f"wrote {len(paths)} FRD files of {driver.name!r} ({driver.directivity.describe()})"
          f" into {out}")
    return EXIT_OK


def register(subparsers) -> None:
    """Add `presets list`, `scene validate` and `scene export-frd` to awb's subparsers."""
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
    fe = scene_sub.add_parser("export-frd", help="write a driver's directivity as FRD files,"
                              " one per angle (readable back as type \"frd\")")
    fe.add_argument("scene", metavar="FILE|PRESET", help="scene or device")
    fe.add_argument("--driver", required=True, help="driver name")
    fe.add_argument("--out", required=True, metavar="FOLDER", help="folder (created)")
    fe.add_argument("--step", type=float, default=10.0, help="angle step, degrees (10)")
    fe.add_argument("--vertical", action="store_true", help="also the vertical plane")
    fe.add_argument("--name", default="", help="file name prefix (default: the driver's)")
    fe.set_defaults(func=_cmd_export_frd)
