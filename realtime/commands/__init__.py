"""Subcommands of `poserec`: each module has `add_parser(subparsers)` and sets `run(args) -> int`."""
