"""The checks `poserec doctor` runs: each says OK, missing, broken (or skipped) and what to do.

`required` checks are what the live window needs (Python, torch, MediaPipe and its pose model,
the release weights, a display Qt opens, OBS when one is configured): one that is not OK makes
`poserec doctor` exit 1. The others (CUDA, cameras, the virtual camera, the overlay port) are
reported for the features that use them; the window runs without them (on the demo, on the CPU).
"""
from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from poserec_core.errors import PoseRecError

OK, MISSING, BROKEN, SKIPPED = "OK", "missing", "broken", "skipped"
SUPPORTED_PYTHON = (3, 11)
"""The Python the pins are for (setup.cfg: python_requires >=3.11,<3.12)."""
POSE_MODEL_FILES = ("modules/pose_detection/pose_detection.tflite",
                    "modules/pose_landmark/pose_landmark_full.tflite")
"""The pose models mediapipe 0.10.21 carries in its wheel (model_complexity=1, "full")."""
OVERLAY_PORT = 8765
"""The port the README's `--serve` examples use."""
QT_TIMEOUT_S = 20.0
"""How long a test QApplication may take to open on the display."""
V4L2_LOOPBACK_DRIVER = "v4l2 loopback"
"""The driver name a v4l2loopback device reports to VIDIOC_QUERYCAP."""
INSTALL = "run `make live` (or .venv/bin/pip install -r requirements-live.txt)"


@dataclass(frozen=True)
class Check:
    """One line of `poserec doctor`: what was checked, its status, and what was found or what
    to do."""

    name: str
    status: str
    detail: str
    required: bool = True

    @property
    def blocks_window(self) -> bool:
        """Whether this result keeps the live window from running."""
        return self.required and self.status in (MISSING, BROKEN)

    def line(self) -> str:
        """`status  name  detail`, aligned."""
        return f"{self.status:<8} {self.name:<15} {self.detail}"


def _failure(name: str, exc: BaseException, required: bool = True) -> Check:
    status = MISSING if isinstance(exc, ImportError) else BROKEN
    what = f"not installed ({exc})" if status == MISSING else f"{type(exc).__name__}: {exc}"
    return Check(name, status, f"{what}; {INSTALL}", required)


def check_python(version=sys.version_info) -> Check:
    """The interpreter is the one the pins are for."""
    text = f"{version[0]}.{version[1]}.{version[2]} ({sys.executable})"
    if tuple(version[:2]) == SUPPORTED_PYTHON:
        return Check("Python", OK, text)
    return Check("Python", BROKEN, f"{text}; PoseRec Live needs Python 3.11: install python3.11 "
                                   "and run `make live`")


def check_torch() -> list[Check]:
    """torch imports (required); CUDA is reported (the encoder runs on the CPU without it)."""
    try:
        import torch
    except Exception as exc:  # noqa: BLE001 - any import failure is the line's content
        return [_failure("torch", exc)]
    checks = [Check("torch", OK, f"torch {torch.__version__}")]
    if torch.cuda.is_available():
        checks.append(Check("CUDA", OK, f"{torch.cuda.get_device_name(0)} (--device auto uses "
                                        "it)", required=False))
    elif torch.version.cuda is None:
        checks.append(Check("CUDA", MISSING, "this torch is a CPU build: the encoder runs on the "
                                             "CPU (fine for one camera); for a GPU install a CUDA "
                                             "build of torch 2.13.0", required=False))
    else:
        checks.append(Check("CUDA", MISSING, f"torch is built for CUDA {torch.version.cuda} but "
                                             "sees no GPU (driver?): the encoder runs on the CPU",
                            required=False))
    return checks


def check_mediapipe() -> Check:
    """mediapipe imports and carries the pose models the legacy solution loads."""
    try:
        import mediapipe
    except Exception as exc:  # noqa: BLE001
        return _failure("MediaPipe", exc)
    root = Path(mediapipe.__file__).parent
    absent = [name for name in POSE_MODEL_FILES if not (root / name).is_file()]
    if absent:
        return Check("MediaPipe", BROKEN, f"mediapipe {mediapipe.__version__} lacks its pose "
                                          f"model ({', '.join(absent)}); install "
                                          "mediapipe==0.10.21, the last release that carries it")
    return Check("MediaPipe", OK, f"mediapipe {mediapipe.__version__}, pose model "
                                  f"{(root / POSE_MODEL_FILES[1]).name}")


def check_weights(directory: Path | None = None) -> Check:
    """The release weights are installed and every file's sha256 matches the manifest."""
    from poserec_core.bundle import MANIFEST_NAME
    from poserec_core.weights_install import default_weights_dir, verify_installed

    directory = directory or default_weights_dir()
    try:
        verified = verify_installed(directory)
    except PoseRecError as exc:
        status = MISSING if not (directory / MANIFEST_NAME).is_file() else BROKEN
        return Check("weights", status, f"{exc}; `make live` installs them")
    return Check("weights", OK, f"{len(verified)} release files verified (sha256) in {directory}")


def check_display(environ=None, platform: str = sys.platform) -> Check:
    """A display exists (X11 or Wayland) and Qt opens an application on it."""
    from ..ui.display import display_problem

    environ = os.environ if environ is None else environ
    problem = display_problem(environ, platform)
    if problem is not None:
        return Check("display", MISSING, f"{problem}: the window needs a desktop, or run it "
                                         "under `xvfb-run -a poserec live`; without one "
                                         "`poserec live` shows the console view")
    where = (environ.get("WAYLAND_DISPLAY") and f"Wayland {environ['WAYLAND_DISPLAY']}"
             or environ.get("DISPLAY") and f"X11 {environ['DISPLAY']}"
             or f"Qt platform {environ.get('QT_QPA_PLATFORM')}")
    try:
        from ..ui.app import drop_opencv_qt_plugins
    except Exception as exc:  # noqa: BLE001
        return _failure("display", exc)
    child_environ = dict(environ)
    drop_opencv_qt_plugins(child_environ)
    failure = _qt_failure(child_environ)
    if failure:
        return Check("display", BROKEN, f"{where}: Qt cannot open the window ({failure}); "
                                        "install Qt's system libraries with `make system-deps`")
    return Check("display", OK, f"{where}, Qt opens on it")


def _qt_failure(environ: dict) -> str | None:
    """Why a QApplication cannot start with `environ` (its last line of stderr), None when it
    starts; in a child process, as Qt aborts the process when its platform plugin cannot
    load."""
    code = "from PyQt5.QtWidgets import QApplication; QApplication([])"
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=QT_TIMEOUT_S, env=environ)
    except subprocess.TimeoutExpired:
        return f"no answer in {QT_TIMEOUT_S:g} s"
    if done.returncode == 0:
        return None
    lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
    return lines[-1] if lines else f"exit status {done.returncode}"


def check_cameras() -> Check:
    """The cameras `--source N` can open (optional: the demo and files need none)."""
    from .cameras import NO_CAMERA, list_cameras

    cameras = list_cameras()
    if not cameras:
        return Check("cameras", MISSING, NO_CAMERA, required=False)
    names = ", ".join(f"{c.index} ({c.name})" for c in cameras)
    return Check("cameras", OK, f"{len(cameras)}: {names}; `poserec cameras` lists their modes",
                 required=False)


def check_virtual_camera(platform: str = sys.platform, devices=None) -> Check:
    """A v4l2loopback device for `--virtual-cam` (Linux); elsewhere pyvirtualcam uses OBS's."""
    from ..outputs.virtual_cam import install_hint
    from .camera_modes import driver_name

    if not platform.startswith("linux"):
        return Check("virtual camera", SKIPPED, "checked on Linux only; --virtual-cam uses OBS "
                                                f"Virtual Camera here: {install_hint(platform)}",
                     required=False)
    devices = sorted(Path("/dev").glob("video*")) if devices is None else devices
    loopback = [str(d) for d in devices if driver_name(str(d)) == V4L2_LOOPBACK_DRIVER]
    if not loopback:
        return Check("virtual camera", MISSING, f"no v4l2loopback device for --virtual-cam: "
                                                f"{install_hint(platform)}", required=False)
    return Check("virtual camera", OK, f"v4l2loopback {', '.join(loopback)} (--virtual-cam)",
                 required=False)


def check_port(port: int = OVERLAY_PORT, host: str = "127.0.0.1") -> Check:
    """The overlay port `--serve` would listen on is free (optional)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return Check("overlay port", BROKEN, f"{host}:{port} is in use (another "
                                                     "`poserec live --serve`?): pick another "
                                                     "with --serve PORT, or --serve 0 for a free "
                                                     "one", required=False)
            return Check("overlay port", BROKEN, f"cannot listen on {host}:{port} "
                                                 f"({exc.strerror})", required=False)
    return Check("overlay port", OK, f"{host}:{port} is free (`poserec live --serve {port}`)",
                 required=False)


def check_obs(url: str | None, password: str | None) -> Check:
    """OBS answers at `url` with the password (required when configured)."""
    from ..outputs.obs_client import ObsClient, ObsUnavailable

    if not url:
        return Check("OBS", SKIPPED, "not configured (doctor --obs ws://127.0.0.1:4455, or "
                                     "$POSEREC_OBS_URL)", required=False)
    try:
        client = ObsClient.connect(url, password)
    except ObsUnavailable as exc:
        return Check("OBS", BROKEN, str(exc))
    try:
        version = client.request("GetVersion")
    except PoseRecError as exc:
        return Check("OBS", BROKEN, f"OBS at {url} answered but not to GetVersion ({exc})")
    finally:
        client.close()
    return Check("OBS", OK, f"OBS {version.get('obsVersion', '?')} with obs-websocket "
                            f"{version.get('obsWebSocketVersion', '?')} at {url}")
