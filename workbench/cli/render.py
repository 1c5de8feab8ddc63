"""`awb render` and `awb upmix`: the spatial renderer and the upmix from the command line.

    awb render FILE|PRESET INPUT.wav --out DIR [--path A|B|X|all] [--block 256]
               [--engine freefield|room] [--early-only] [--lr-method ...] [--c-method ...]
               [--design-space freefield|room_early] [--early-window-ms 20]
               [--room-max-hz 2000]
    awb upmix INPUT.wav --out DIR [--centre-width 0.01] [--smoothing-ms 20] ...

render writes drivers.wav (N channels), binaural_A/B/X.wav (as requested) and report.json
(latency, loudness, peaks, real-time factor, interaural cues: steady state and first
wavefront; the design space used is `render.methods.space`); upmix writes L.wav, R.wav, C.wav
aligned with the input (its latency removed). Any input rate (resampled to the scene's rate
with soxr for render; kept for upmix), WAV/FLAC/… An output that would replace a file the
command reads (the input, the scene file and the files it names) is refused before any work
(exit 2); the files of one run are written together or not at all. The work is the render jobs
(`workbench.jobs.render`: `run`, `upmix`), the same the Renderer panel runs. Wired into
`workbench.cli.main` by `register(subparsers)`; user errors raise `BadInput` (exit 2, one line).
"""

from __future__ import annotations

import sys
from pathlib import Path

from workbench.cli.errors import EXIT_OK, BadInput, out_dir, run_job

BLOCK_RANGE = (64, 1024)


def _upmix_params(args):
    from dsp.upmix import UpmixError, UpmixParams, check_upmix_params

    p = UpmixParams(frame=args.frame, centre_width=args.centre_width,
                    smoothing_ms=args.smoothing_ms, floor_db=args.floor_db,
                    ambience=args.ambience, centre_gain_db=args.centre_gain_db)
    try:
        check_upmix_params(p)
    except UpmixError as e:
        raise BadInput(f"upmix: {e}") from None
    return p


def _cmd_render(args) -> int:
    from dsp.audio_io import AudioFileError
    from dsp.params import DesignError
    from dsp.renderer import RenderError, RenderParams
    from sim.scene_io import load_scene
    from workbench.jobs import render
    from workbench.jobs.inputs import scene_inputs
    from workbench.jobs.render import RenderRequest, read_programme

    if not BLOCK_RANGE[0] <= args.block <= BLOCK_RANGE[1]:
        raise BadInput(f"--block {args.block}: must be in {BLOCK_RANGE[0]} .. {BLOCK_RANGE[1]}"
                       " samples")
    paths = ("A", "B", "X") if args.path == "all" else (args.path,)
    out = out_dir("--out", args.out)
    scene = load_scene(args.scene)
    if not scene.listeners:
        raise BadInput(f"{args.scene}: scene {scene.name!r} has no listener to render for")
    if not 0 <= args.listener < len(scene.listeners):
        raise BadInput(f"--listener {args.listener}: scene has {len(scene.listeners)} listeners")
    try:
        programme = read_programme(args.input, scene.simulation.fs_hz)
    except AudioFileError as e:
        raise BadInput(str(e)) from None
    params = RenderParams(lr_method=args.lr_method, c_method=args.c_method, n_taps=args.taps,
                          max_effort_db=args.max_effort_db, design_space=args.design_space,
                          early_window_ms=args.early_window_ms, room_max_hz=args.room_max_hz,
                          listener=args.listener, upmix=_upmix_params(args))
    req = RenderRequest(scene, programme, out, params=params, block=args.block,
                        engine=args.engine, early_only=args.early_only, paths=paths,
                        cues=not args.no_cues, reads=scene_inputs(args.scene, scene))
    try:
        rep = run_job(render.run, req, args.quiet)
    except (RenderError, DesignError) as e:
        raise BadInput(f"render: {e}") from None
    lat = rep["latency_samples"]
    methods = rep["render"]["methods"]
    loud = " ".join(f"{k} {v['lufs']:.1f}" for k, v in rep["loudness"]["paths"].items()
                    if v["lufs"] is not None)
    print(f"wrote {', '.join(rep['files'])} and report.json to {out}: {scene.name},"
          f" {len(rep['render']['drivers'])} drivers ({methods['LR']} + {methods['C']},"
          f" designed in {methods['space']}), latency {lat['drivers']} samples to the drivers,"
          f" {lat['ears']} to the ears; LUFS {loud} (input {rep['loudness']['input_lufs']});"
          f" RTF {rep['rtf']['drivers']:.4f} (drivers, block {args.block})")
    for w in rep["warnings"]:
        print(f"warning: {w}", file=sys.stderr)
    return EXIT_OK


def _cmd_upmix(args) -> int:
    from dsp.audio_io import AudioFileError, read_audio
    from workbench.jobs import render
    from workbench.jobs.render import UpmixRequest

    out = out_dir("--out", args.out)
    try:
        x, fs = read_audio(args.input, channels=2)
    except AudioFileError as e:
        raise BadInput(str(e)) from None
    o = run_job(render.upmix, UpmixRequest(x, fs, out, _upmix_params(args),
                                           reads=(Path(args.input),)))
    levels = ", ".join(f"{n} {v:.1f} dB" for n, v in o.rms_db.items())
    print(f"wrote L.wav, R.wav, C.wav to {out}: {o.seconds:.2f} s at {fs} Hz, RMS {levels}"
          f" (latency {o.latency} samples removed)")
    return EXIT_OK


def _add_upmix_options(p) -> None:
    from dsp.upmix import UpmixParams

    d = UpmixParams()
    p.add_argument("--frame", type=int, default=d.frame, help="STFT length (power of two)")
    p.add_argument("--centre-width", type=float, default=d.centre_width,
                   help="ξ: larger = wider centre (default %(default)s)")
    p.add_argument("--smoothing-ms", type=float, default=d.smoothing_ms)
    p.add_argument("--floor-db", type=float, default=d.floor_db, help="lowest centre mask gain")
    p.add_argument("--ambience", type=float, default=d.ambience,
                   help="0..1: keep incoherent sound out of the centre")
    p.add_argument("--centre-gain-db", type=float, default=d.centre_gain_db,
                   help="centre level (0 = neutral: L + R + C mix back to the input)")


def register(subparsers) -> None:
    """Add the `render` and `upmix` subcommands to awb's subparsers."""
    from dsp.renderer import C_METHODS, DESIGN_SPACES, LR_METHODS, RenderParams

    r = subparsers.add_parser("render", help="spatial render: driver feeds and binaural A/B/X")
    r.add_argument("scene", metavar="FILE|PRESET")
    r.add_argument("input", metavar="INPUT.wav")
    r.add_argument("--out", required=True, metavar="DIR")
    r.add_argument("--path", choices=("A", "B", "X", "all"), default="all",
                   help="A: plain stereo on the device, B: the renderer, X: reference pair")
    r.add_argument("--block", type=int, default=256, help="streaming block, 64 .. 1024")
    r.add_argument("--engine", choices=("freefield", "room"), default=None,
                   help="transfer engine for listening (default: room unless anechoic)")
    r.add_argument("--early-only", action="store_true",
                   help="room engine: first reflections only (fast)")
    r.add_argument("--listener", type=int, default=0)
    r.add_argument("--lr-method", choices=LR_METHODS, default="virtualizer")
    r.add_argument("--c-method", choices=C_METHODS, default="auto")
    r.add_argument("--taps", type=int, default=2048)
    r.add_argument("--max-effort-db", type=float, default=18.0)
    d = RenderParams()
    r.add_argument("--design-space", choices=DESIGN_SPACES, default=d.design_space,
                   help="plant the networks are designed on: free field, or the room's early"
                        " response at the listener below --room-max-hz (exact in the image-"
                        "source room it was designed on, fragile where the room holds more)")
    r.add_argument("--early-window-ms", type=float, default=d.early_window_ms,
                   help="room_early: reflections compensated up to this long after the direct"
                        " sound (default %(default)s)")
    r.add_argument("--room-max-hz", type=float, default=d.room_max_hz,
                   help="room_early: crossover to the free-field filters, Hz (default"
                        " %(default)s)")
    r.add_argument("--no-cues", action="store_true", help="skip the interaural-cue report")
    r.add_argument("--quiet", action="store_true", help="no progress on stderr")
    _add_upmix_options(r)
    r.set_defaults(func=_cmd_render)

    u = subparsers.add_parser("upmix", help="stereo → L, R, C (L.wav, R.wav, C.wav)")
    u.add_argument("input", metavar="INPUT.wav")
    u.add_argument("--out", required=True, metavar="DIR")
    _add_upmix_options(u)
    u.set_defaults(func=_cmd_upmix)
