"""The capture modes a Linux camera's driver lists (V4L2: pixel formats, frame sizes, rates),
read with the VIDIOC_ENUM_* ioctls of <linux/videodev2.h>, no library needed."""
from __future__ import annotations

import ctypes
import sys
from typing import Callable

V4L2_BUF_TYPE_VIDEO_CAPTURE = 1
V4L2_FRMSIZE_TYPE_DISCRETE = 1
V4L2_FRMIVAL_TYPE_DISCRETE = 1
MAX_ENTRIES = 64
"""At most this many formats, sizes per format or rates per size are read."""


class Capability(ctypes.Structure):
    """struct v4l2_capability."""

    _fields_ = [("driver", ctypes.c_char * 16), ("card", ctypes.c_char * 32),
                ("bus_info", ctypes.c_char * 32), ("version", ctypes.c_uint32),
                ("capabilities", ctypes.c_uint32), ("device_caps", ctypes.c_uint32),
                ("reserved", ctypes.c_uint32 * 3)]


class Fmtdesc(ctypes.Structure):
    """struct v4l2_fmtdesc."""

    _fields_ = [("index", ctypes.c_uint32), ("type", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("description", ctypes.c_char * 32), ("pixelformat", ctypes.c_uint32),
                ("mbus_code", ctypes.c_uint32), ("reserved", ctypes.c_uint32 * 3)]


class Frmsizeenum(ctypes.Structure):
    """struct v4l2_frmsizeenum (the discrete member of its union, padded to the stepwise one)."""

    _fields_ = [("index", ctypes.c_uint32), ("pixel_format", ctypes.c_uint32),
                ("type", ctypes.c_uint32), ("width", ctypes.c_uint32),
                ("height", ctypes.c_uint32), ("stepwise_rest", ctypes.c_uint32 * 4),
                ("reserved", ctypes.c_uint32 * 2)]


class Frmivalenum(ctypes.Structure):
    """struct v4l2_frmivalenum (the discrete member of its union, padded to the stepwise one)."""

    _fields_ = [("index", ctypes.c_uint32), ("pixel_format", ctypes.c_uint32),
                ("width", ctypes.c_uint32), ("height", ctypes.c_uint32),
                ("type", ctypes.c_uint32), ("numerator", ctypes.c_uint32),
                ("denominator", ctypes.c_uint32), ("stepwise_rest", ctypes.c_uint32 * 4),
                ("reserved", ctypes.c_uint32 * 2)]


def _iowr(number: int, struct) -> int:
    """_IOWR('V', number, struct) of <asm-generic/ioctl.h>."""
    return (3 << 30) | (ctypes.sizeof(struct) << 16) | (ord("V") << 8) | number


VIDIOC_QUERYCAP = (2 << 30) | (ctypes.sizeof(Capability) << 16) | (ord("V") << 8)  # _IOR('V', 0)
VIDIOC_ENUM_FMT = _iowr(2, Fmtdesc)
VIDIOC_ENUM_FRAMESIZES = _iowr(74, Frmsizeenum)
VIDIOC_ENUM_FRAMEINTERVALS = _iowr(75, Frmivalenum)

Ioctl = Callable[[int, ctypes.Structure], bool]
"""ioctl(request, struct) -> whether the driver filled the struct (False past the last entry)."""


def fourcc_text(code: int) -> str:
    """The 4 characters of a V4L2 pixel format code (little-endian)."""
    return "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4)).strip()


def _entries(ioctl: Ioctl, request: int, make) -> list:
    found = []
    for index in range(MAX_ENTRIES):
        entry = make(index)
        if not ioctl(request, entry):
            break
        found.append(entry)
    return found


def modes(ioctl: Ioctl) -> tuple[str, ...]:
    """One line per format and discrete size: "MJPG 1280x720 @ 30, 15 fps" (rates highest
    first); a format whose sizes are a range is "YUYV (any size from the driver's range)"."""
    lines = []
    formats = _entries(ioctl, VIDIOC_ENUM_FMT,
                       lambda i: Fmtdesc(index=i, type=V4L2_BUF_TYPE_VIDEO_CAPTURE))
    for fmt in formats:
        name = fourcc_text(fmt.pixelformat)
        sizes = _entries(ioctl, VIDIOC_ENUM_FRAMESIZES,
                         lambda i: Frmsizeenum(index=i, pixel_format=fmt.pixelformat))
        discrete = [s for s in sizes if s.type == V4L2_FRMSIZE_TYPE_DISCRETE]
        if sizes and not discrete:
            lines.append(f"{name} (any size from the driver's range)")
        for size in discrete:
            rates = _rates(ioctl, fmt.pixelformat, size.width, size.height)
            rate_text = f" @ {', '.join(f'{r:g}' for r in rates)} fps" if rates else ""
            lines.append(f"{name} {size.width}x{size.height}{rate_text}")
    return tuple(lines)


def _rates(ioctl: Ioctl, pixel_format: int, width: int, height: int) -> list[float]:
    intervals = _entries(ioctl, VIDIOC_ENUM_FRAMEINTERVALS,
                         lambda i: Frmivalenum(index=i, pixel_format=pixel_format, width=width,
                                               height=height))
    rates = {round(i.denominator / i.numerator, 2) for i in intervals
             if i.type == V4L2_FRMIVAL_TYPE_DISCRETE and i.numerator}
    return sorted(rates, reverse=True)


def _asked(path: str, ask: Callable[[Ioctl], object], platform: str) -> object:
    """ask(ioctl) on the V4L2 device at `path`; None off Linux or when the device cannot be
    opened (busy, no permission)."""
    if not platform.startswith("linux"):
        return None
    import fcntl

    try:
        with open(path, "rb", buffering=0) as device:
            def ioctl(request: int, struct: ctypes.Structure) -> bool:
                try:
                    fcntl.ioctl(device, request, struct)
                except OSError:
                    return False
                return True
            return ask(ioctl)
    except OSError:
        return None


def device_modes(path: str, platform: str = sys.platform) -> tuple[str, ...]:
    """The modes the V4L2 device at `path` lists; () when it cannot be asked (the listing then
    shows the camera without modes)."""
    return _asked(path, modes, platform) or ()


def driver(ioctl: Ioctl) -> str | None:
    """The driver name VIDIOC_QUERYCAP reports ("uvcvideo", "v4l2 loopback")."""
    capability = Capability()
    if not ioctl(VIDIOC_QUERYCAP, capability):
        return None
    return capability.driver.decode(errors="replace")


def driver_name(path: str, platform: str = sys.platform) -> str | None:
    """The driver of the V4L2 device at `path`; None when it cannot be asked."""
    return _asked(path, driver, platform)
