"""`poserec`: the one entry point. Errors a user can cause exit 2 with one line on stderr."""
from __future__ import annotations

import argparse
import os
import sys

from poserec_core.errors import PoseRecError

from realtime.cli import (batch, bench, cameras, catalog, doctor, effects, evaluate, export, extract,
                          live, recommend, serve, train, weights)
from realtime.cli.hints import typeable

COMMANDS = (weights, recommend, extract, live, cameras, doctor, bench, batch, serve, export, train, evaluate,
            catalog, effects)
"""Subcommand modules, in the order `poserec --help` lists them."""


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit status 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The `poserec` parser with every subcommand."""
    parser = OneLineErrorParser(prog="poserec", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=OneLineErrorParser)
    for module in COMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse, run the subcommand, map user errors to one line and status 2."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except PoseRecError as exc:
        print(typeable(f"poserec {args.command}: error: {exc}"), file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (`poserec recommend ... | head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(f"poserec {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
