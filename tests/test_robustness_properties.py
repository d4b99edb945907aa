"""Property tests (hypothesis): the pose readers take any bytes and any array without an error
other than PoseFileError, and return only what validates; the ring buffer always holds the last
T frames in order, whatever the pushes and clears."""
from __future__ import annotations

import pickle
from collections import deque

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from poserec_core.errors import PoseFileError
from poserec_core.pose_files import read_pose_windows
from realtime.engine.ring_buffer import PoseRingBuffer
from realtime.messages import PoseFrame

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

SAVERS = {
    ".npy": lambda path, array: np.save(path, array, allow_pickle=False),
    ".npz": lambda path, array: np.savez(path, poses=array),
    ".pkl": lambda path, array: path.write_bytes(pickle.dumps(array)),
}

DTYPES = st.sampled_from([np.float16, np.float32, np.float64, np.int32, np.uint8, np.bool_,
                          np.complex64])
POSE_SHAPES = st.tuples(st.integers(0, 3), st.integers(1, 4), st.just(33), st.just(4))
OTHER_SHAPES = hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=5)


@st.composite
def arrays(draw):
    """Mostly the right layout, in any dtype, with any values (NaN, inf, float64 beyond float32's
    range); sometimes any shape at all."""
    dtype = np.dtype(draw(DTYPES))
    shape = draw(st.one_of(POSE_SHAPES, OTHER_SHAPES))
    if dtype.kind == "f":
        elements = st.floats(allow_nan=True, allow_infinity=True, width=8 * dtype.itemsize)
        return draw(hnp.arrays(dtype, shape, elements=elements))
    return draw(hnp.arrays(dtype, shape))


def acceptable(array: np.ndarray) -> bool:
    """What the readers must accept: floating point, (N >= 1, T, 33, 4), finite as float32."""
    with np.errstate(over="ignore"):
        as32 = array.astype(np.float32) if array.dtype.kind == "f" else None
    return (as32 is not None and array.ndim == 4 and array.shape[0] >= 1
            and array.shape[2:] == (33, 4) and bool(np.isfinite(as32).all()))


@pytest.mark.parametrize("suffix", sorted(SAVERS))
@SETTINGS
@given(array=arrays())
def test_any_array_is_read_exactly_or_refused_with_a_pose_file_error(tmp_path_factory, suffix,
                                                                    array):
    path = tmp_path_factory.mktemp("poses", numbered=True) / f"poses{suffix}"
    SAVERS[suffix](path, array)
    if acceptable(array):
        got = read_pose_windows(path)
        assert got.dtype == np.float32 and got.flags.c_contiguous
        np.testing.assert_array_equal(got, array.astype(np.float32))
    else:
        with pytest.raises(PoseFileError):
            read_pose_windows(path)


def valid_file_bytes(suffix: str, tmp) -> bytes:
    path = tmp / f"valid{suffix}"
    SAVERS[suffix](path, np.random.default_rng(0).random((2, 3, 33, 4)).astype(np.float32))
    return path.read_bytes()


@st.composite
def damaged(draw, data: bytes) -> bytes:
    """`data` cut short and/or with some bytes overwritten (mostly near the header)."""
    data = bytearray(data[:draw(st.integers(0, len(data)))])
    for _ in range(draw(st.integers(0, 8))):
        if not data:
            break
        at = draw(st.integers(0, min(len(data) - 1, draw(st.sampled_from([200, len(data)])))))
        data[at] = draw(st.integers(0, 255))
    return bytes(data)


@pytest.mark.parametrize("suffix", sorted(SAVERS))
@SETTINGS
@given(data=st.data())
def test_damaged_or_random_bytes_give_a_pose_file_error_or_valid_poses(tmp_path_factory, suffix,
                                                                       data):
    tmp = tmp_path_factory.mktemp("bytes", numbered=True)
    content = data.draw(st.one_of(st.binary(max_size=600),
                                  damaged(valid_file_bytes(suffix, tmp))))
    path = tmp / f"poses{suffix}"
    path.write_bytes(content)
    try:
        got = read_pose_windows(path)
    except PoseFileError as exc:
        assert "\n" not in str(exc)
        return
    assert got.dtype == np.float32 and got.ndim == 4 and got.shape[2:] == (33, 4)
    assert len(got) >= 1 and np.isfinite(got).all()


# ---- the ring buffer ---------------------------------------------------------------------------

@SETTINGS
@given(capacity=st.integers(1, 12), operations=st.lists(
    st.sampled_from(["push", "push", "push", "clear"]), max_size=80))
def test_the_ring_buffer_holds_the_last_capacity_frames_in_order(capacity, operations):
    buffer = PoseRingBuffer(capacity)
    model: deque[int] = deque(maxlen=capacity)
    pushed = 0
    for seq, operation in enumerate(operations):
        if operation == "clear":
            buffer.clear()
            model.clear()
            pushed = 0
        else:
            landmarks = np.full((33, 4), seq, dtype=np.float32)
            buffer.push(PoseFrame(seq, 1_000 + seq, 2_000 + seq, landmarks))
            model.append(seq)
            pushed += 1
        assert (len(buffer), buffer.pushed, buffer.full) == (len(model), pushed, pushed >= capacity)
        if buffer.full:
            window = buffer.window()
            assert window.seq.tolist() == list(model)
            assert window.poses[:, 0, 0].tolist() == list(model)
            assert window.t_capture_ns.tolist() == [1_000 + s for s in model]
            assert window.end_seq == model[-1]
        else:
            with pytest.raises(ValueError, match="not a window"):
                buffer.window()
