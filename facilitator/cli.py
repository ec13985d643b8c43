"""The ``facilitator`` command line: one sub-command per module in ``facilitator.commands``."""

from __future__ import annotations

import argparse
import importlib
import sys

from facilitator.errors import UserError

# Each module has ``add_parser(subparsers)``; the parser it adds sets ``func(args) -> int``.
COMMAND_MODULES = [
    "replay",
    "live",
    "devices",
    "evaluate",
    "report",
    "history",
    "forget",
    "recover",
    "enroll",
    "voices",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="facilitator",
        description=(
            "Measure conversation balance: who holds the floor, for how long, who interrupts whom; "
            "protect five-minute round-robin turns. Works offline; keeps no audio unless asked."
        ),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"facilitator.commands.{name}").add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"facilitator: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("facilitator: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
