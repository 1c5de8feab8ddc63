"""`awb enhance` and `awb eval-ns`: PercepNet noise suppression from the command line.

    awb enhance IN.wav OUT.wav [--oracle CLEAN.wav] [--no-postfilter] [--no-comb] [--int8]
                               [--postfilter-strength S] [--postfilter-gate]
    awb enhance --in-dir DIR --out-dir DIR [...]
    awb eval-ns --speech DIR --noise DIR --snrs 0 5 10 15 --report R.json [--postfilter-strength S]
        [--weights-dir DIR]

`--postfilter-strength S` sets the envelope postfilter's warp exponent (gains ``g·sin(πg/2)^S``):
1 is the PercepNet paper's warping, the default 0.5 scored best (dsp/percepnet/NOTES.md).

With `--oracle CLEAN.wav` (the clean reference, same rate) the gains come from the clean signal
and the scores against it (PESQ-WB, STOI, SI-SDR of input and output) are printed too.

Any input rate and channel count; the output has the input's rate, channels and sample format.
An output that would replace an input (the same file, through a link too; in folder mode any of
the input folder's files) is refused before any work. A folder is written as one
`sim.outputs.batch`: if one file fails, none is written.
The work is the enhancement job (`workbench.jobs.enhance`), the same the Enhancement panel runs.
Wired into `workbench.cli.main` by `register(subparsers)`; user errors raise `BadInput` (exit 2).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from workbench.cli.errors import EXIT_OK, BadInput, finish_eval, report_path, run_job

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")


def _enhance_file(src: Path, dst: Path, args, clean_path: Path | None) -> None:
    from dsp.audio_io import AudioFileError
    from dsp.percepnet.enhance import EnhanceError
    from dsp.percepnet.model import ModelError
    from workbench.jobs import enhance
    from workbench.jobs.enhance import EnhanceRequest

    req = EnhanceRequest("file", noisy_path=str(src), clean_path=str(clean_path or ""),
                         use_comb=not args.no_comb, use_postfilter=not args.no_postfilter,
                         postfilter_strength=_strength_or_default(args),
                         postfilter_gate=args.postfilter_gate, int8=args.int8,
                         oracle=clean_path is not None, out_path=str(dst), listen=False)
    try:
        o = run_job(enhance.run, req)
    except AudioFileError as e:
        raise BadInput(str(e)) from None
    except EnhanceError as e:
        raise BadInput(f"{src}: {e}") from None
    except (FileNotFoundError, ModelError) as e:
        raise BadInput(str(e)) from None
    for note in o.notes:
        print(f"note: {src.name}: {note}", file=sys.stderr)
    fs, out = o.fs_hz, o.result.output
    mode = "oracle" if o.oracle else ("int8" if args.int8 else "model")
    print(f"wrote {dst} ({out.shape[0] / fs:.2f} s at {fs} Hz, {mode}, "
          f"latency {o.result.latency_s * 1000:.0f} ms compensated)")
    if o.metrics_noisy is not None:
        a, b = o.metrics_noisy, o.metrics_enhanced
        print(f"  vs clean: PESQ-WB {a['pesq_wb']:.2f} -> {b['pesq_wb']:.2f}, STOI"
              f" {a['stoi']:.3f} -> {b['stoi']:.3f}, SI-SDR {a['si_sdr']:.1f} ->"
              f" {b['si_sdr']:.1f} dB")


def _cmd_enhance(args) -> int:
    from sim.outputs import batch
    from workbench.jobs.inputs import refuse_outputs_on_inputs

    if args.in_dir or args.out_dir:
        if args.files:
            raise BadInput("give either IN OUT or --in-dir/--out-dir, not both")
        if not (args.in_dir and args.out_dir):
            raise BadInput("--in-dir and --out-dir go together")
        if args.oracle:
            raise BadInput("--oracle takes one file; use IN OUT")
        src_dir, dst_dir = Path(args.in_dir), Path(args.out_dir)
        if not src_dir.is_dir():
            raise BadInput(f"--in-dir {src_dir}: not a folder")
        files = sorted(p for p in src_dir.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
        if not files:
            raise BadInput(f"--in-dir {src_dir}: no audio files ({', '.join(AUDIO_SUFFIXES)})")
        refuse_outputs_on_inputs([dst_dir / f.name for f in files], files)
        dst_dir.mkdir(parents=True, exist_ok=True)
        with batch():
            for f in files:
                _enhance_file(f, dst_dir / f.name, args, None)
        return EXIT_OK
    if len(args.files) != 2:
        raise BadInput("expected IN OUT (or --in-dir DIR --out-dir DIR)")
    src, dst = Path(args.files[0]), Path(args.files[1])
    if not dst.parent.is_dir():
        raise BadInput(f"{dst}: folder {dst.parent} does not exist")
    _enhance_file(src, dst, args, Path(args.oracle) if args.oracle else None)
    return EXIT_OK


def _cmd_eval(args) -> int:
    from dsp.percepnet.evaluate import EvalSettings, evaluate, format_table

    speech, noise = Path(args.speech), Path(args.noise)
    for flag, d in (("--speech", speech), ("--noise", noise)):
        if not d.is_dir():
            raise BadInput(f"{flag} {d}: not a folder")
    if not 0 < args.noise_tail <= 1:
        raise BadInput(f"--noise-tail {args.noise_tail}: must be in (0, 1]")
    if args.rnnoise:
        try:
            import pyrnnoise  # noqa: F401
        except (ImportError, OSError):
            raise BadInput("--rnnoise needs pyrnnoise (pip install pyrnnoise)") from None
    report_to = report_path(args.report, speech, noise)
    settings = EvalSettings(snrs_db=tuple(args.snrs), max_files=args.max_files,
                            noise_tail=args.noise_tail, seed=args.seed,
                            rnnoise=args.rnnoise, int8=not args.no_int8,
                            postfilter_strength=_strength_or_default(args),
                            weights_dir=args.weights_dir)
    if args.weights_dir:
        from dsp.percepnet.model import WEIGHT_FILES

        kinds = ("float16",) if args.no_int8 else ("float16", "int8")
        for kind in kinds:
            if not (Path(args.weights_dir) / WEIGHT_FILES[kind]).is_file():
                raise BadInput(f"--weights-dir {args.weights_dir}: no {WEIGHT_FILES[kind]} "
                               "(what `python -m training.percepnet.train --export --out-dir "
                               "DIR` writes)")
    try:
        report = run_job(lambda s, state: evaluate(speech, noise, s, state), settings,
                         args.quiet)
    except (ValueError, FileNotFoundError) as e:
        raise BadInput(str(e)) from None
    return finish_eval(report, format_table(report), report_to)


def _strength(text: str) -> float:
    """argparse type of --postfilter-strength: a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 <= value < math.inf:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a number >= 0 (1 = the paper's "
                                         "warping, 0 = none)")
    return value


def _add_strength(parser) -> None:
    # default None = dsp.percepnet.postfilter.STRENGTH, resolved where numpy is imported anyway
    parser.add_argument("--postfilter-strength", type=_strength, default=None, metavar="S",
                        help="postfilter warp exponent S in g·sin(πg/2)^S: 1 = the PercepNet "
                             "paper's warping, 0 = none (default 0.5, the best measured)")


def _strength_or_default(args) -> float:
    from dsp.percepnet.postfilter import STRENGTH

    return STRENGTH if args.postfilter_strength is None else args.postfilter_strength


def register(subparsers) -> None:
    """Add the `enhance` and `eval-ns` subcommands to awb's subparsers."""
    en = subparsers.add_parser("enhance", help="PercepNet noise suppression of audio files")
    en.add_argument("files", nargs="*", metavar="IN OUT")
    en.add_argument("--in-dir", metavar="DIR")
    en.add_argument("--out-dir", metavar="DIR")
    en.add_argument("--oracle", metavar="CLEAN.wav",
                    help="oracle gains from this clean reference instead of the model")
    en.add_argument("--no-postfilter", action="store_true", help="skip the envelope postfilter")
    en.add_argument("--no-comb", action="store_true", help="skip the pitch comb filter")
    en.add_argument("--postfilter-gate", action="store_true",
                    help="fade the postfilter out at high estimated SNR")
    en.add_argument("--int8", action="store_true", help="use the int8-quantized weights")
    _add_strength(en)
    en.set_defaults(func=_cmd_enhance)

    ev = subparsers.add_parser("eval-ns",
                               help="noise-suppression scores: noisy, oracle ladder, model")
    ev.add_argument("--speech", required=True, metavar="DIR",
                    help="clean speech (searched recursively)")
    ev.add_argument("--noise", required=True, metavar="DIR")
    ev.add_argument("--snrs", type=float, nargs="+", default=[0.0, 5.0, 10.0, 15.0], metavar="DB")
    ev.add_argument("--max-files", type=int, default=10, help="speech files used (default 10)")
    ev.add_argument("--noise-tail", type=float, default=0.25,
                    help="use only this last fraction of each noise file (default 0.25: the part "
                         "of the shared recordings not used in training)")
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--rnnoise", action="store_true", help="also score RNNoise (needs pyrnnoise)")
    ev.add_argument("--no-int8", action="store_true", help="skip the int8-weights model")
    ev.add_argument("--weights-dir", metavar="DIR",
                    help="score the weights in DIR (percepnet16k_f16.npz, percepnet16k_int8.npz) "
                         "instead of the shipped ones")
    _add_strength(ev)
    ev.add_argument("--report", metavar="R.json")
    ev.add_argument("--quiet", action="store_true")
    ev.set_defaults(func=_cmd_eval)
