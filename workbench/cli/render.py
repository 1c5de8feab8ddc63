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
with soxr for render; kept for upmix), WAV/FLAC/… Wired into `workbench.cli.main` by
`register(subparsers)`; user errors raise `BadInput` (exit 2, one line).
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

from sim.task import TaskState
from workbench.cli.main import EXIT_OK, BadInput, _progress_printer

BLOCK_RANGE = (64, 1024)


def _read(path: str, fs_hz: int | None):
    from dsp.audio_io import AudioFileError, read_audio

    try:
        return read_audio(path, fs_hz=fs_hz, channels=2)
    except AudioFileError as e:
        raise BadInput(str(e)) from None


def _out_dir(value: str) -> Path:
    out = Path(value)
    if out.exists() and not out.is_dir():
        raise BadInput(f"--out {out}: exists and is not a folder")
    if not out.parent.is_dir():
        raise BadInput(f"--out {out}: folder {out.parent} does not exist")
    return out


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
    from dsp.offline_render import RenderRequest, render_to_folder
    from dsp.params import DesignError
    from dsp.renderer import RenderError, RenderParams
    from sim.scene_io import load_scene

    if not BLOCK_RANGE[0] <= args.block <= BLOCK_RANGE[1]:
        raise BadInput(f"--block {args.block}: must be in {BLOCK_RANGE[0]} .. {BLOCK_RANGE[1]}"
                       " samples")
    paths = ("A", "B", "X") if args.path == "all" else (args.path,)
    out = _out_dir(args.out)
    scene = load_scene(args.scene)
    if not scene.listeners:
        raise BadInput(f"{args.scene}: scene {scene.name!r} has no listener to render for")
    if not 0 <= args.listener < len(scene.listeners):
        raise BadInput(f"--listener {args.listener}: scene has {len(scene.listeners)} listeners")
    fs = scene.simulation.fs_hz
    x, _ = _read(args.input, fs)
    import soundfile as sf

    info = sf.info(args.input)
    params = RenderParams(lr_method=args.lr_method, c_method=args.c_method, n_taps=args.taps,
                          max_effort_db=args.max_effort_db, design_space=args.design_space,
                          early_window_ms=args.early_window_ms, room_max_hz=args.room_max_hz,
                          listener=args.listener, upmix=_upmix_params(args))
    req = RenderRequest(paths=paths, block=args.block, engine=args.engine,
                        early_only=args.early_only, params=params, cues=not args.no_cues)
    state = TaskState(_progress_printer(args.quiet))
    previous = signal.signal(signal.SIGINT, lambda *_: state.cancel())
    try:
        rep = render_to_folder(scene, x, out, req, state=state,
                               input_info={"file": str(args.input), "fs_in_hz": info.samplerate,
                                           "channels_in": info.channels,
                                           "subtype_in": info.subtype})
    except (RenderError, DesignError) as e:
        raise BadInput(f"render: {e}") from None
    finally:
        signal.signal(signal.SIGINT, previous)
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
    from dsp.audio_io import write_audio
    from dsp.upmix import upmix

    out = _out_dir(args.out)
    x, fs = _read(args.input, None)
    p = _upmix_params(args)
    res = upmix(x, fs, p)
    lrc = res.aligned(len(x))
    out.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(("L", "R", "C")):
        write_audio(out / f"{name}.wav", lrc[:, i], fs)
    import numpy as np

    def rms_db(v):
        return 10 * np.log10(max(float(np.mean(v * v)), 1e-30))

    levels = ", ".join(f"{n} {rms_db(lrc[:, i]):.1f} dB" for i, n in enumerate("LRC"))
    print(f"wrote L.wav, R.wav, C.wav to {out}: {len(x) / fs:.2f} s at {fs} Hz, RMS {levels}"
          f" (latency {res.latency} samples removed)")
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
