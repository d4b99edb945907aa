"""`poserec weights install|verify`: the published release files, hash-checked."""
from __future__ import annotations

from pathlib import Path

from poserec_core.weights_install import default_source, default_weights_dir, install_release, verify_installed


def add_parser(sub) -> None:
    """Register `weights install` and `weights verify`."""
    parser = sub.add_parser("weights", help="install or verify the published release files")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION",
                                    parser_class=type(parser))
    install = actions.add_parser("install", help="fetch, verify and convert the release files")
    install.add_argument("--from", dest="source", metavar="DIR_OR_URL",
                         help="release files: a directory or a base URL (default: "
                              "$POSEREC_WEIGHTS_SOURCE, else upstream)")
    install.add_argument("--dir", type=Path, help="destination (default: $POSEREC_WEIGHTS_DIR, "
                                                  "else weights/ of the checkout, else ~/.cache)")
    install.set_defaults(run=_install)
    verify = actions.add_parser("verify", help="check every installed file's sha256")
    verify.add_argument("--dir", type=Path, help="weights directory (default as for install)")
    verify.set_defaults(run=_verify)


def _install(args) -> int:
    dest = install_release(args.source or default_source(), args.dir or default_weights_dir())
    print(f"installed the PoseRec release into {dest}")
    return 0


def _verify(args) -> int:
    for role, path in verify_installed(args.dir):
        print(f"ok  {role:<16} {path}")
    return 0
