"""`awb simulate`: driver → ear impulse responses of a scene to an NPZ file (the transfer job)."""

from __future__ import annotations

from pathlib import Path

from workbench.cli.errors import EXIT_OK, BadInput, out_file, run_job

FS_RANGE_HZ = (8000, 192000)


def _cmd_simulate(args) -> int:
    from sim.scene_io import load_scene
    from workbench.jobs import transfer
    from workbench.jobs.inputs import refuse_outputs_on_inputs, scene_inputs
    from workbench.jobs.transfer import TransferRequest

    lo, hi = FS_RANGE_HZ
    if args.fs is not None and not lo <= args.fs <= hi:
        raise BadInput(f"--fs = {args.fs} Hz is outside {lo} .. {hi} Hz")
    scene = load_scene(args.scene)
    out = out_file("--out", args.out, ".npz")
    refuse_outputs_on_inputs([out], scene_inputs(args.scene, scene))
    if args.talkers and not scene.device.microphones:
        raise BadInput(f"--talkers: device {scene.device.name!r} has no microphones")
    request = TransferRequest(scene, args.engine, fs_hz=args.fs, talkers=args.talkers,
                              early_only=args.early_only)
    plant = Path(args.plant) if args.plant else None
    if plant is not None:
        if not plant.parent.is_dir():
            raise BadInput(f"--plant {plant}: folder {plant.parent} does not exist")
        if not scene.listeners:
            raise BadInput(f"--plant: scene {scene.name!r} has no listener")
        refuse_outputs_on_inputs([plant], scene_inputs(args.scene, scene))
    result = run_job(transfer.run, request, args.quiet)
    result.save_npz(out)
    if plant is not None:
        from dsp.plant_files import write_plant_sofa, write_plant_wavs

        if plant.suffix.lower() == ".sofa":
            write_plant_sofa(plant, result, scene)
        else:
            write_plant_wavs(plant, result, scene)
        print(f"wrote {plant}: the plant of {scene.listeners[0].name!r}")
    n_d, n_l, _, n_t = result.ir.shape
    extra = f", ir_mic {result.ir_mic.shape}" if result.ir_mic is not None else ""
    print(f"wrote {out}: ir ({n_d} drivers, {n_l} listeners, 2 ears, {n_t} taps) at"
          f" {result.fs_hz} Hz, engine {result.engine}{extra}")
    return EXIT_OK


def register(subparsers) -> None:
    """Add `simulate` to awb's subparsers."""
    sim = subparsers.add_parser("simulate", help="driver → ear impulse responses to an NPZ file")
    sim.add_argument("scene", metavar="FILE|PRESET")
    sim.add_argument("--engine", choices=("freefield", "room"), default="freefield")
    sim.add_argument("--fs", type=int, default=None, help="sample rate in Hz (default: scene)")
    sim.add_argument("--talkers", action="store_true",
                     help="also talker/noise → device microphone RIRs (ir_mic)")
    sim.add_argument("--early-only", action="store_true",
                     help="room engine: first reflections only (fast, for interaction)")
    sim.add_argument("--out", required=True, metavar="OUT.npz")
    sim.add_argument("--plant", metavar="FILE.sofa|DIR",
                     help="also write the first listener's driver → ear IRs as a measured plant"
                     " (awb design --measured-plant): a SOFA file, or a folder of"
                     " <driver>.wav")
    sim.add_argument("--quiet", action="store_true", help="no progress on stderr")
    sim.set_defaults(func=_cmd_simulate)
