"""The ring buffer: preallocated, time-ordered windows that copy once; the re-rank schedule."""
from __future__ import annotations

import numpy as np
import pytest

from realtime.engine.inference_worker import rerank_due
from realtime.engine.ring_buffer import PoseRingBuffer
from realtime.messages import PoseFrame


def pose_frame(seq: int, person: bool = True) -> PoseFrame:
    """A frame whose every landmark value is its seq, so windows show their order."""
    landmarks = np.full((33, 4), seq, dtype=np.float32) if person else None
    return PoseFrame(seq, 1_000 + seq, 2_000 + seq, landmarks)


@pytest.mark.parametrize("capacity, pushed, expected_seq", [
    (3, range(3), [0, 1, 2]),
    (3, range(4), [1, 2, 3]),
    (3, range(10), [7, 8, 9]),
    (1, range(5), [4]),
    (10, range(100, 125), list(range(115, 125))),
])
def test_window_holds_the_last_frames_in_time_order(capacity, pushed, expected_seq):
    buffer = PoseRingBuffer(capacity)
    for seq in pushed:
        buffer.push(pose_frame(seq))
    window = buffer.window()
    assert window.seq.tolist() == expected_seq
    assert window.poses[:, 0, 0].tolist() == expected_seq
    assert window.t_capture_ns.tolist() == [1_000 + s for s in expected_seq]
    assert window.t_pose_ns.tolist() == [2_000 + s for s in expected_seq]
    assert window.end_seq == expected_seq[-1]
    assert window.poses.shape == (capacity, 33, 4) and window.poses.dtype == np.float32


def test_window_is_a_copy_and_storage_is_preallocated():
    buffer = PoseRingBuffer(4)
    storage = buffer._poses
    for seq in range(6):
        buffer.push(pose_frame(seq))
    window = buffer.window()
    window.poses[:] = -1
    assert buffer.window().seq.tolist() == [2, 3, 4, 5]
    assert buffer.window().poses[:, 0, 0].tolist() == [2, 3, 4, 5]
    assert not np.shares_memory(window.poses, storage)
    assert buffer._poses is storage


@pytest.mark.parametrize("pushed, expect_full", [(0, False), (3, False), (4, True), (9, True)])
def test_a_window_needs_capacity_frames(pushed, expect_full):
    buffer = PoseRingBuffer(4)
    for seq in range(pushed):
        buffer.push(pose_frame(seq))
    assert buffer.full is expect_full and len(buffer) == min(pushed, 4)
    if not expect_full:
        with pytest.raises(ValueError, match="not a window"):
            buffer.window()


def test_clear_starts_over():
    buffer = PoseRingBuffer(3)
    for seq in range(5):
        buffer.push(pose_frame(seq))
    buffer.clear()
    assert len(buffer) == 0 and buffer.pushed == 0 and not buffer.full
    for seq in range(20, 23):
        buffer.push(pose_frame(seq))
    assert buffer.window().seq.tolist() == [20, 21, 22]


@pytest.mark.parametrize("bad, error", [
    (lambda: PoseRingBuffer(0), "capacity"),
    (lambda: PoseRingBuffer(3).push(pose_frame(0, person=False)), "person"),
])
def test_bad_use_is_refused(bad, error):
    with pytest.raises(ValueError, match=error):
        bad()


@pytest.mark.parametrize("window, stride, frames, expected_due", [
    (10, 5, 410, list(range(10, 411, 5))),
    (10, 1, 13, [10, 11, 12, 13]),
    (3, 7, 20, [3, 10, 17]),
    (1, 1, 3, [1, 2, 3]),
    (10, 5, 9, []),
])
def test_rerank_schedule(window, stride, frames, expected_due):
    assert [n for n in range(1, frames + 1) if rerank_due(n, window, stride)] == expected_due
