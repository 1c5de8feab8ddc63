"""`awb`, the command line beside the GUI: the same jobs (`workbench.jobs`), no Qt.

One module per command group (`scene`, `simulate`, `design`, `render`, `enhance`, `dred`), each
adding its subcommands with `register(subparsers)`; this module builds the parser and maps
errors to exit codes (`workbench.cli.errors`): 0 success, 2 bad input (one line on stderr
naming the file and field), 130 interrupted. Wherever a FILE is taken, a preset name works too
(`awb presets list`).
"""

from __future__ import annotations

import argparse
import sys

from sim.task import Cancelled
from workbench.cli import chain, design, dred, enhance, render, scene, simulate, sweep
from workbench.cli.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, BadInput, Parser

COMMAND_GROUPS = (scene, simulate, design, render, enhance, dred, sweep, chain)


def build_parser() -> argparse.ArgumentParser:
    from workbench import __version__

    p = Parser(prog="awb", description="Acoustic Workbench command line.")
    p.add_argument("--version", action="version", version=f"awb {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    for group in COMMAND_GROUPS:
        group.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    from sim.scene_io import SceneError
    from sim.sofa import SofaError

    try:
        args = build_parser().parse_args(argv)
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
