"""`awb dred simulate` and `awb dred eval`: the DRED transmission chain from the command line.

    awb dred simulate CLEAN.wav --out OUT.wav (--loss-trace F | --loss ge:RATE,BURST |
        --loss bernoulli:RATE) [--bitrate 24000] [--lbrr] [--dred-ms 1000] [--dred-kbps N]
        [--seed S] [--report R.json]
    awb dred eval --speech DIR [--loss ge:0.2,10] [--bitrate 24000] [--max-files N]
        [--report R.json]

`simulate` prints one line ``bitrate_kbps=X`` (all payload, redundancy and container included,
no IP/UDP/RTP headers) and writes the received audio at the input's rate (mono). The encoder's
packet-loss percentage is the loss model's rate (a trace's overall loss).
Wired into `workbench.cli.main` by `register(subparsers)`; user errors raise `BadInput` (exit 2).
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

from sim.task import TaskState
from workbench.cli.main import EXIT_OK, BadInput, _progress_printer


def _model_errors() -> tuple[type[Exception], ...]:
    """Exceptions that mean bad input or missing/corrupt weights, reported on one line."""
    from dsp.dred.loss import LossError
    from dsp.dred.packet import PacketError
    from dsp.dred.payload import PayloadError
    from dsp.dred.plc import PlcError
    from dsp.dred.rdovae import RdoVaeError
    from dsp.dred.receiver import ReceiverError
    from dsp.dred.sender import InputError, SettingsError
    from dsp.dred.vocoder import VocoderError

    return (LossError, PacketError, PayloadError, PlcError, RdoVaeError, ReceiverError,
            InputError, SettingsError, VocoderError)


def _loss_model(args):
    from dsp.dred.loss import LossError, parse_loss

    spec = f"trace:{args.loss_trace}" if args.loss_trace else args.loss
    try:
        model = parse_loss(spec)
        if model.kind == "trace":
            model.mask(1)  # reads and validates the file now, before any encoding
    except LossError as e:
        raise BadInput(f"--loss{'-trace' if args.loss_trace else ''}: {e}") from None
    return model


def _cmd_simulate(args) -> int:
    import numpy as np
    import soundfile as sf

    from dsp.dred.chain import simulate
    from dsp.dred.loss import loss_percent
    from dsp.dred.sender import DredSettings

    src, out = Path(args.clean), Path(args.out)
    if not src.is_file():
        raise BadInput(f"{src}: no such file")
    if not out.parent.is_dir():
        raise BadInput(f"--out {out}: folder {out.parent} does not exist")
    if args.report and not Path(args.report).parent.is_dir():
        raise BadInput(f"--report {args.report}: folder {Path(args.report).parent} does not exist")
    loss = _loss_model(args)
    try:
        x, fs = sf.read(str(src), dtype="float64", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as e:
        raise BadInput(f"{src}: cannot read audio ({e})") from None
    settings = DredSettings(bitrate=args.bitrate, lbrr=args.lbrr, dred_ms=args.dred_ms,
                            dred_kbps=args.dred_kbps, loss_perc=loss_percent(loss))
    state = TaskState()
    previous = signal.signal(signal.SIGINT, lambda *_: state.cancel())
    try:
        run = simulate(x, fs, settings, loss, seed=args.seed, state=state)
    except _model_errors() as e:
        raise BadInput(f"{src}: {e}") from None
    finally:
        signal.signal(signal.SIGINT, previous)
    y = run.decoded.astype(np.float64)
    if fs != 16000:
        import soxr

        y = soxr.resample(y, 16000, fs)
    y = np.pad(y, (0, max(x.shape[0] - y.size, 0)))[: x.shape[0]]
    sf.write(str(out), y, fs, subtype="PCM_16" if out.suffix.lower() == ".wav" else None)
    if args.report:
        report = run.to_report() | {"input": str(src), "input_rate_hz": int(fs),
                                    "output": str(out), "seed": args.seed}
        Path(args.report).write_text(json.dumps(report, indent=1) + "\n")
    print(f"bitrate_kbps={run.kbps['total']:.2f}")
    return EXIT_OK


def _cmd_eval(args) -> int:
    from dsp.dred.evaluate import EvalSettings, evaluate, format_table

    speech = Path(args.speech)
    if not speech.is_dir():
        raise BadInput(f"--speech {speech}: not a folder")
    if args.report and not Path(args.report).parent.is_dir():
        raise BadInput(f"--report {args.report}: folder {Path(args.report).parent} does not exist")
    if args.max_files < 1:
        raise BadInput(f"--max-files {args.max_files}: must be >= 1")
    loss = _loss_model(args)
    settings = EvalSettings(bitrate=args.bitrate, max_files=args.max_files, seed=args.seed,
                            dred_ms=args.dred_ms, dred_kbps=args.dred_kbps,
                            dred_bitrate=args.dred_bitrate)
    state = TaskState(_progress_printer(args.quiet))
    previous = signal.signal(signal.SIGINT, lambda *_: state.cancel())
    try:
        report = evaluate(speech, loss, settings, state=state)
    except _model_errors() as e:
        raise BadInput(str(e)) from None
    finally:
        signal.signal(signal.SIGINT, previous)
    print(format_table(report))
    if args.report:
        Path(args.report).write_text(json.dumps(report, indent=1) + "\n")
        print(f"wrote {args.report}")
    return EXIT_OK


def register(subparsers) -> None:
    """Add `dred simulate` and `dred eval` to awb's subparsers."""
    dred = subparsers.add_parser("dred", help="Opus + deep redundancy (DRED) packet-loss chain")
    sub = dred.add_subparsers(dest="action", required=True, parser_class=type(dred))

    sim = sub.add_parser("simulate", help="send a file through Opus/LBRR/DRED with packet loss")
    sim.add_argument("clean", metavar="CLEAN.wav")
    sim.add_argument("--out", required=True, metavar="OUT.wav")
    loss = sim.add_mutually_exclusive_group(required=True)
    loss.add_argument("--loss-trace", metavar="F", help="0/1 per line per 20 ms packet, 1 = lost")
    loss.add_argument("--loss", metavar="SPEC", help="ge:RATE,BURST | bernoulli:RATE | none")
    sim.add_argument("--bitrate", type=int, default=24000, help="Opus bit/s (default 24000)")
    sim.add_argument("--lbrr", action="store_true", help="Opus in-band FEC (off unless given)")
    sim.add_argument("--dred-ms", type=int, default=1000,
                     help="redundancy depth, 0..1040 ms in 40 ms chunks (default 1000)")
    sim.add_argument("--dred-kbps", type=float, default=None,
                     help="DRED budget in kb/s (default: fixed quality, full depth)")
    sim.add_argument("--seed", type=int, default=0, help="loss-model seed")
    sim.add_argument("--report", metavar="R.json")
    sim.set_defaults(func=_cmd_simulate)

    ev = sub.add_parser("eval", help="PESQ-WB / STOI of Opus PLC, LBRR, neural PLC and DRED")
    ev.add_argument("--speech", required=True, metavar="DIR",
                    help="clean speech (searched recursively)")
    ev.add_argument("--loss", default="ge:0.2,10", metavar="SPEC",
                    help="loss model (default ge:0.2,10)")
    ev.add_argument("--bitrate", type=int, default=24000, help="Opus bit/s of every condition")
    ev.add_argument("--dred-ms", type=int, default=1000, help="DRED depth of the dred condition")
    ev.add_argument("--dred-kbps", type=float, default=None,
                    help="DRED budget in kb/s of the dred condition (default: fixed quality)")
    ev.add_argument("--dred-bitrate", type=int, default=None,
                    help="Opus bit/s of the dred condition only (equal-total-rate comparisons)")
    ev.add_argument("--max-files", type=int, default=12)
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--report", metavar="R.json")
    ev.add_argument("--quiet", action="store_true")
    ev.set_defaults(func=_cmd_eval, loss_trace=None)
