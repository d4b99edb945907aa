"""The replica's window queue (poserec_ray/window_batcher.py), without Ray: passes of at most
the most windows, cancelled requests dropped unscored, a failing pass reported to its callers."""
from __future__ import annotations

import asyncio

import numpy as np
import pytest

from poserec_ray.payload import ScoreRequest
from poserec_ray.stream_session import Scored
from poserec_ray.window_batcher import WindowBatcher


def _numbered(n: int, windows: int = 1):
    """A request whose windows all carry the number n."""
    return ScoreRequest(np.full((windows, 10, 33, 4), n, np.float32), 5)


def _scored_by_number(requests):
    """A fake pass: each request's number as its one item."""
    return [Scored(np.array([[int(r.windows[0, 0, 0, 0])]]), np.zeros((1, 1), np.float32), None,
                   len(requests), sum(len(r.windows) for r in requests)) for r in requests]


def _batched(max_windows: int, wait_s: float, run):
    """Run `run(batcher)` (a coroutine function) with a WindowBatcher over a recording fake pass;
    its result and the numbers of the requests in each pass."""
    passes: list[list[int]] = []

    def score(requests):
        passes.append([int(r.windows[0, 0, 0, 0]) for r in requests])
        if any(r.windows[0, 0, 0, 0] < 0 for r in requests):
            raise RuntimeError("a failing pass")
        return _scored_by_number(requests)

    async def main():
        return await run(WindowBatcher(score, max_windows, wait_s))

    return asyncio.run(asyncio.wait_for(main(), 30)), passes


@pytest.mark.parametrize("sizes, max_windows, expected_passes", [
    ([1] * 7, 5, [[0, 1, 2, 3, 4], [5, 6]]),
    ([2, 2, 2, 1], 5, [[0, 1], [2, 3]]),
    ([6, 1], 5, [[0], [1]]),  # a request larger than a pass goes alone
])
def test_the_window_queue_batches_requests_up_to_the_most_windows(sizes, max_windows,
                                                                   expected_passes):
    async def run(batcher):
        return await asyncio.gather(*(batcher(_numbered(n, size)) for n, size in enumerate(sizes)))

    results, passes = _batched(max_windows, 0.2, run)
    assert passes == expected_passes
    assert [int(r.items[0, 0]) for r in results] == list(range(len(sizes)))
    assert [r.batch_requests for r in results] == [len(p) for p in passes for _ in p]


def test_the_window_queue_drops_a_cancelled_request_and_survives_a_failing_pass():
    async def run(batcher):
        waiting = [asyncio.ensure_future(batcher(_numbered(n))) for n in (0, 1, 2)]
        await asyncio.sleep(0)
        waiting[1].cancel()  # its client left before the pass
        first = await asyncio.gather(*waiting, return_exceptions=True)
        failing = await asyncio.gather(batcher(_numbered(-1)), batcher(_numbered(3)),
                                       return_exceptions=True)
        return first, failing, await batcher(_numbered(4))

    (first, failing, last), passes = _batched(8, 0.05, run)
    assert passes == [[0, 2], [-1, 3], [4]]
    assert int(first[0].items[0, 0]) == 0 and isinstance(first[1], asyncio.CancelledError)
    assert all(isinstance(f, RuntimeError) for f in failing) and int(last.items[0, 0]) == 4
