"""`awb chain`: a talker and a noise file through the scene's live voice chain, offline.

    awb chain SCENE|PRESET --talker SPEECH.wav --noise NOISE.wav --snr 5
        (--loss ge:0.2,8 | --loss-trace F) [--bitrate B] [--no-lbrr] [--dred-ms MS]
        [--dred-kbps KBPS] [--no-percepnet] [--percepnet-strength S] [--no-dred]
        [--no-neural-plc] [--bypass STAGE ...] [--engine room|freefield] [--seed S] --out DIR

Writes each tap as a WAV (clean, mic, enhanced, coded, lossy, output, ears) and report.json
(`workbench.jobs.chain`) into DIR and prints the far end's scores on one line. Bad input
(an unusable talker/noise file or loss trace, a scene without microphone or talker) is one line
on stderr, exit status 2, nothing written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from workbench.cli.errors import EXIT_OK, BadInput, run_job


def _settings(args):
    from dsp.chain import STAGES, ChainSettings

    unknown = [s for s in args.bypass if s not in STAGES]
    if unknown:
        raise BadInput(f"--bypass {unknown[0]}: expected one of {', '.join(STAGES)}")
    return ChainSettings(
        snr_db=args.snr, loss=f"trace:{args.loss_trace}" if args.loss_trace else args.loss,
        bitrate=args.bitrate, lbrr=not args.no_lbrr, dred=not args.no_dred,
        dred_ms=args.dred_ms, dred_kbps=args.dred_kbps, neural_plc=not args.no_neural_plc,
        percepnet_strength=args.percepnet_strength, seed=args.seed,
        bypass=frozenset(args.bypass) | ({"percepnet"} if args.no_percepnet else set()))


def _cmd_chain(args) -> int:
    from sim.scene_io import load_scene
    from workbench.jobs import chain
    from workbench.jobs.inputs import scene_inputs

    for flag, path in (("--talker", args.talker), ("--noise", args.noise)):
        if not Path(path).is_file():
            raise BadInput(f"{flag} {path}: no such file")
    scene = load_scene(args.scene)
    try:
        request = chain.ChainRequest(
            scene=scene, talker=Path(args.talker), noise=Path(args.noise),
            settings=_settings(args).validate(), out_dir=Path(args.out), engine=args.engine,
            reads=scene_inputs(args.scene, scene))
        outcome = run_job(chain.run, request, quiet=False)
    except chain.input_errors() as e:
        raise BadInput(str(e)) from None
    out = outcome.report["stages"]["output"]
    print(f"output: PESQ-WB {out['pesq_wb']} STOI {out['stoi']}; "
          f"{len(outcome.files)} files in {args.out}")
    return EXIT_OK


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number") from None


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not abs(value) < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: expected a finite number")
    return value


def register(sub) -> None:
    p = sub.add_parser("chain", help="talker + noise through the room's voice chain "
                       "(PercepNet, Opus + LBRR + DRED, lossy network) to files",
                       description=__doc__.split("\n\n")[0])
    p.add_argument("scene", metavar="SCENE|PRESET")
    p.add_argument("--talker", required=True, metavar="SPEECH.wav")
    p.add_argument("--noise", required=True, metavar="NOISE.wav")
    p.add_argument("--snr", required=True, type=_number, metavar="DB",
                   help="talker-to-noise ratio at the microphone (dB)")
    loss = p.add_mutually_exclusive_group(required=True)
    loss.add_argument("--loss", metavar="SPEC",
                      help="ge:RATE,MEAN_BURST, bernoulli:RATE or none")
    loss.add_argument("--loss-trace", metavar="F", help="0/1 per line per 20 ms, 1 = lost")
    p.add_argument("--bitrate", type=_int, default=24000, metavar="B", help="Opus bit/s")
    p.add_argument("--no-lbrr", action="store_true", help="no Opus in-band FEC")
    p.add_argument("--dred-ms", type=_int, default=1000, metavar="MS",
                   help="DRED depth (ms, 0..1040)")
    p.add_argument("--dred-kbps", type=_number, default=None, metavar="KBPS",
                   help="DRED bit budget (kb/s; default: libopus's quality)")
    p.add_argument("--no-percepnet", action="store_true", help="bypass PercepNet")
    p.add_argument("--percepnet-strength", type=_number, default=1.0, metavar="S",
                   help="PercepNet wet/dry mix, 0 (dry) .. 1 (fully enhanced)")
    p.add_argument("--no-dred", action="store_true", help="no deep redundancy")
    p.add_argument("--no-neural-plc", action="store_true",
                   help="conceal what no redundancy covers with Opus PLC, not the neural PLC")
    p.add_argument("--bypass", action="append", default=[], metavar="STAGE",
                   help="bypass a stage (repeatable): room, percepnet, sender, network, "
                   "receiver or playback")
    p.add_argument("--engine", choices=("room", "freefield"), default="room",
                   help="how the talker/noise responses to the microphone are simulated")
    p.add_argument("--seed", type=_int, default=0, metavar="S", help="loss/jitter seed")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the taps and "
                   "report.json")
    p.set_defaults(func=_cmd_chain)
