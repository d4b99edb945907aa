"""A real OBS Studio for tests: Debian's obs-studio (obs-websocket 5.1) headless under Xvfb, in a
private network namespace that only has loopback (OBS tries to reach its website at start).

    with private_network():                      # this thread and what it starts: loopback only
        with ObsStudio(tmp_path / "home", port, password) as obs:
            obs.request("GetSceneItemList", {"sceneName": obs.scene})

The namespace needs root (CI runs as root). Processes started from this thread inherit it, so
OBS and `poserec live` talk to each other over its loopback, and nothing else.
"""
from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

from realtime.outputs.obs_client import ObsClient, ObsUnavailable

CLONE_NEWNET = 0x40000000
READY_TIMEOUT_S = 60.0
"""OBS answers about 1 s after launch on an idle machine; a loaded one is slower."""

REQUEST_TIMEOUT_S = 30.0
"""How long the test's own requests wait for OBS."""

GLOBAL_INI = """[General]
FirstRun=true
LastVersion=486539266

[OBSWebSocket]
FirstLoad=false
ServerEnabled=true
ServerPort={port}
AuthRequired=true
ServerPassword={password}
"""


@contextmanager
def private_network():
    """Move the calling thread into a new network namespace with loopback up; move it back on
    exit. Needs CAP_SYS_ADMIN (root)."""
    libc = ctypes.CDLL(None, use_errno=True)
    with open("/proc/thread-self/ns/net") as original:
        if libc.unshare(CLONE_NEWNET) != 0:
            raise PermissionError(f"unshare(CLONE_NEWNET) failed ({os.strerror(ctypes.get_errno())}):"
                                  " the OBS tests need root for a private network namespace")
        try:
            subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
            yield
        finally:
            if libc.setns(original.fileno(), CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back to the original network failed")


class ObsStudio:
    """One OBS process with a fresh HOME whose global.ini turns on the websocket (port,
    password) and skips the first-run wizard. start() waits until it answers; stop() sends
    SIGINT; kill() SIGKILL; freeze()/thaw() SIGSTOP/SIGCONT (a hung OBS)."""

    def __init__(self, home: Path, port: int, password: str):
        self.home = Path(home)
        self.port = port
        self.password = password
        self.url = f"ws://127.0.0.1:{port}"
        self.log = self.home / "obs.log"
        self._process: subprocess.Popen | None = None
        self.client: ObsClient | None = None

    def start(self) -> "ObsStudio":
        """Launch OBS and connect to it."""
        config = self.home / ".config" / "obs-studio"
        config.mkdir(parents=True, exist_ok=True)
        ini = config / "global.ini"
        if not ini.exists():
            ini.write_text(GLOBAL_INI.format(port=self.port, password=self.password))
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("QT_")  # cv2's import points Qt at its own plugins
               and key != "XDG_CONFIG_HOME"}  # OBS would read its global.ini there, not HOME
        env.update(HOME=str(self.home), LIBGL_ALWAYS_SOFTWARE="1")
        with open(self.log, "ab") as log:
            self._process = subprocess.Popen(
                ["xvfb-run", "-a", "obs", "--multi", "--disable-missing-files-check"],
                cwd=self.home, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            try:
                self.client = ObsClient.connect(self.url, self.password)
                return self
            except ObsUnavailable:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    if self._process.poll() is None:
                        self.kill()  # never leave an OBS behind
                    raise RuntimeError(f"OBS did not start; see {self.log}") from None
                time.sleep(0.2)

    def request(self, request_type: str, data: dict | None = None) -> dict:
        """One request on the test's own connection (a loaded or just thawed OBS may take a
        while to answer)."""
        return self.client.request(request_type, data, REQUEST_TIMEOUT_S)

    @property
    def scene(self) -> str:
        """The current program scene's name."""
        return self.request("GetCurrentProgramScene")["currentProgramSceneName"]

    def _signal(self, signum: int) -> None:
        os.killpg(self._process.pid, signum)

    def stop(self) -> None:
        """SIGINT (OBS saves and quits), then wait; SIGKILL when it does not end in 10 s."""
        if self.client is not None:
            self.client.close()
            self.client = None
        if self._process is None or self._process.poll() is not None:
            return
        self._signal(signal.SIGCONT)
        self._signal(signal.SIGINT)
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL OBS and its X server: OBS is gone at once, as after a crash."""
        if self.client is not None:
            self.client.close()
            self.client = None
        self._signal(signal.SIGKILL)
        self._process.wait(10)

    def freeze(self) -> None:
        """SIGSTOP: OBS keeps its connections open and answers nothing."""
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT after freeze()."""
        self._signal(signal.SIGCONT)

    def __enter__(self) -> "ObsStudio":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
