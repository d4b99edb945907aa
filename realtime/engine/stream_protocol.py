"""The binary messages of a `poserec serve` session (WebSocket /stream, gRPC Stream). No Ray here.

Every message starts with the same 10-byte little-endian header `<B type, B flags, H a, H b,
I seq>`; one window per message, float32 poses (float16 moved the scores by up to 5e-4).

client -> server
  CATALOG (0)  header only; answered by CATALOG.
  WINDOW  (1)  a = top_k, b = frames T, flags bit 0 = also every item's score; then T*33*4
               float32 poses (x, y, z, visibility per landmark).
server -> client
  RANKING (1)  a = k, b = requests in the batch it was scored in, flags bit 0 = scores follow;
               then k uint16 items, k float32 scores (best first), [n_items float32 scores].
  ERROR   (2)  flags bit 1 = fatal (the server closes the session after it); then one UTF-8 line.
  CATALOG (3)  UTF-8 JSON {"names": [...], "max_frames": T_max}.

`seq` is the client's number for a window, echoed by the RANKING or ERROR that answers it.
"""
from __future__ import annotations

import json
import struct
from dataclasses import dataclass

import numpy as np

from poserec_core.errors import PoseRecError
from poserec_core.skeleton import NUM_CHANNELS, NUM_LANDMARKS

HEADER = struct.Struct("<BBHHI")
CATALOG, WINDOW = 0, 1
RANKING, ERROR, CATALOG_REPLY = 1, 2, 3
WITH_SCORES, FATAL = 1, 2
FRAME_BYTES = NUM_LANDMARKS * NUM_CHANNELS * 4
CATALOG_REQUEST = HEADER.pack(CATALOG, 0, 0, 0, 0)


class ProtocolError(PoseRecError):
    """A message the server answers with ERROR; `seq` is the window it answers (0 if unknown)."""

    def __init__(self, message: str, seq: int = 0):
        super().__init__(message)
        self.seq = seq


@dataclass(frozen=True)
class WindowMessage:
    """A parsed WINDOW: poses (T, 33, 4) float32."""

    seq: int
    top_k: int
    with_scores: bool
    poses: np.ndarray


@dataclass(frozen=True)
class Reply:
    """A parsed server message: a RANKING (items, scores, batch, all_scores or None), an ERROR
    (error, fatal) or a CATALOG (names, max_frames)."""

    kind: int
    seq: int = 0
    items: tuple[int, ...] = ()
    scores: tuple[float, ...] = ()
    batch: int = 0
    all_scores: np.ndarray | None = None
    error: str = ""
    fatal: bool = False
    names: tuple[str, ...] = ()
    max_frames: int = 0


def encode_window(poses: np.ndarray, seq: int, top_k: int, with_scores: bool = False) -> bytes:
    """A WINDOW message for one window (T, 33, 4)."""
    poses = np.ascontiguousarray(poses, dtype="<f4")
    return HEADER.pack(WINDOW, WITH_SCORES if with_scores else 0, top_k, len(poses),
                       seq & 0xFFFFFFFF) + poses.tobytes()


def decode_request(message: bytes, num_items: int, max_frames: int) -> WindowMessage | None:
    """A WINDOW as a WindowMessage, None for a CATALOG request; ProtocolError (one line) for
    anything else."""
    if len(message) < HEADER.size:
        raise ProtocolError(f"a message of {len(message)} bytes; every message starts with a "
                            f"{HEADER.size}-byte header")
    kind, flags, top_k, frames, seq = HEADER.unpack_from(message)
    if kind == CATALOG:
        return None
    if kind != WINDOW:
        raise ProtocolError(f"unknown message type {kind}; send 0 (catalog) or 1 (window)", seq)
    if not 1 <= frames <= max_frames:
        raise ProtocolError(f"a window of {frames} frames; send 1 to {max_frames}", seq)
    expected = HEADER.size + frames * FRAME_BYTES
    if len(message) != expected:
        raise ProtocolError(f"a window of {frames} frames takes {expected} bytes, got "
                            f"{len(message)}; send float32 (T, 33, 4)", seq)
    if not 1 <= top_k <= num_items:
        raise ProtocolError(f"top_k is {top_k}; expected 1 to {num_items}", seq)
    poses = np.frombuffer(message, dtype="<f4", offset=HEADER.size).reshape(
        frames, NUM_LANDMARKS, NUM_CHANNELS)
    if not np.isfinite(poses).all():
        raise ProtocolError(f"{int(np.count_nonzero(~np.isfinite(poses)))} NaN or infinite "
                            "values; poses must be finite", seq)
    return WindowMessage(seq, top_k, bool(flags & WITH_SCORES), poses)


def encode_ranking(seq: int, items: np.ndarray, scores: np.ndarray, batch: int,
                   all_scores: np.ndarray | None = None) -> bytes:
    """A RANKING: the top items and their scores, best first, and every score when given."""
    parts = [HEADER.pack(RANKING, 0 if all_scores is None else WITH_SCORES, len(items),
                         min(batch, 0xFFFF), seq),
             np.asarray(items, dtype="<u2").tobytes(), np.asarray(scores, dtype="<f4").tobytes()]
    if all_scores is not None:
        parts.append(np.asarray(all_scores, dtype="<f4").tobytes())
    return b"".join(parts)


def encode_error(seq: int, text: str, fatal: bool = False) -> bytes:
    """An ERROR answering window `seq` (0: no window); fatal: the session ends after it."""
    return HEADER.pack(ERROR, FATAL if fatal else 0, 0, 0, seq) + text.encode()


def encode_catalog(names: tuple[str, ...], max_frames: int) -> bytes:
    """The CATALOG answer: the item names (index = item) and the longest window accepted."""
    return HEADER.pack(CATALOG_REPLY, 0, 0, 0, 0) + json.dumps(
        {"names": list(names), "max_frames": max_frames}).encode()


def decode_reply(message: bytes) -> Reply:
    """Parse a server message."""
    if len(message) < HEADER.size:
        raise PoseRecError(f"the server sent a message of {len(message)} bytes")
    kind, flags, a, b, seq = HEADER.unpack_from(message)
    body = memoryview(message)[HEADER.size:]
    if kind == ERROR:
        return Reply(ERROR, seq, error=bytes(body).decode(errors="replace"),
                     fatal=bool(flags & FATAL))
    if kind == CATALOG_REPLY:
        doc = json.loads(bytes(body))
        return Reply(CATALOG_REPLY, names=tuple(doc["names"]), max_frames=int(doc["max_frames"]))
    if kind != RANKING:
        raise PoseRecError(f"the server sent an unknown message type {kind}")
    items = np.frombuffer(body, dtype="<u2", count=a)
    scores = np.frombuffer(body, dtype="<f4", count=a, offset=2 * a)
    all_scores = (np.frombuffer(body, dtype="<f4", offset=6 * a).copy()
                  if flags & WITH_SCORES else None)
    return Reply(RANKING, seq, tuple(int(i) for i in items), tuple(float(s) for s in scores),
                 b, all_scores)
