"""Test media made on the spot: videos with and without a real person, a PoseLandmarker bundle.

The person is the astronaut photograph that scikit-image ships (MediaPipe finds her pose);
a crop that moves over it makes consecutive frames differ as in a real video.
"""
from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np

VIDEO_FPS = 30.0
FOURCC = "MJPG"
"""Motion JPEG in .avi: written and read by every OpenCV build with FFmpeg or without."""


def _write_video(path: Path, frames, size: tuple[int, int]) -> Path:
    import cv2

    path = Path(path)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*FOURCC), VIDEO_FPS, size)
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {path} with {FOURCC}")
    try:
        for frame in frames:
            writer.write(frame)
    finally:
        writer.release()
    return path


def person_frames(frames: int = 60, size: tuple[int, int] = (320, 320)):
    """BGR frames (height, width, 3) of the astronaut photograph under a crop that sways."""
    import cv2
    from skimage import data

    photo = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    side = int(photo.shape[0] * 0.82)
    room = photo.shape[0] - side
    for n in range(frames):
        phase = 2 * math.pi * n / max(frames, 1)
        x = int(room / 2 * (1 + math.sin(phase)))
        y = int(room / 4 * (1 + math.cos(phase)))
        yield cv2.resize(photo[y:y + side, x:x + side], size, interpolation=cv2.INTER_AREA)


def make_person_video(path: Path, frames: int = 60, size: tuple[int, int] = (320, 320)) -> Path:
    """Write a `frames`-frame .avi (30 fps, `size` = (width, height)) of a real person; returns
    the path."""
    return _write_video(path, person_frames(frames, size), size)


def make_empty_video(path: Path, frames: int = 30, size: tuple[int, int] = (320, 240)) -> Path:
    """Write a `frames`-frame .avi of a moving grey gradient, with nobody in it; returns path."""
    width, height = size
    ramp = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]

    def gradient(n: int) -> np.ndarray:
        shifted = (ramp + 4 * n) % 256
        return np.broadcast_to(shifted, (height, width, 3)).astype(np.uint8)

    return _write_video(path, (gradient(n) for n in range(frames)), size)


def make_pose_task_bundle(path: Path) -> Path:
    """A PoseLandmarker `.task` bundle built from the pose models inside the mediapipe wheel.

    The Tasks API needs image-normalisation metadata the bundled legacy models lack: the detector
    takes [-1, 1] input, the landmark model [0, 1]. Same networks, so the same landmarks.
    """
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer
    import mediapipe

    modules = Path(mediapipe.__file__).parent / "modules"

    def with_metadata(model: Path, mean: float, std: float, outputs: int) -> bytes:
        writer = metadata_writer.MetadataWriter.create(bytearray(model.read_bytes()))
        writer.add_general_info(model.stem, "MediaPipe pose model from the mediapipe wheel")
        writer.add_image_input(norm_mean=[mean], norm_std=[std])
        for n in range(outputs):
            writer.add_feature_output(name=f"output_{n}")
        return bytes(writer.populate()[0])

    detector = with_metadata(modules / "pose_detection" / "pose_detection.tflite", 127.5, 127.5, 2)
    landmarks = with_metadata(modules / "pose_landmark" / "pose_landmark_full.tflite", 0.0, 255.0, 5)
    path = Path(path)
    with zipfile.ZipFile(path, "w") as bundle:
        bundle.writestr("pose_detector.tflite", detector)
        bundle.writestr("pose_landmarks_detector.tflite", landmarks)
    return path
