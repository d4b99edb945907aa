"""The replica's own WebSocket server (poserec_ray/direct_stream.py) without Ray, over loopback
with a real websockets client and a fake queue: answers in order with a bounded number in
flight, fragmented messages, a failed pass answered, windows of a client that left taken back,
oversized messages refused, other paths 404 (the same server on a real application:
test_ray_stream.py)."""
from __future__ import annotations

import asyncio

import numpy as np
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError, InvalidStatus

from poserec_ray.direct_stream import MAX_MESSAGE_BYTES, start_stream_server
from poserec_ray.stream_session import MAX_IN_FLIGHT, Scored, SessionAnswerer, SessionLimit
from realtime.engine import stream_protocol as protocol

ROUTE = "/stream"
NAMES = tuple(f"item{n}" for n in range(221))


def _window(n: int) -> bytes:
    """WINDOW seq n whose poses all carry the number n."""
    return protocol.encode_window(np.full((10, 33, 4), n, np.float32), n, 3)


class FakeQueue:
    """`submit` as the replica's WindowBatcher offers it; the test decides when and how each
    window is answered (its item 0 is the number its poses carry)."""

    def __init__(self):
        self.futures: list[asyncio.Future] = []
        self.requests: list = []

    def submit(self, request):
        future = asyncio.get_running_loop().create_future()
        self.futures.append(future)
        self.requests.append(request)
        return future

    def unanswered(self) -> int:
        return sum(not f.done() for f in self.futures)

    def answer(self, n: int) -> None:
        number = int(self.requests[n].windows[0, 0, 0, 0])
        self.futures[n].set_result(Scored(np.array([[number, 1, 2]]),
                                          np.zeros((1, 3), np.float32), None, 1, 1))


def _serve(run, max_sessions: int = 4):
    """Run `run(url, queue, sessions)` against a server on a free loopback port."""

    async def main():
        queue, sessions = FakeQueue(), SessionLimit(max_sessions)
        server = await start_stream_server("127.0.0.1", 0, ROUTE, sessions,
                                           SessionAnswerer(None, NAMES), queue.submit)
        port = server.sockets[0].getsockname()[1]
        try:
            return await run(f"ws://127.0.0.1:{port}", queue, sessions)
        finally:
            server.close()

    return asyncio.run(asyncio.wait_for(main(), 30))


async def _until(condition, timeout_s: float = 10.0) -> None:
    for _ in range(int(timeout_s / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


def test_answers_come_in_order_and_at_most_max_in_flight_are_taken():
    """80 windows sent at once, each followed by a bad message; the queue answers them last
    first: the client gets them in its order, and the server never holds more than
    MAX_IN_FLIGHT messages unanswered (it stops reading): half of them windows, each with the
    error queued behind it."""
    count, most_windows = 80, MAX_IN_FLIGHT // 2

    async def run(url, queue, _sessions):
        async with connect(url + ROUTE, compression=None) as ws:
            for n in range(count):
                await ws.send(_window(n))
                await ws.send(b"\x01")
            most = 0
            while len(queue.futures) < count:
                await _until(lambda: queue.unanswered() == most_windows
                             or len(queue.futures) == count)
                await asyncio.sleep(0.05)  # room for more reads, if the server took them
                most = max(most, queue.unanswered())
                for n in reversed([n for n, f in enumerate(queue.futures) if not f.done()]):
                    queue.answer(n)
            for n in range(len(queue.futures)):
                if not queue.futures[n].done():
                    queue.answer(n)
            replies = [protocol.decode_reply(await ws.recv()) for _ in range(2 * count)]
        return most, replies

    most, replies = _serve(run)
    assert most == most_windows
    assert [(r.kind, r.seq) for r in replies] == [
        pair for n in range(count) for pair in ((protocol.RANKING, n), (protocol.ERROR, 0))]
    assert [r.items[0] for r in replies[::2]] == list(range(count))


def test_a_fragmented_window_and_a_text_message_are_answered():
    async def run(url, queue, _sessions):
        async with connect(url + ROUTE, compression=None) as ws:
            message = _window(7)
            await ws.send([message[:10], message[10:2000], message[2000:]])  # three frames
            await _until(lambda: queue.futures)
            queue.answer(0)
            ranking = protocol.decode_reply(await ws.recv())
            await ws.send("hello")
            return ranking, protocol.decode_reply(await ws.recv())

    ranking, text = _serve(run)
    assert (ranking.kind, ranking.seq, ranking.items[0]) == (protocol.RANKING, 7, 7)
    assert text.kind == protocol.ERROR and "a text message" in text.error


def test_a_failed_pass_is_an_error_for_its_window_and_the_session_goes_on():
    async def run(url, queue, _sessions):
        async with connect(url + ROUTE, compression=None) as ws:
            await ws.send(_window(1))
            await ws.send(_window(2))
            await _until(lambda: len(queue.futures) == 2)
            queue.futures[0].set_exception(RuntimeError("CUDA out of memory\nmore lines"))
            queue.answer(1)
            return [protocol.decode_reply(await ws.recv()) for _ in range(2)]

    failed, ranking = _serve(run)
    assert (failed.kind, failed.seq, failed.fatal) == (protocol.ERROR, 1, False)
    assert failed.error == ("the server could not score this window: RuntimeError: CUDA out of "
                            "memory")
    assert (ranking.kind, ranking.seq) == (protocol.RANKING, 2)


def test_a_client_that_leaves_takes_its_windows_back_and_frees_its_place():
    async def run(url, queue, sessions):
        ws = await connect(url + ROUTE, compression=None)
        for n in range(5):
            await ws.send(_window(n))
        await _until(lambda: len(queue.futures) == 5 and sessions.open == 1)
        ws.transport.abort()  # no close frame: the TCP connection cut
        await _until(lambda: sessions.open == 0)
        return [f.cancelled() for f in queue.futures]

    assert _serve(run) == [True] * 5


def test_sessions_over_the_limit_get_a_fatal_error_and_close_code_1013():
    async def run(url, _queue, sessions):
        async with connect(url + ROUTE) as first:
            await _until(lambda: sessions.open == 1)
            async with connect(url + ROUTE) as extra:
                refusal = protocol.decode_reply(await extra.recv())
                with pytest.raises(ConnectionClosedError) as closed:
                    await extra.recv()
            await first.send(protocol.CATALOG_REQUEST)
            catalog = protocol.decode_reply(await first.recv())
        await _until(lambda: sessions.open == 0)
        return refusal, closed.value.rcvd, catalog

    refusal, close, catalog = _serve(run, max_sessions=1)
    assert refusal.kind == protocol.ERROR and refusal.fatal
    assert "the server is full: it holds 1 sessions" in refusal.error
    assert (close.code, close.reason) == (1013, "session limit")
    assert catalog.kind == protocol.CATALOG_REPLY and catalog.names == NAMES


def test_an_oversized_message_closes_the_session_with_1009():
    async def run(url, _queue, sessions):
        async with connect(url + ROUTE, compression=None, max_size=None) as ws:
            await ws.send(bytes(MAX_MESSAGE_BYTES + 1))
            with pytest.raises(ConnectionClosedError) as closed:
                await ws.recv()
        await _until(lambda: sessions.open == 0)
        return closed.value.rcvd.code

    assert _serve(run) == 1009


def test_other_paths_are_404():
    async def run(url, _queue, sessions):
        with pytest.raises(InvalidStatus) as refused:
            await connect(url + "/recommend")
        return refused.value.response, sessions.open

    response, held = _serve(run)
    assert response.status_code == 404 and b"sessions are at /stream" in response.body
    assert held == 0


def test_the_server_stops_reading_while_its_answers_are_due():
    """A client that sends 2,000 windows (10 MB) with none answered is held back by TCP: the
    server takes MAX_IN_FLIGHT and reads no further ahead than the sockets' buffers."""
    total = 2000

    async def run(url, queue, _sessions):
        ws = await connect(url + ROUTE, compression=None)
        sent = 0

        async def send_all():
            nonlocal sent
            for n in range(total):
                await ws.send(_window(n))
                sent += 1

        sender = asyncio.create_task(send_all())
        await _until(lambda: len(queue.futures) == MAX_IN_FLIGHT)
        await asyncio.sleep(1.0)
        stalled = sent
        sender.cancel()
        ws.transport.abort()
        return stalled, len(queue.futures)

    stalled, taken = _serve(run)
    assert taken == MAX_IN_FLIGHT and stalled < total
