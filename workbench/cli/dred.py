"""`awb dred simulate` and `awb dred eval`: the DRED transmission chain from the command line.

    awb dred simulate CLEAN.wav --out OUT.wav (--loss-trace F | --loss ge:RATE,BURST |
        --loss bernoulli:RATE) [--bitrate 24000] [--lbrr] [--dred-ms 1000] [--dred-kbps N]
        [--no-dred] [--no-neural-plc] [--expected-loss PCT] [--seconds S] [--seed S]
        [--report R.json] [--quiet]
    awb dred eval --speech DIR [--loss ge:0.2,10] [--bitrate 24000] [--max-files N]
        [--report R.json]

`simulate` prints one line ``bitrate_kbps=X`` (all payload, redundancy and container included,
no IP/UDP/RTP headers) and writes the received audio at the input's rate (mono). The encoder's
packet-loss percentage is the loss model's rate (a trace's overall loss) unless
--expected-loss gives it. The options are the DRED panel's (`workbench.jobs.dred`).
Wired into `workbench.cli.main` by `register(subparsers)`; user errors raise `BadInput` (exit 2).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from workbench.cli.errors import EXIT_OK, BadInput, finish_eval, out_file, report_path, run_job


def _loss_model(args):
    """The loss model the options name (a trace is read now, before any encoding)."""
    from workbench.jobs.dred import DredInputError, check_loss

    try:
        return check_loss(_loss_spec(args))
    except DredInputError as e:
        raise BadInput(f"--loss{'-trace' if args.loss_trace else ''}: {e}") from None


def _seconds(text: str) -> float:
    """argparse type of --seconds: a positive number."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: expected a number of seconds > 0")
    return value


def _loss_spec(args) -> str:
    return f"trace:{args.loss_trace}" if args.loss_trace else args.loss


def _cmd_simulate(args) -> int:
    from dsp.dred.sender import DredSettings
    from workbench.jobs import dred
    from workbench.jobs.dred import TransmitRequest, chain_settings, input_errors

    src = Path(args.clean)
    if not src.is_file():
        raise BadInput(f"{src}: no such file")
    out = out_file("--out", args.out)
    report = out_file("--report", args.report) if args.report else None
    try:
        settings = chain_settings(
            DredSettings(bitrate=args.bitrate, lbrr=args.lbrr, dred_ms=args.dred_ms,
                         dred_kbps=args.dred_kbps, dred=not args.no_dred,
                         neural_plc=not args.no_neural_plc),
            _loss_model(args), args.expected_loss)
        o = run_job(dred.transmit, TransmitRequest(src, out, settings, _loss_spec(args),
                                                   args.seed, args.seconds, report), args.quiet)
    except input_errors() as e:
        raise BadInput(f"{src}: {e}") from None
    print(f"bitrate_kbps={o.run.kbps['total']:.2f}")
    return EXIT_OK


def _cmd_eval(args) -> int:
    from dsp.dred.evaluate import EvalSettings, evaluate, format_table
    from workbench.jobs.dred import input_errors

    speech = Path(args.speech)
    if not speech.is_dir():
        raise BadInput(f"--speech {speech}: not a folder")
    report_to = report_path(args.report, speech)
    if args.max_files < 1:
        raise BadInput(f"--max-files {args.max_files}: must be >= 1")
    loss = _loss_model(args)
    settings = EvalSettings(bitrate=args.bitrate, max_files=args.max_files, seed=args.seed,
                            dred_ms=args.dred_ms, dred_kbps=args.dred_kbps,
                            dred_bitrate=args.dred_bitrate)
    try:
        report = run_job(lambda s, state: evaluate(speech, loss, s, state), settings,
                         args.quiet)
    except input_errors() as e:
        raise BadInput(str(e)) from None
    return finish_eval(report, format_table(report), report_to)


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
    sim.add_argument("--no-dred", action="store_true",
                     help="send no deep redundancy (Opus, LBRR as asked)")
    sim.add_argument("--no-neural-plc", action="store_true",
                     help="conceal what nothing covers with Opus's PLC, not the neural PLC")
    sim.add_argument("--expected-loss", type=int, default=None, metavar="PCT",
                     help="the loss the encoder is told to expect, 0..100 %% (sizes LBRR;"
                          " default: the loss model's rate, a trace's overall loss)")
    sim.add_argument("--seconds", type=_seconds, default=None, metavar="S",
                     help="send at most this much of the file (default: all of it)")
    sim.add_argument("--seed", type=int, default=0, help="loss-model seed")
    sim.add_argument("--report", metavar="R.json")
    sim.add_argument("--quiet", action="store_true", help="no progress on stderr")
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
