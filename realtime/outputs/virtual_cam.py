"""`--virtual-cam`: the annotated frames as a webcam other programs (OBS, Zoom, a browser) can
open, through pyvirtualcam: v4l2loopback on Linux, OBS Virtual Camera on Windows and macOS."""
from __future__ import annotations

import sys
from typing import TextIO

import numpy as np

from poserec_core.errors import PoseRecError

INSTALL_HINTS = {
    "linux": "install v4l2loopback (sudo apt-get install v4l2loopback-dkms) and load it with "
             "'sudo modprobe v4l2loopback devices=1 exclusive_caps=1 card_label=PoseRec'",
    "win32": "install OBS Studio (its virtual camera comes with it) and keep OBS's own Start "
             "Virtual Camera off while PoseRec uses it",
    "darwin": "install OBS Studio, then in OBS click Start Virtual Camera once and Stop it",
}
"""What to install for a virtual camera device, per platform (sys.platform)."""


def install_hint(platform: str = sys.platform) -> str:
    """What to install on this platform so that pyvirtualcam finds a device."""
    return INSTALL_HINTS.get(platform, INSTALL_HINTS["linux"])


class VirtualCamera:
    """Frame output of `--virtual-cam`: BGR frames of `size` (width, height) at `fps`.

    open() fails with one line saying what to install when no virtual camera device exists,
    and otherwise names the device on `announce`.
    """

    def __init__(self, size: tuple[int, int], fps: float, platform: str = sys.platform,
                 announce: TextIO | None = None):
        self.size = size
        self.fps = fps
        self.platform = platform
        self._announce = announce
        self._camera = None

    def open(self) -> None:
        """Open the first virtual camera device pyvirtualcam finds."""
        try:
            import pyvirtualcam
        except ImportError:
            raise PoseRecError("--virtual-cam needs the pyvirtualcam package: pip install "
                               "pyvirtualcam==0.15.0") from None
        width, height = self.size
        try:
            self._camera = pyvirtualcam.Camera(width, height, self.fps,
                                               fmt=pyvirtualcam.PixelFormat.BGR)
        except RuntimeError as exc:
            reason = " ".join(str(exc).split()).split(". ")[0].rstrip(".")  # its first sentence
            raise PoseRecError(f"--virtual-cam: no virtual camera device ({reason}); "
                               f"{install_hint(self.platform)}") from None
        if self._announce is not None:
            print(f"poserec live: virtual camera {self._camera.device} ({width}x{height}, "
                  f"{self.fps:g} fps)", file=self._announce, flush=True)

    def send(self, frame: np.ndarray) -> None:
        """Show one frame (H, W, 3) BGR of the camera's size."""
        self._camera.send(frame)

    def close(self) -> None:
        """Release the device."""
        if self._camera is not None:
            self._camera.close()
            self._camera = None
