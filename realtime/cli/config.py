"""`poserec live` settings from the command line, the environment and a TOML file.

The file holds a `[live]` table whose keys are the long option names without the dashes
(`top-k = 3`, `source = "demo"`, `headless = true`, `segmentation = false`); each value goes
through the same check as on the command line. Precedence: command line > environment > file >
defaults. The file: `--config FILE.toml`, else `default_path()` when it exists. Environment
variables: `POSEREC_` + the option name in capitals with `_` for `-` (POSEREC_SOURCE,
POSEREC_TOP_K, POSEREC_HEADLESS=1); a flag takes 1/0, true/false, yes/no, on/off.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from poserec_core.errors import PoseRecError

ENV_PREFIX = "POSEREC_"
GIVEN = "_given_options"
"""The namespace attribute that names the options the command line gave."""
FLAG_WORDS = {"1": True, "true": True, "yes": True, "on": True,
              "0": False, "false": False, "no": False, "off": False}


class SettingsError(PoseRecError):
    """A settings file or variable that cannot be used: one line naming the key and its origin."""


def default_path(environ=os.environ, platform: str = sys.platform) -> Path:
    """Where the settings file lives when `--config` is not given: `$XDG_CONFIG_HOME/poserec/
    config.toml` (else `~/.config/...`) on Linux, `~/Library/Application Support/poserec/` on
    macOS, `%APPDATA%\\poserec\\` on Windows."""
    home = Path(environ.get("HOME") or Path.home())
    if platform == "darwin":
        base = home / "Library" / "Application Support"
    elif platform.startswith("win"):
        base = Path(environ.get("APPDATA") or home / "AppData" / "Roaming")
    else:
        xdg = environ.get("XDG_CONFIG_HOME", "")
        base = Path(xdg) if os.path.isabs(xdg) else home / ".config"
    return base / "poserec" / "config.toml"


class _Given:
    """Mixin of an argparse action: a setting, noted when the command line gives it."""

    def __call__(self, parser, namespace, values, option_string=None):
        super().__call__(parser, namespace, values, option_string)
        setattr(namespace, GIVEN, getattr(namespace, GIVEN, frozenset()) | {self.dest})


class GivenStore(_Given, argparse._StoreAction):
    """`store`, a setting."""


class GivenFlag(_Given, argparse._StoreTrueAction):
    """`store_true`, a setting."""


class GivenBoolean(_Given, argparse.BooleanOptionalAction):
    """`--x/--no-x`, a setting."""


def add_config_options(parser: argparse.ArgumentParser, table: str) -> None:
    """Add `--config FILE.toml` and `--print-config`; every `store`, `store_true` and
    BooleanOptionalAction option added after this is a setting."""
    parser.add_argument("--config", type=Path, metavar="FILE.toml",
                        help=f"settings from the [{table}] table of this TOML file (keys: the "
                             f"long option names; default {default_path()} when it exists); "
                             f"{ENV_PREFIX}<NAME> variables (as in {ENV_PREFIX}TOP_K=3) override "
                             "it, the command line overrides both")
    parser.add_argument("--print-config", action="store_true",
                        help="print the settings in effect as TOML (loadable with --config), "
                             "then exit")
    parser.register("action", None, GivenStore)  # what add_argument uses without action=
    parser.register("action", "store", GivenStore)
    parser.register("action", "store_true", GivenFlag)
    parser.register("action", argparse.BooleanOptionalAction, GivenBoolean)


@dataclass(frozen=True)
class Setting:
    """One option as a setting: its long name, namespace attribute, check and kind."""

    name: str
    dest: str
    parse: Callable[[str], object] | None
    choices: tuple | None
    flag: bool

    @property
    def variable(self) -> str:
        """Its environment variable."""
        return ENV_PREFIX + self.name.upper().replace("-", "_")

    def from_text(self, text: str, origin: str):
        """The value of `text` (as on the command line), or SettingsError naming `origin`."""
        if self.flag:
            if text.strip().lower() not in FLAG_WORDS:
                raise SettingsError(f"{origin}: {text!r} is not one of {', '.join(FLAG_WORDS)}")
            return FLAG_WORDS[text.strip().lower()]
        try:
            value = self.parse(text) if self.parse else text
        except (argparse.ArgumentTypeError, ValueError, PoseRecError) as exc:
            raise SettingsError(f"{origin}: {exc}") from None
        if self.choices is not None and value not in self.choices:
            raise SettingsError(f"{origin}: {value!r} is not one of "
                                f"{', '.join(map(str, self.choices))}")
        return value

    def from_toml(self, value, origin: str):
        """The value of a TOML value, or SettingsError naming `origin`."""
        if self.flag:
            if not isinstance(value, bool):
                raise SettingsError(f"{origin}: {value!r} is not true or false")
            return value
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise SettingsError(f"{origin}: expected a string or a number, got {value!r}")
        return self.from_text(str(value), origin)


def settings_of(parser: argparse.ArgumentParser) -> dict[str, Setting]:
    """The options of `parser` that a file or the environment may set, by long name."""
    found = {}
    for action in parser._actions:
        names = [s[2:] for s in action.option_strings if s.startswith("--")]
        if names and isinstance(action, _Given):
            choices = tuple(action.choices) if action.choices is not None else None
            found[names[0]] = Setting(names[0], action.dest, action.type, choices,
                                      flag=not isinstance(action, GivenStore))
    return found


def read_table(path: Path, table: str, settings: dict[str, Setting]) -> dict[str, object]:
    """The values of `[table]` in the TOML file at `path`, by attribute, each checked."""
    try:
        with open(path, "rb") as file:
            document = tomllib.load(file)
    except FileNotFoundError:
        raise SettingsError(f"{path}: no such settings file") from None
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read it ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from None
    unknown = [key for key in document if key != table]
    if unknown:
        raise SettingsError(f"{path}: unknown table or key {unknown[0]!r} (the settings go in "
                            f"a [{table}] table)")
    values = document.get(table, {})
    if not isinstance(values, dict):
        raise SettingsError(f"{path}: {table!r} must be a table, as in [{table}]")
    found = {}
    for key, value in values.items():
        if key not in settings:
            raise SettingsError(f"{path}: [{table}] unknown key {key!r} (the keys are the long "
                                f"option names of `poserec {table} --help`)")
        found[settings[key].dest] = settings[key].from_toml(value, f"{path}: [{table}] {key}")
    return found


def read_environment(settings: dict[str, Setting], environ=os.environ) -> dict[str, object]:
    """The values of the settings' environment variables that are set, by attribute."""
    return {s.dest: s.from_text(environ[s.variable], f"{s.variable}={environ[s.variable]}")
            for s in settings.values() if s.variable in environ}


def settings_file(args, environ=os.environ) -> Path | None:
    """The settings file of a run: `--config`, else the default one when it exists."""
    if args.config is not None:
        return args.config
    path = default_path(environ)
    return path if path.is_file() else None


def resolve(parser, table: str, args, environ=os.environ) -> argparse.Namespace:
    """`args` with every setting the command line did not give taken from the environment,
    else the settings file, else its default."""
    settings = settings_of(parser)
    path = settings_file(args, environ)
    layers = (read_table(path, table, settings) if path is not None else {},
              read_environment(settings, environ))
    given = getattr(args, GIVEN, frozenset())
    values = vars(args).copy()
    for layer in layers:
        values.update({dest: value for dest, value in layer.items() if dest not in given})
    return argparse.Namespace(**values)


def to_toml(parser, table: str, args, origin: Path | None) -> str:
    """The settings of `args` as a TOML `[table]` that `--config` loads back."""
    lines = [f"# poserec {table}: the settings in effect (command line > environment > "
             f"{origin or 'no settings file'} > defaults)", f"[{table}]"]
    for name, setting in settings_of(parser).items():
        value = getattr(args, setting.dest)
        lines.append(f"# {name}: not set" if value is None else f"{name} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    return json.dumps(str(value), ensure_ascii=False)


class WithSettings:
    """A command's `run` whose settings also come from the environment and a settings file:
    `--print-config` prints them; otherwise `run` gets them resolved."""

    def __init__(self, parser, table: str, run: Callable):
        self.parser, self.table, self.run = parser, table, run

    def __call__(self, args) -> int:
        settings = resolve(self.parser, self.table, args)
        if settings.print_config:
            print(to_toml(self.parser, self.table, settings, settings_file(args)), end="")
            return 0
        return self.run(settings)
