"""A synthetic dataset with planted pose-item structure, for tests and demos.

Each motion class moves one body part in its own way (raising both arms, waving the right
hand, nodding, jumping, ...). Every item belongs to one class, and its description names the
motion. A window is labelled 1 with every item of its class and 0 with a few items of other
classes, so a model that learns the structure ranks a window's own items first.

Write one to a directory: `python -m poserec_core.training.synthetic OUT_DIR`.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np

from ..skeleton import NUM_LANDMARKS, Landmark
from .dataset import PairDataset, save_dataset

L = Landmark
_STANDING = {
    L.NOSE: (0.50, 0.20), L.LEFT_EYE_INNER: (0.51, 0.18), L.LEFT_EYE: (0.52, 0.18),
    L.LEFT_EYE_OUTER: (0.53, 0.18), L.RIGHT_EYE_INNER: (0.49, 0.18), L.RIGHT_EYE: (0.48, 0.18),
    L.RIGHT_EYE_OUTER: (0.47, 0.18), L.LEFT_EAR: (0.55, 0.19), L.RIGHT_EAR: (0.45, 0.19),
    L.MOUTH_LEFT: (0.52, 0.23), L.MOUTH_RIGHT: (0.48, 0.23),
    L.LEFT_SHOULDER: (0.60, 0.32), L.RIGHT_SHOULDER: (0.40, 0.32),
    L.LEFT_ELBOW: (0.64, 0.45), L.RIGHT_ELBOW: (0.36, 0.45),
    L.LEFT_WRIST: (0.66, 0.57), L.RIGHT_WRIST: (0.34, 0.57),
    L.LEFT_PINKY: (0.67, 0.60), L.RIGHT_PINKY: (0.33, 0.60),
    L.LEFT_INDEX: (0.66, 0.61), L.RIGHT_INDEX: (0.34, 0.61),
    L.LEFT_THUMB: (0.65, 0.60), L.RIGHT_THUMB: (0.35, 0.60),
    L.LEFT_HIP: (0.56, 0.60), L.RIGHT_HIP: (0.44, 0.60),
    L.LEFT_KNEE: (0.57, 0.76), L.RIGHT_KNEE: (0.43, 0.76),
    L.LEFT_ANKLE: (0.57, 0.92), L.RIGHT_ANKLE: (0.43, 0.92),
    L.LEFT_HEEL: (0.56, 0.94), L.RIGHT_HEEL: (0.44, 0.94),
    L.LEFT_FOOT_INDEX: (0.59, 0.96), L.RIGHT_FOOT_INDEX: (0.41, 0.96),
}
"""A person standing, facing the camera, in image coordinates (x right, y down)."""

_HEAD = {lm: 1.0 for lm in Landmark if lm <= L.MOUTH_RIGHT}
_LEFT_HAND = {L.LEFT_ELBOW: 0.5, L.LEFT_WRIST: 1.0, L.LEFT_PINKY: 1.0, L.LEFT_INDEX: 1.0,
              L.LEFT_THUMB: 1.0}
_RIGHT_HAND = {L.RIGHT_ELBOW: 0.5, L.RIGHT_WRIST: 1.0, L.RIGHT_PINKY: 1.0, L.RIGHT_INDEX: 1.0,
               L.RIGHT_THUMB: 1.0}
_RIGHT_LEG = {L.RIGHT_KNEE: 0.5, L.RIGHT_ANKLE: 1.0, L.RIGHT_HEEL: 1.0, L.RIGHT_FOOT_INDEX: 1.0}
_UPPER_BODY = {**_HEAD, L.LEFT_SHOULDER: 0.8, L.RIGHT_SHOULDER: 0.8,
               **{lm: 0.6 for lm in (*_LEFT_HAND, *_RIGHT_HAND)}}
_WHOLE_BODY = {lm: 1.0 for lm in Landmark}


@dataclass(frozen=True)
class Motion:
    """A planted motion: which landmarks move (with a weight), in which direction (x, y, z),
    how fast."""

    phrase: str
    landmarks: dict
    direction: tuple[float, float, float]
    cycles_per_window: float


MOTIONS = (
    Motion("raising both arms", {**_LEFT_HAND, **_RIGHT_HAND}, (0.0, -1.0, 0.0), 0.5),
    Motion("waving the right hand", _RIGHT_HAND, (1.0, 0.0, 0.0), 2.0),
    Motion("waving the left hand", _LEFT_HAND, (-1.0, 0.0, 0.0), 2.0),
    Motion("nodding the head", _HEAD, (0.0, 1.0, 0.0), 2.0),
    Motion("jumping", _WHOLE_BODY, (0.0, -1.0, 0.0), 1.0),
    Motion("kicking the right leg", _RIGHT_LEG, (-0.4, -0.6, -0.7), 1.0),
    Motion("leaning to the side", _UPPER_BODY, (1.0, 0.0, 0.0), 0.5),
    Motion("squatting down", {**_UPPER_BODY, L.LEFT_HIP: 1.0, L.RIGHT_HIP: 1.0,
                              L.LEFT_KNEE: 0.5, L.RIGHT_KNEE: 0.5}, (0.0, 1.0, 0.0), 0.5),
)
"""The planted motion classes, one per group of items."""
del L

EFFECTS = ("stars", "confetti", "balloons", "sparkles", "hearts", "bubbles", "snowflakes",
           "fireworks", "flames", "petals", "lightning", "rainbow")
"""Effect words that item names are made of."""


@dataclass(frozen=True)
class SyntheticSpec:
    """Size and seed of a synthetic dataset."""

    classes: int = len(MOTIONS)
    items_per_class: int = 3
    videos_per_class: int = 16
    windows_per_video: int = 1
    window_frames: int = 10
    stride: int = 5
    negatives_per_window: int = 6
    amplitude: float = 0.2
    posture: float = 1.0
    swing: float = 0.5
    shift: float = 0.03
    noise: float = 0.005
    seed: int = 0

    def __post_init__(self):
        if not 1 <= self.classes <= len(MOTIONS):
            raise ValueError(f"classes must be in 1..{len(MOTIONS)}, got {self.classes}")
        if min(self.items_per_class, self.videos_per_class, self.windows_per_video,
               self.window_frames, self.stride) < 1 or self.negatives_per_window < 0:
            raise ValueError("synthetic sizes must be positive")
        if self.items_per_class > len(EFFECTS):
            raise ValueError(f"at most {len(EFFECTS)} items per class")


def _video(motion: Motion, spec: SyntheticSpec, rng: np.random.Generator) -> np.ndarray:
    """(windows_per_video, T, 33, 4) windows cut every `stride` frames from one clip.

    x and y jitter with `noise`; z moves only with the motion and visibility is 1, so that
    neither channel is pure noise (the encoder's input BatchNorm would blow noise up to unit
    variance)."""
    frames = spec.stride * (spec.windows_per_video - 1) + spec.window_frames
    base = np.zeros((NUM_LANDMARKS, 3))
    for landmark, xy in _STANDING.items():
        base[landmark, :2] = xy
    scale, shift = rng.uniform(0.9, 1.1), rng.uniform(-spec.shift, spec.shift, size=2)
    base[:, :2] = (base[:, :2] - 0.5) * scale + 0.5 + shift
    weights = np.zeros(NUM_LANDMARKS)
    for landmark, weight in motion.landmarks.items():
        weights[landmark] = weight
    t = np.arange(frames) / spec.window_frames
    wave = spec.posture + spec.swing * np.sin(2 * np.pi * motion.cycles_per_window * t
                                              + rng.uniform(0, 2 * np.pi))
    amplitude = spec.amplitude * scale * rng.uniform(0.8, 1.2)
    offset = amplitude * wave[:, None, None] * weights[None, :, None] * np.array(motion.direction)
    xyz = base[None] + offset
    xyz[:, :, :2] += rng.normal(0, spec.noise, size=(frames, NUM_LANDMARKS, 2))
    visibility = np.ones((frames, NUM_LANDMARKS, 1))
    clip = np.concatenate([xyz, visibility], axis=2)
    starts = range(0, spec.stride * spec.windows_per_video, spec.stride)
    return np.stack([clip[s:s + spec.window_frames] for s in starts])


def item_class(spec: SyntheticSpec) -> np.ndarray:
    """The motion class of each item (items are grouped by class)."""
    return np.repeat(np.arange(spec.classes), spec.items_per_class)


def synthetic_item_text(motion: Motion, effect: str) -> dict[str, str]:
    """The `name` and `description` of an effect for a motion."""
    return {"name": f"{effect} ({motion.phrase})",
            "description": f"{effect} that appear when someone is {motion.phrase}"}


def make_synthetic(spec: SyntheticSpec = SyntheticSpec()) -> PairDataset:
    """A seeded dataset: windows grouped by clip, items grouped by motion class."""
    rng = np.random.default_rng(spec.seed)
    windows, groups, window_class = [], [], []
    for video in range(spec.classes * spec.videos_per_class):
        cls = video % spec.classes
        windows.append(_video(MOTIONS[cls], spec, rng))
        groups += [video] * spec.windows_per_video
        window_class += [cls] * spec.windows_per_video
    classes = item_class(spec)
    texts = [synthetic_item_text(MOTIONS[c], EFFECTS[i % spec.items_per_class])
             for i, c in enumerate(classes)]
    pair_window, pair_item, pair_label = [], [], []
    for w, cls in enumerate(window_class):
        own = np.flatnonzero(classes == cls)
        others = np.flatnonzero(classes != cls)
        negatives = rng.choice(others, size=min(spec.negatives_per_window, len(others)),
                               replace=False)
        for item, label in [(i, 1) for i in own] + [(i, 0) for i in negatives]:
            pair_window.append(w)
            pair_item.append(item)
            pair_label.append(label)
    return PairDataset(
        poses=np.concatenate(windows).astype(np.float32),
        groups=np.asarray(groups, dtype=np.int64),
        pair_window=np.asarray(pair_window, dtype=np.int64),
        pair_item=np.asarray(pair_item, dtype=np.int64),
        pair_label=np.asarray(pair_label, dtype=np.float32),
        item_names=tuple(t["name"] for t in texts),
        item_text={column: tuple(t[column] for t in texts) for column in ("name", "description")},
    )


def main(argv: list[str] | None = None) -> None:
    """Write a synthetic dataset directory (see `poserec train --help`)."""
    parser = argparse.ArgumentParser(description="write a synthetic PoseRec training dataset")
    parser.add_argument("directory")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    dataset = make_synthetic(SyntheticSpec(seed=args.seed))
    save_dataset(args.directory, dataset)
    print(f"{args.directory}: {len(dataset.poses)} windows, {dataset.num_items} items, "
          f"{len(dataset.pair_window)} labelled pairs")


if __name__ == "__main__":
    main()
