"""`poserec live` settings: --config FILE.toml, --print-config, the environment, the default
file."""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from realtime.cli.config import default_path

from .helpers import run_main


def print_config(capsys, *args) -> dict:
    """The `[live]` table `live --print-config ARGS` prints (it must parse as TOML)."""
    code, out, err = run_main(capsys, "live", *args, "--print-config")
    assert code == 0 and err == "", err
    return tomllib.loads(out)["live"]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_defaults_are_the_options_defaults(capsys):
    settings = print_config(capsys)
    assert settings["source"] == "auto" and settings["top-k"] == 5 and settings["window"] == 10
    assert settings["headless"] is False and settings["segmentation"] is True
    assert "fps" not in settings and "jsonl" not in settings  # not set: commented out


def test_print_config_loads_back_with_config(capsys, tmp_path):
    given = ("--source", "replay:poses/é x.npy", "--top-k", "3", "--smoothing", "0.25",
             "--fps", "0", "--headless", "--no-segmentation", "--jsonl", "out/live.jsonl",
             "--serve", "0", "--mirror", "--device", "cpu")
    first = print_config(capsys, *given)
    assert first["source"] == "replay:poses/é x.npy" and first["top-k"] == 3
    assert first["smoothing"] == 0.25 and first["fps"] == 0.0 and first["serve"] == 0
    assert first["headless"] is True and first["segmentation"] is False
    code, out, _ = run_main(capsys, "live", *given, "--print-config")
    again = print_config(capsys, "--config", write(tmp_path / "live.toml", out))
    assert again == first


def test_command_line_beats_environment_beats_file_beats_defaults(capsys, monkeypatch, tmp_path):
    config = write(tmp_path / "c.toml", '[live]\ntop-k = 3\nstride = 4\nwindow = 12\n'
                                        'source = "demo"\n')
    monkeypatch.setenv("POSEREC_TOP_K", "4")
    monkeypatch.setenv("POSEREC_STRIDE", "7")
    monkeypatch.setenv("POSEREC_HEADLESS", "yes")
    settings = print_config(capsys, "--config", config, "--top-k", "6")
    assert settings["top-k"] == 6          # command line
    assert settings["stride"] == 7         # environment over the file
    assert settings["window"] == 12        # file
    assert settings["source"] == "demo"    # file
    assert settings["headless"] is True    # environment
    assert settings["reset-after"] == 15   # default


def test_the_default_file_is_read_when_present(capsys, monkeypatch, tmp_path):
    assert print_config(capsys)["top-k"] == 5  # the tests' own empty XDG_CONFIG_HOME
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    write(tmp_path / "xdg" / "poserec" / "config.toml", "[live]\ntop-k = 2\n")
    assert print_config(capsys)["top-k"] == 2
    assert print_config(capsys, "--config", write(tmp_path / "other.toml", "[live]\n"))[
        "top-k"] == 5  # --config replaces the default file
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    write(tmp_path / "home" / ".config" / "poserec" / "config.toml", "[live]\ntop-k = 7\n")
    assert print_config(capsys)["top-k"] == 7


@pytest.mark.parametrize("platform, environ, expected", [
    ("linux", {"HOME": "/h"}, "/h/.config/poserec/config.toml"),
    ("linux", {"HOME": "/h", "XDG_CONFIG_HOME": "/x"}, "/x/poserec/config.toml"),
    ("linux", {"HOME": "/h", "XDG_CONFIG_HOME": "relative"}, "/h/.config/poserec/config.toml"),
    ("darwin", {"HOME": "/h"}, "/h/Library/Application Support/poserec/config.toml"),
    ("win32", {"HOME": "/h", "APPDATA": "/a"}, "/a/poserec/config.toml"),
])
def test_the_default_file_is_in_the_platform_config_directory(platform, environ, expected):
    assert default_path(environ, platform) == Path(expected)


def test_settings_from_a_file_drive_the_run(capsys, weights_dir, tmp_path):
    out = tmp_path / "live.jsonl"
    config = write(tmp_path / "run.toml", f'[live]\nsource = "demo"\nheadless = true\n'
                                          f'max-frames = 20\nfps = 0\ntop-k = 2\n'
                                          f'jsonl = {json.dumps(str(out))}\n')
    code, stdout, err = run_main(capsys, "live", "--config", config, "--device", "cpu")
    assert code == 0, err
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["window_end"] for r in records] == [9, 14, 19]
    assert all(len(r["effects"]) == 2 for r in records) and len(stdout.splitlines()) == 3


BAD_FILES = [
    ("[live]\ntop-k = 0\n", "[live] top-k: 0 is below the minimum 1"),
    ("[live]\ntop-k = \"many\"\n", "[live] top-k: 'many' is not an integer"),
    ("[live]\nsmoothing = 1.5\n", "[live] smoothing: 1.5 is outside [0.0, 1.0)"),
    ("[live]\ndevice = \"tpu\"\n", "[live] device: 'tpu' is not one of auto, cpu, cuda"),
    ("[live]\nheadless = \"yes\"\n", "[live] headless: 'yes' is not true or false"),
    ("[live]\nsource = \"webcam\"\n", "[live] source: --source webcam: not a source"),
    ("[live]\nscreenshot = \"shot.jpg\"\n", "[live] screenshot: 'shot.jpg' is not a .png file"),
    ("[live]\nfps = [1, 2]\n", "[live] fps: expected a string or a number, got [1, 2]"),
    ("[live]\ntopk = 3\n", "[live] unknown key 'topk'"),
    ("[live]\nconfig = \"x.toml\"\n", "[live] unknown key 'config'"),
    ("[liev]\ntop-k = 3\n", "unknown table or key 'liev'"),
    ("top-k = 3\n", "unknown table or key 'top-k'"),
    ("live = 3\n", "'live' must be a table"),
    ("[live]\ntop-k = \n", "not valid TOML"),
]


@pytest.mark.parametrize("text, error", BAD_FILES)
def test_a_bad_file_is_one_line_naming_the_key_and_the_file(capsys, tmp_path, text, error):
    config = write(tmp_path / "bad.toml", text)
    code, out, err = run_main(capsys, "live", "--config", config, "--print-config")
    assert code == 2 and out == ""
    assert err.startswith(f"poserec live: error: {config}: ") and error in err, err
    assert len(err.splitlines()) == 1


def test_a_bad_default_file_is_an_error_too(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    config = write(tmp_path / "poserec" / "config.toml", "[live]\nwindow = -1\n")
    code, _, err = run_main(capsys, "live", "--print-config")
    assert code == 2 and err.strip() == (f"poserec live: error: {config}: [live] window: -1 is "
                                         "below the minimum 1")


@pytest.mark.parametrize("variable, value, error", [
    ("POSEREC_TOP_K", "0", "POSEREC_TOP_K=0: 0 is below the minimum 1"),
    ("POSEREC_HEADLESS", "maybe", "POSEREC_HEADLESS=maybe: 'maybe' is not one of 1, true"),
    ("POSEREC_SOURCE", "webcam", "POSEREC_SOURCE=webcam: --source webcam: not a source"),
])
def test_a_bad_variable_is_one_line_naming_it(capsys, monkeypatch, variable, value, error):
    monkeypatch.setenv(variable, value)
    code, _, err = run_main(capsys, "live", "--print-config")
    assert code == 2 and error in err and len(err.splitlines()) == 1, err


def test_a_missing_config_file_is_one_line(capsys, tmp_path):
    code, _, err = run_main(capsys, "live", "--config", tmp_path / "none.toml")
    assert code == 2 and err.strip() == (f"poserec live: error: {tmp_path / 'none.toml'}: no "
                                         "such settings file")
