"""`awb design`: a filter design exported in the chosen formats, with the design report (the
design and export jobs, the same the Design panel runs). No output may replace a file the
command reads (the scene file and the files it names, a target curve): exit 2, nothing written."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workbench.cli.errors import EXIT_OK, BadInput, out_dir, out_file, run_job


def _angles(text: str) -> tuple[float, ...]:
    """argparse type of --null-angles: degrees separated by commas."""
    from workbench.jobs.design import parse_angles

    angles = parse_angles(text)
    if angles is None:
        raise argparse.ArgumentTypeError(f"{text!r}: expected degrees like '90,-90'")
    return angles


def _measured_plant(path: str, scene, timing: str | None):
    """--measured-plant: the driver → ear IRs for the scene's device at its rate, its time axis
    read by --plant-timing (None: geometry)."""
    from dsp.plant_files import PlantError, read_measured_plant
    from dsp.plant_timing import PlantTiming

    try:
        return read_measured_plant(path, [d.name for d in scene.device.drivers],
                                   scene.simulation.fs_hz,
                                   PlantTiming(timing) if timing else PlantTiming.GEOMETRY)
    except PlantError as e:
        raise BadInput(f"--measured-plant {e}") from None


def _cmd_design(args) -> int:
    from dsp.export import format_names
    from dsp.params import DesignError, DesignParams
    from dsp.target_curve import load_target_curve
    from sim.scene_io import load_scene
    from workbench.jobs import design, export
    from workbench.jobs.design import DesignRequest
    from workbench.jobs.export import ExportRequest
    from workbench.jobs.inputs import refuse_outputs_on_inputs, scene_inputs

    formats = tuple(f.strip() for f in args.format.split(",") if f.strip())
    unknown = [f for f in formats if f not in format_names()]
    if unknown:
        raise BadInput(f"--format {','.join(unknown)}: unknown (choose from"
                       f" {','.join(format_names())})")
    out = out_dir("--out", args.out)
    report_path = out_file("--report", args.report) if args.report else None
    if args.plant_timing and not args.measured_plant:
        raise BadInput("--plant-timing: reads the timing of a --measured-plant; none given")
    scene = load_scene(args.scene)
    plant = (_measured_plant(args.measured_plant, scene, args.plant_timing)
             if args.measured_plant else None)
    target_file = (Path(args.target_curve),) if args.target_curve else ()
    reads = (*scene_inputs(args.scene, scene), *target_file, *(plant.files if plant else ()))
    # The report's name is known now; the filter files' are checked before any is replaced.
    refuse_outputs_on_inputs([report_path], reads)
    try:
        target = load_target_curve(args.target_curve) if args.target_curve else None
        params = DesignParams(method=args.method, n_taps=args.taps, delay_samples=args.delay,
                              max_effort_db=args.max_effort_db, target=target,
                              robust_cm=args.robust_cm, listener=args.listener,
                              null_angles_deg=args.null_angles,
                              lobe_half_width_deg=args.lobe_half_width,
                              null_gain_db=args.null_gain_db,
                              virtual_angle_deg=args.virtual_angle, plant=plant)
        d = run_job(design.run, DesignRequest(scene, params, args.probe_cm))
        done = run_job(export.run, ExportRequest(d, out, formats, args.stem, report_path,
                                                  reads))
    except DesignError as e:
        raise BadInput(f"design: {e}") from None
    f, rep = d.filters, done.report
    n = sum(len(v) for v in done.written.values())
    print(f"wrote {n} files to {out}: {params.method}, {f.n_inputs} inputs ->"
          f" {f.n_drivers} drivers, {params.n_taps} taps, effort"
          f" {rep['effort_db']:.1f} dB, FIR error {rep['fir_error_db']:.1f} dB, {rep['plant']}"
          " plant" + (f" ({rep['plant_timing']} timing)" if plant else ""))
    print("latency per output: " + ", ".join(f"{o['output']} {o['ms']:g} ms ({o['samples']:g})"
                                             for o in rep["latency"]["outputs"]))
    if "rtf" in rep:
        print(f"RTF form (reference {rep['rtf']['reference_driver']} + relative filters):"
              f" realization error {rep['rtf']['realization_error_db']:.1f} dB")
    for w in d.redesign.design.warnings:
        print(f"warning: {w}", file=sys.stderr)
    return EXIT_OK


def register(subparsers) -> None:
    """Add `design` to awb's subparsers."""
    from dsp.export import format_names
    from dsp.params import DesignParams
    from dsp.plant_timing import PlantTiming

    d = DesignParams()
    des = subparsers.add_parser("design",
                                help="design CTC / null-steering / beam / virtualizer filters")
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
    des.add_argument("--null-angles", type=_angles, default=d.null_angles_deg, metavar="DEG,…",
                     help="beam: null directions, device frame, ccw (default 90,-90; write"
                     " --null-angles=-90,90 when the first is negative)")
    des.add_argument("--lobe-half-width", type=float, default=d.lobe_half_width_deg,
                     metavar="DEG", help="beam: main lobe kept flat over ± this (default"
                     " %(default)s)")
    des.add_argument("--null-gain-db", type=float, default=d.null_gain_db, metavar="DB",
                     help="beam: level asked for at the nulls re on-axis (default %(default)s)")
    des.add_argument("--virtual-angle", type=float, default=d.virtual_angle_deg, metavar="DEG",
                     help="virtualizer: virtual pair at ± this (default %(default)s)")
    des.add_argument("--measured-plant", metavar="FILE.sofa|DIR",
                     help="design on measured driver → ear IRs of the listener: a SOFA file"
                     " (SingleRoomMIMOSRIR or MultiSpeakerBRIR) or a folder of <driver>.wav"
                     " (2 channels: left, right ear)")
    des.add_argument("--plant-timing", choices=[t.value for t in PlantTiming],
                     help="time between the drivers of --measured-plant: geometry (default: each"
                     " driver aligned on its own, the time between drivers from the scene; for"
                     " drivers measured one after another) or measured (one shift for all, the"
                     " file's time between drivers kept; for one synchronous capture)")
    des.add_argument("--out", required=True, metavar="DIR")
    des.add_argument("--stem", default="filters", help="file name stem of the exports")
    des.add_argument("--format", default=",".join(format_names()),
                     help=f"comma-separated export formats: {', '.join(format_names())}")
    des.add_argument("--probe-cm", type=float, default=5.0)
    des.add_argument("--report", metavar="REPORT.json")
    des.set_defaults(func=_cmd_design)

