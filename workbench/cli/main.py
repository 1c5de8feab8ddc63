"""`awb`, the command line beside the GUI: the same functions, no Qt.

Exit status: 0 success, 2 bad input (one line on stderr naming the file and field),
130 interrupted. Wherever a FILE is taken, a preset name works too (`awb presets list`).
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from sim.jobs import Cancelled, TaskState

EXIT_OK, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 2, 130


class BadInput(Exception):
    """A user error to report on one line with exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not the whole usage block
        raise BadInput(f"{message} (see '{self.prog} --help')")


def _cmd_presets_list(args) -> int:
    from sim.presets import list_presets

    rows = list_presets(args.kind)
    width = max(len(p.name) for p in rows)
    for p in rows:
        print(f"{p.kind:<7} {p.name:<{width}}  {p.description}")
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


def _progress_printer(quiet: bool):
    if quiet:
        return None
    last = [-1]

    def show(fraction: float, message: str) -> None:
        pct = int(fraction * 100)
        if pct // 10 != last[0] // 10 or fraction >= 1.0:
            last[0] = pct
            print(f"  {pct:3d}%  {message}", file=sys.stderr)

    return show


def _cmd_simulate(args) -> int:
    from sim.scene_io import load_scene
    from sim.transfer import simulate

    scene = load_scene(args.scene)
    out = Path(args.out)
    if not out.parent.is_dir():
        raise BadInput(f"--out {out}: folder {out.parent} does not exist")
    if out.suffix != ".npz":
        raise BadInput(f"--out {out}: expected a .npz file name")
    if args.talkers and not scene.device.microphones:
        raise BadInput(f"--talkers: device {scene.device.name!r} has no microphones")
    state = TaskState(_progress_printer(args.quiet))
    previous = signal.signal(signal.SIGINT, lambda *_: state.cancel())
    try:
        result = simulate(scene, args.engine, fs_hz=args.fs, talkers=args.talkers,
                          early_only=args.early_only, state=state)
    finally:
        signal.signal(signal.SIGINT, previous)
    result.save_npz(out)
    n_d, n_l, _, n_t = result.ir.shape
    extra = f", ir_mic {result.ir_mic.shape}" if result.ir_mic is not None else ""
    print(f"wrote {out}: ir ({n_d} drivers, {n_l} listeners, 2 ears, {n_t} taps) at"
          f" {result.fs_hz} Hz, engine {result.engine}{extra}")
    return EXIT_OK


def _cmd_design(args) -> int:
    import json
    import time

    from dsp.design import redesign
    from dsp.export import export, format_names
    from dsp.params import DesignError, DesignParams
    from dsp.report import build_report
    from dsp.target_curve import load_target_curve
    from sim.scene_io import atomic_write_text, load_scene

    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    unknown = [f for f in formats if f not in format_names()]
    if unknown:
        raise BadInput(f"--format {','.join(unknown)}: unknown (choose from"
                       f" {','.join(format_names())})")
    out = Path(args.out)
    if not out.parent.is_dir():
        raise BadInput(f"--out {out}: folder {out.parent} does not exist")
    if args.report and not Path(args.report).parent.is_dir():
        raise BadInput(f"--report {args.report}: folder {Path(args.report).parent} does not exist")
    scene = load_scene(args.scene)
    try:
        target = load_target_curve(args.target_curve) if args.target_curve else None
        params = DesignParams(method=args.method, n_taps=args.taps, delay_samples=args.delay,
                              max_effort_db=args.max_effort_db, target=target,
                              robust_cm=args.robust_cm, listener=args.listener)
        r = redesign(scene, params)
        report = build_report(scene, r, probe_cm=args.probe_cm)
    except DesignError as e:
        raise BadInput(f"design: {e}") from None
    out.mkdir(exist_ok=True)
    t = time.perf_counter()
    written = export(r.design.filters, out, formats, stem=args.stem)
    report["timing_ms"]["export"] = round(1e3 * (time.perf_counter() - t), 2)
    report["files"] = {k: [p.name for p in v] for k, v in written.items()}
    if args.report:
        atomic_write_text(args.report, json.dumps(report, indent=2) + "\n")
    n = sum(len(v) for v in written.values())
    print(f"wrote {n} files to {out}: {params.method}, {r.design.filters.n_inputs} inputs ->"
          f" {r.design.filters.n_drivers} drivers, {params.n_taps} taps, effort"
          f" {report['effort_db']:.1f} dB, FIR error {report['fir_error_db']:.1f} dB")
    for w in r.design.warnings:
        print(f"warning: {w}", file=sys.stderr)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    from dsp.export import format_names
    from workbench import __version__

    p = _Parser(prog="awb", description="Acoustic Workbench command line.")
    p.add_argument("--version", action="version", version=f"awb {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    presets = sub.add_parser("presets", help="shipped presets")
    presets_sub = presets.add_subparsers(dest="action", required=True, parser_class=_Parser)
    pl = presets_sub.add_parser("list", help="list presets with their kinds")
    pl.add_argument("--kind", choices=("device", "room", "scene"))
    pl.set_defaults(func=_cmd_presets_list)

    scene = sub.add_parser("scene", help="scene files")
    scene_sub = scene.add_subparsers(dest="action", required=True, parser_class=_Parser)
    sv = scene_sub.add_parser("validate", help="check a scene, device or room file or preset")
    sv.add_argument("scene", metavar="FILE|PRESET")
    sv.set_defaults(func=_cmd_scene_validate)

    sim = sub.add_parser("simulate", help="driver → ear impulse responses to an NPZ file")
    sim.add_argument("scene", metavar="FILE|PRESET")
    sim.add_argument("--engine", choices=("freefield", "room"), default="freefield")
    sim.add_argument("--fs", type=int, default=None, help="sample rate in Hz (default: scene)")
    sim.add_argument("--talkers", action="store_true",
                     help="also talker/noise → device microphone RIRs (ir_mic)")
    sim.add_argument("--early-only", action="store_true",
                     help="room engine: first reflections only (fast, for interaction)")
    sim.add_argument("--out", required=True, metavar="OUT.npz")
    sim.add_argument("--quiet", action="store_true", help="no progress on stderr")
    sim.set_defaults(func=_cmd_simulate)

    des = sub.add_parser("design", help="design CTC / null-steering / beam / virtualizer filters")
    des.add_argument("scene", metavar="FILE|PRESET")
    des.add_argument("--method", choices=("ctc", "nullsteer", "beam", "virtualizer"),
                     required=True)
    des.add_argument("--taps", type=int, default=1024)
    des.add_argument("--delay", type=int, default=None, help="modelling delay in samples"
                     " (default taps/2)")
    des.add_argument("--max-effort-db", type=float, default=18.0)
    des.add_argument("--target-curve", metavar="FILE", help="CSV 'freq_hz, gain_db' or JSON")
    des.add_argument("--robust-cm", type=float, default=0.0,
                     help="optimize over ± this lateral head displacement")
    des.add_argument("--listener", type=int, default=0)
    des.add_argument("--out", required=True, metavar="DIR")
    des.add_argument("--stem", default="filters", help="file name stem of the exports")
    des.add_argument("--format", default=",".join(format_names()),
                     help=f"comma-separated export formats: {', '.join(format_names())}")
    des.add_argument("--probe-cm", type=float, default=5.0)
    des.add_argument("--report", metavar="REPORT.json")
    des.set_defaults(func=_cmd_design)

    from workbench.cli import dred as cli_dred
    from workbench.cli import enhance as cli_enhance
    from workbench.cli import render as cli_render
    from workbench.cli import sweep as cli_sweep

    cli_render.register(sub)
    cli_enhance.register(sub)
    cli_dred.register(sub)
    cli_sweep.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    from sim.scene_io import SceneError
    from sim.sofa import SofaError

    try:
        args = build_parser().parse_args(argv)
        if getattr(args, "fs", None) is not None and not 8000 <= args.fs <= 192000:
            raise BadInput(f"--fs = {args.fs} Hz is outside 8000 .. 192000 Hz")
        return args.func(args)
    except (BadInput, SceneError, SofaError) as e:
        print(f"awb: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Cancelled:
        print("awb: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as e:
        print(f"awb: error: {e.filename or ''}: {e.strerror or e}", file=sys.stderr)
        return EXIT_BAD_INPUT

