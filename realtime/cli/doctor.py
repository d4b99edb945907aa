"""`poserec doctor`: check a set-up, one line per check (OK / missing / broken, and what to do).

Exit 0 when the live window can run, 1 when something it needs is missing or broken (see
doctor_checks for which checks it needs; the others are reported for the features that use
them).
"""
from __future__ import annotations

import os
from pathlib import Path

from ..outputs.obs_client import PASSWORD_VARIABLE
from . import doctor_checks as checks
from .arg_types import int_in
from .hints import typeable

OBS_URL_VARIABLE = "POSEREC_OBS_URL"
"""Where doctor finds the OBS address when `--obs` is not given."""


def add_parser(sub) -> None:
    """Register `doctor`."""
    parser = sub.add_parser("doctor", help="check the set-up: one line per check, exit 1 when "
                                           "the live window cannot run")
    parser.add_argument("--obs", metavar="URL",
                        help=f"also check that OBS answers at URL (default: ${OBS_URL_VARIABLE};"
                             f" password from ${PASSWORD_VARIABLE})")
    parser.add_argument("--port", type=int_in(1, 65535), default=checks.OVERLAY_PORT,
                        metavar="PORT", help="the overlay port to check is free (default "
                                             "%(default)s, as `--serve` in the README)")
    parser.add_argument("--weights", type=Path, metavar="DIR",
                        help="weights directory (default: $POSEREC_WEIGHTS_DIR or installed)")
    parser.set_defaults(run=run)


def run_checks(args) -> list[checks.Check]:
    """Every check, in the order of the report."""
    obs_url = args.obs or os.environ.get(OBS_URL_VARIABLE) or None
    return [checks.check_python(), *checks.check_torch(), checks.check_mediapipe(),
            checks.check_weights(args.weights), checks.check_display(), checks.check_cameras(),
            checks.check_virtual_camera(), checks.check_port(args.port),
            checks.check_obs(obs_url, os.environ.get(PASSWORD_VARIABLE))]


def run(args) -> int:
    """Print one line per check and a verdict; 0 when the window can run, else 1."""
    results = run_checks(args)
    for result in results:
        print(typeable(result.line()), flush=True)
    blocking = [r.name for r in results if r.blocks_window]
    if blocking:
        print(typeable(f"poserec doctor: the live window cannot run: fix {', '.join(blocking)} "
                       "(the lines above say how)"))
        return 1
    print("poserec doctor: the live window can run")
    return 0
