"""`poserec doctor` run for real on this machine: release weights installed, no camera, no
v4l2loopback, a display only under Xvfb (or Qt's offscreen platform), a real OBS Studio for the
OBS line. Exit 0 when the live window can run, 1 when something it needs is missing."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from realtime.cli.doctor_checks import BROKEN, MISSING, OK, SKIPPED
from realtime.outputs.obs_client import PASSWORD_VARIABLE

from .obs_studio import ObsStudio, private_network

STATUSES = (OK, MISSING, BROKEN, SKIPPED)
CHECKS = ("Python", "torch", "CUDA", "MediaPipe", "weights", "display", "cameras",
          "virtual camera", "overlay port", "OBS")
NO_DISPLAY = {"DISPLAY": "", "WAYLAND_DISPLAY": "", "QT_QPA_PLATFORM": ""}
OFFSCREEN = {**NO_DISPLAY, "QT_QPA_PLATFORM": "offscreen"}
OBS_PASSWORD = "doctor-test-secret"
OBS_PORT = 4455


def doctor(*args, env: dict, xvfb: bool = False):
    """Run `poserec doctor ARGS` with `env` over this environment (an empty value unsets);
    returns (exit status, {check: (status, detail)}, the verdict line)."""
    environ = {key: value for key, value in {**os.environ, **env}.items() if value != ""}
    command = [*(("xvfb-run", "-a") if xvfb else ()), sys.executable, "-m", "realtime.cli",
               "doctor", *map(str, args)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180, env=environ)
    assert result.stderr == "", result.stderr
    lines = result.stdout.splitlines()
    checks = {}
    for line in lines[:-1]:
        status, rest = line.split(maxsplit=1)
        name = next(n for n in CHECKS if rest.startswith(n + " "))
        assert status in STATUSES, line
        checks[name] = (status, rest[len(name):].strip())
    return result.returncode, checks, lines[-1]


def statuses(checks: dict) -> dict:
    return {name: status for name, (status, _) in checks.items()}


def test_without_a_display_the_window_cannot_run(weights_dir):
    code, checks, verdict = doctor(env={**NO_DISPLAY, "POSEREC_WEIGHTS_DIR": str(weights_dir)})
    assert list(checks) == list(CHECKS)
    assert statuses(checks) | {"CUDA": None} == {
        "Python": OK, "torch": OK, "CUDA": None, "MediaPipe": OK, "weights": OK,
        "display": MISSING, "cameras": MISSING, "virtual camera": MISSING,
        "overlay port": OK, "OBS": SKIPPED}
    assert "xvfb-run -a" in checks["display"][1] and "console view" in checks["display"][1]
    assert checks["weights"][1].startswith("5 release files verified (sha256)")
    assert checks["cameras"][1].startswith("no camera found")
    assert "v4l2loopback" in checks["virtual camera"][1]
    assert code == 1
    assert verdict.startswith("poserec doctor: the live window cannot run: fix display")


def test_under_xvfb_the_window_can_run(weights_dir):
    code, checks, verdict = doctor(env={"POSEREC_WEIGHTS_DIR": str(weights_dir)}, xvfb=True)
    assert checks["display"][0] == OK and checks["display"][1].startswith("X11 :")
    assert code == 0 and verdict == "poserec doctor: the live window can run"


def test_empty_weights_dir_is_missing_weights(tmp_path):
    empty = tmp_path / "no-weights"
    empty.mkdir()
    code, checks, verdict = doctor(env={**OFFSCREEN, "POSEREC_WEIGHTS_DIR": str(empty)})
    assert checks["weights"][0] == MISSING
    assert f"no PoseRec weights in {empty}" in checks["weights"][1]
    assert "`make live` installs them" in checks["weights"][1]
    assert checks["display"][0] == OK
    assert code == 1 and verdict.startswith("poserec doctor: the live window cannot run: fix "
                                            "weights")


def test_a_corrupt_weights_file_is_broken(weights_dir, tmp_path):
    copy = Path(shutil.copytree(weights_dir, tmp_path / "weights"))
    victim = next(p for p in sorted(copy.iterdir()) if p.suffix == ".npy")
    victim.write_bytes(victim.read_bytes()[:-8] + b"\0" * 8)
    code, checks, _ = doctor("--weights", copy, env=OFFSCREEN)
    assert checks["weights"][0] == BROKEN and "sha256" in checks["weights"][1]
    assert code == 1


def test_a_display_qt_cannot_open_is_broken(weights_dir):
    """DISPLAY names an X server that is not there (a stale `ssh -X`, a closed Xvfb)."""
    code, checks, _ = doctor(env={**NO_DISPLAY, "DISPLAY": ":987",
                                  "POSEREC_WEIGHTS_DIR": str(weights_dir)})
    assert checks["display"][0] == BROKEN
    assert checks["display"][1].startswith("X11 :987: Qt cannot open the window (")
    assert "make system-deps" in checks["display"][1]
    assert code == 1


def test_a_busy_overlay_port_is_reported_but_does_not_block(weights_dir):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, checks, _ = doctor("--port", port, env={**OFFSCREEN,
                                                      "POSEREC_WEIGHTS_DIR": str(weights_dir)})
    assert checks["overlay port"][0] == BROKEN
    assert f"127.0.0.1:{port} is in use" in checks["overlay port"][1]
    assert code == 0


def test_an_unreachable_obs_blocks(weights_dir):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, not listening: connections are refused
        code, checks, verdict = doctor(env={**OFFSCREEN, "POSEREC_WEIGHTS_DIR": str(weights_dir),
                                            "POSEREC_OBS_URL": f"ws://127.0.0.1:{port}"})
    assert checks["OBS"][0] == BROKEN
    assert checks["OBS"][1].startswith(f"OBS at ws://127.0.0.1:{port} does not answer")
    assert code == 1 and "fix OBS" in verdict


@pytest.fixture(scope="module")
def obs(tmp_path_factory):
    """A real OBS Studio, in a private network with only loopback (doctor runs inside it). OBS
    reads its settings from $XDG_CONFIG_HOME when set (conftest sets one for PoseRec's own
    settings file), so it is started without it, to read the HOME that ObsStudio prepares."""
    config_home = os.environ.pop("XDG_CONFIG_HOME", None)
    try:
        with private_network():
            with ObsStudio(tmp_path_factory.mktemp("obs-home"), OBS_PORT,
                           OBS_PASSWORD) as studio:
                yield studio
    finally:
        if config_home is not None:
            os.environ["XDG_CONFIG_HOME"] = config_home


@pytest.mark.parametrize("password, status", [(OBS_PASSWORD, OK), ("wrong", BROKEN)])
def test_obs_reachable_with_its_password(obs, weights_dir, password, status):
    code, checks, _ = doctor("--obs", obs.url, env={**OFFSCREEN,
                                                    "POSEREC_WEIGHTS_DIR": str(weights_dir),
                                                    PASSWORD_VARIABLE: password})
    assert checks["OBS"][0] == status
    if status == OK:
        assert checks["OBS"][1] == f"OBS 29.0.2 with obs-websocket 5.1.0 at {obs.url}"
    else:
        assert "refused the password" in checks["OBS"][1]
    assert code == (0 if status == OK else 1)
