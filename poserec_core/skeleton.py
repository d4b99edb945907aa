"""The BlazePose skeleton as data: 33 named landmarks, 35 connections, the ST-GCN adjacency.

Everything that needs the skeleton (the encoder's graph, the window's drawing, the effect
anchors) reads it from here; there is no second copy of the edge list.
"""
from __future__ import annotations

from enum import IntEnum

import numpy as np


class Landmark(IntEnum):
    """The 33 BlazePose landmarks, in MediaPipe's order (index = row of a pose frame)."""

    NOSE = 0
    LEFT_EYE_INNER = 1
    LEFT_EYE = 2
    LEFT_EYE_OUTER = 3
    RIGHT_EYE_INNER = 4
    RIGHT_EYE = 5
    RIGHT_EYE_OUTER = 6
    LEFT_EAR = 7
    RIGHT_EAR = 8
    MOUTH_LEFT = 9
    MOUTH_RIGHT = 10
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_PINKY = 17
    RIGHT_PINKY = 18
    LEFT_INDEX = 19
    RIGHT_INDEX = 20
    LEFT_THUMB = 21
    RIGHT_THUMB = 22
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31
    RIGHT_FOOT_INDEX = 32


NUM_LANDMARKS = len(Landmark)
"""V: landmarks per pose frame."""

NUM_CHANNELS = 4
"""C: values per landmark (x, y, z, visibility)."""

L = Landmark
CONNECTIONS: tuple[tuple[Landmark, Landmark], ...] = (
    (L.NOSE, L.LEFT_EYE_INNER), (L.LEFT_EYE_INNER, L.LEFT_EYE), (L.LEFT_EYE, L.LEFT_EYE_OUTER),
    (L.LEFT_EYE_OUTER, L.LEFT_EAR), (L.NOSE, L.RIGHT_EYE_INNER),
    (L.RIGHT_EYE_INNER, L.RIGHT_EYE), (L.RIGHT_EYE, L.RIGHT_EYE_OUTER),
    (L.RIGHT_EYE_OUTER, L.RIGHT_EAR), (L.MOUTH_LEFT, L.MOUTH_RIGHT),
    (L.LEFT_SHOULDER, L.RIGHT_SHOULDER), (L.LEFT_SHOULDER, L.LEFT_ELBOW),
    (L.RIGHT_SHOULDER, L.RIGHT_ELBOW), (L.LEFT_ELBOW, L.LEFT_WRIST),
    (L.RIGHT_ELBOW, L.RIGHT_WRIST), (L.LEFT_WRIST, L.LEFT_PINKY), (L.RIGHT_WRIST, L.RIGHT_PINKY),
    (L.LEFT_WRIST, L.LEFT_INDEX), (L.RIGHT_WRIST, L.RIGHT_INDEX), (L.LEFT_WRIST, L.LEFT_THUMB),
    (L.RIGHT_WRIST, L.RIGHT_THUMB), (L.LEFT_PINKY, L.LEFT_INDEX), (L.RIGHT_PINKY, L.RIGHT_INDEX),
    (L.LEFT_SHOULDER, L.LEFT_HIP), (L.RIGHT_SHOULDER, L.RIGHT_HIP), (L.LEFT_HIP, L.RIGHT_HIP),
    (L.LEFT_HIP, L.LEFT_KNEE), (L.RIGHT_HIP, L.RIGHT_KNEE), (L.LEFT_KNEE, L.LEFT_ANKLE),
    (L.RIGHT_KNEE, L.RIGHT_ANKLE), (L.LEFT_ANKLE, L.LEFT_HEEL), (L.RIGHT_ANKLE, L.RIGHT_HEEL),
    (L.LEFT_HEEL, L.LEFT_FOOT_INDEX), (L.RIGHT_HEEL, L.RIGHT_FOOT_INDEX),
    (L.LEFT_ANKLE, L.LEFT_FOOT_INDEX), (L.RIGHT_ANKLE, L.RIGHT_FOOT_INDEX),
)
"""MediaPipe's 35 pose connections (undirected)."""
del L


def adjacency() -> np.ndarray:
    """(V, V) 0/1 adjacency: hop distance 0 or 1 (connections plus a self-loop on every node)."""
    a = np.eye(NUM_LANDMARKS, dtype=np.float64)
    for i, j in CONNECTIONS:
        a[i, j] = a[j, i] = 1.0
    return a


def normalized_adjacency() -> np.ndarray:
    """(1, V, V) float32 adjacency normalised by column, A[i, j] / deg(j): the encoder's `A`."""
    a = adjacency()
    return (a / a.sum(axis=0, keepdims=True))[None].astype(np.float32)
