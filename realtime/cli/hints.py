"""Hints name commands the user can type: `poserec` itself when it is on the PATH, else its
path (`.venv/bin/poserec` in a checkout set up by `make`)."""
from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path


def poserec_command(executable: str = sys.executable, cwd: Path | None = None) -> str:
    """How to type `poserec` here: `poserec` when the PATH finds this one, else the script
    beside this Python (relative to the working directory when it is below it)."""
    script = Path(executable).with_name("poserec")
    on_path = shutil.which("poserec")
    if not script.is_file() or (on_path and Path(on_path).resolve() == script.resolve()):
        return "poserec"
    relative = os.path.relpath(script, cwd or Path.cwd())
    return relative if not relative.startswith("..") else str(script)


QUOTED_COMMAND = re.compile(r"(`(?:xvfb-run -a )?)poserec\b")
"""A quoted command in a message: `` `poserec ...` `` or `` `xvfb-run -a poserec ...` ``."""


def typeable(text: str, command: str | None = None) -> str:
    """`text` with each quoted `poserec` command spelled as the user can type it."""
    command = command or poserec_command()
    return QUOTED_COMMAND.sub(lambda m: m.group(1) + command, text)
