"""The Serve application's wire format, checked before any scoring. No Ray here.

Request (POST, JSON): {"windows": [N][T][33][4] numbers, "top_k": K (optional, default 5),
"scores": true (optional: also every item's score, for clients that smooth scores themselves)}.
Reply: the JSON of `poserec recommend --json`: {"top_k": K, "windows": [{"window": n, "top": [...]}]},
with "scores": [N][n_items] when asked. GET answers the catalog: {"names": [n_items names]}.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from poserec_core.errors import PoseRecError
from poserec_core.pose_files import validate_poses
from poserec_core.recommender import Ranking, rankings_document as recommend_document

DEFAULT_TOP_K = 5
MAX_BODY_BYTES = 16 << 20
"""Largest request body accepted (a window of 10 frames is about 15 KB of JSON)."""


class PayloadError(PoseRecError):
    """A request the server refuses; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ScoreRequest:
    """A parsed request: windows (N, T, 33, 4) float32, the number of items to return, and
    whether every item's score goes back too."""

    windows: np.ndarray
    top_k: int
    with_scores: bool = False


def parse_request(body: bytes, num_items: int, max_windows: int) -> ScoreRequest:
    """Check a request body; raise PayloadError with one line that says what is wrong."""
    if len(body) > MAX_BODY_BYTES:
        raise PayloadError(f"the body has {len(body)} bytes, over the limit of {MAX_BODY_BYTES}; "
                           f"send at most {max_windows} windows a request", status=413)
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"the body is not JSON ({exc})") from None
    if not isinstance(doc, dict) or "windows" not in doc:
        raise PayloadError('expected a JSON object {"windows": [[[[x, y, z, visibility] x 33] '
                           'x T] x N], "top_k": K}')
    unknown = sorted(set(doc) - {"windows", "top_k", "scores"})
    if unknown:
        raise PayloadError(f"unknown fields {unknown}; the request has 'windows', 'top_k' and "
                           "'scores'")
    with_scores = doc.get("scores", False)
    if not isinstance(with_scores, bool):
        raise PayloadError(f"scores is {with_scores!r}; expected true or false")
    top_k = doc.get("top_k", DEFAULT_TOP_K)
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= num_items:
        raise PayloadError(f"top_k is {top_k!r}; expected an integer from 1 to {num_items}")
    try:
        windows = np.asarray(doc["windows"], dtype=np.float32)
    except (ValueError, TypeError):
        raise PayloadError("'windows' is not a rectangular array of numbers (N, T, 33, 4)") from None
    if windows.ndim >= 1 and len(windows) > max_windows:
        raise PayloadError(f"{len(windows)} windows in one request; send at most {max_windows}",
                           status=413)
    try:
        return ScoreRequest(validate_poses(windows, 4, "'windows'"), top_k, with_scores)
    except PoseRecError as exc:
        raise PayloadError(str(exc)) from None


def rankings_document(rankings: list[Ranking], top_k: int,
                      scores: np.ndarray | None = None) -> dict:
    """The reply: the JSON document of `poserec recommend --json`, plus "scores" when given."""
    doc = recommend_document(rankings, top_k)
    if scores is not None:
        doc["scores"] = scores.tolist()
    return doc
