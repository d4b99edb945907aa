"""`poserec serve` sessions (WebSocket /stream through the proxy, gRPC Stream, the replica's own
WebSocket server) on a local Ray: the reference rankings, `live --remote` through a session, bad
messages answered, disconnects harmless, the session limit, batching across sessions (the
replica's window queue alone: test_window_batcher.py)."""
from __future__ import annotations

import contextlib
import json
import socket
import threading
import time

import numpy as np
import pytest
from websockets.exceptions import ConnectionClosedError

from poserec_core.errors import PoseRecError
from realtime.engine import stream_protocol as protocol
from realtime.engine.stream_scorer import StreamScorer, open_channel

from .helpers import NEAR_TIE, assert_reference_records, run_main, run_poserec, same_ranking
from .test_ray_serve import _free_port, running_server

pytestmark = [pytest.mark.timeout(300),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]

MAX_SESSIONS = 6
TRANSPORTS = ["ws", "grpc", "direct"]
WEBSOCKETS = ["ws", "direct"]
RECEIVE_TIMEOUT_S = 60
RELEASE_TIMEOUT_S = 60
"""How long a closed session may hold its place on the replica."""


@pytest.fixture(scope="module")
def urls(weights_dir, tmp_path_factory):
    """The application with a gRPC port, a stream port and a small session limit, for the whole
    module."""
    with running_server(tmp_path_factory.mktemp("stream"), "--grpc-port", str(_free_port()),
                        "--stream-port", str(_free_port()), "--max-sessions", str(MAX_SESSIONS),
                        "--batch-wait-ms", "20") as served:
        yield {"ws": served.stream, "grpc": served.grpc, "direct": served.direct}


def _exchange(channel, message: bytes) -> protocol.Reply:
    channel.send(message)
    return protocol.decode_reply(channel.receive())


@contextlib.contextmanager
def held_sessions(url: str, count: int):
    """`count` open sessions, each one answered a CATALOG; a place still held by an earlier
    test's closed session is retried for up to RELEASE_TIMEOUT_S."""
    channels = []
    deadline = time.monotonic() + RELEASE_TIMEOUT_S
    try:
        while len(channels) < count:
            channel = open_channel(url, RECEIVE_TIMEOUT_S)
            try:
                if _exchange(channel, protocol.CATALOG_REQUEST).kind == protocol.CATALOG_REPLY:
                    channels.append(channel)
                    continue
            except ConnectionClosedError as refused:  # closed before the request went out
                assert refused.rcvd.code == 1013, refused
            channel.close()
            assert time.monotonic() < deadline, f"only {len(channels)} sessions could be opened"
            time.sleep(0.2)
        yield channels
    finally:
        for channel in channels:
            channel.close()


def _assert_reference(rankings, reference_top5, reference_scores) -> None:
    assert len(rankings) == len(reference_top5["windows"])
    for n, (ranking, ref) in enumerate(zip(rankings, reference_top5["windows"])):
        assert same_ranking(list(ranking.items), [e["item"] for e in ref["top5"]],
                            reference_scores[n]), n
        assert np.abs(np.array(ranking.scores) - reference_scores[n, list(ranking.items)]).max() \
            <= NEAR_TIE, n


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_session_returns_the_reference(urls, transport, recommender, sample_windows,
                                       reference_scores, reference_top5):
    scorer = StreamScorer(urls[transport]).load()
    try:
        assert scorer.catalog.names == recommender.catalog.names
        rankings = [r for n in range(len(sample_windows))
                    for r in scorer.recommend(sample_windows[n:n + 1], top_k=5)]
        scores = scorer.score(sample_windows)  # all 81 sent before the first answer is read
    finally:
        scorer.close()
    _assert_reference(rankings, reference_top5, reference_scores)
    assert scores.dtype == np.float32 and scores.shape == reference_scores.shape
    assert np.abs(scores - reference_scores).max() <= NEAR_TIE


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_live_remote_session_replays_the_reference(urls, transport, reference_dir,
                                                   reference_top5, reference_scores, tmp_path):
    """In a process of its own, as a user runs it."""
    out = tmp_path / "remote.jsonl"
    done = run_poserec("live", "--headless", "--remote", urls[transport],
                       "--source", f"replay:{reference_dir / 'sample_sequence.npy'}",
                       "--window", "10", "--stride", "5", "--smoothing", "0", "--fps", "0",
                       "--jsonl", out, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert_reference_records(records, reference_top5, reference_scores)
    assert {r["device"] for r in records} == {f"remote {urls[transport]}"}


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_live_remote_gives_its_session_back_when_it_ends(capsys, urls, transport, reference_dir):
    """An in-process run closes its session with the pipeline: afterwards every place can be
    taken again (a session left open would hold one until this test process ends)."""
    code, _, err = run_main(capsys, "live", "--headless", "--remote", urls[transport],
                            "--source", f"replay:{reference_dir / 'sample_sequence.npy'}",
                            "--fps", "0", "--max-frames", "20")
    assert code == 0, err
    with held_sessions(urls[transport], MAX_SESSIONS) as channels:
        assert len(channels) == MAX_SESSIONS


def _window(sample_windows, seq=5, top_k=5, at=None, value=0.0) -> bytes:
    """A WINDOW of the first sample window, with poses[at] = value when `at` is given."""
    poses = sample_windows[0].copy()
    if at is not None:
        poses[at] = value
    return protocol.encode_window(poses, seq, top_k)


BAD_MESSAGES = [
    ("one byte short", lambda w: _window(w)[:-1], 5, "takes 5290 bytes, got 5289"),
    ("one float more", lambda w: _window(w) + bytes(4), 5, "takes 5290 bytes, got 5294"),
    ("shorter than a header", lambda w: b"\x01\x00", 0, "every message starts with a 10-byte"),
    ("NaN", lambda w: _window(w, at=(0, 3, 1), value=np.nan), 5, "1 NaN or infinite values"),
    ("infinity", lambda w: _window(w, at=(9, 3), value=np.inf), 5, "4 NaN or infinite values"),
    ("unknown type", lambda w: protocol.HEADER.pack(7, 0, 5, 10, 9) + _window(w)[10:], 9,
     "unknown message type 7"),
    ("reply type sent to the server", lambda w: protocol.encode_error(4, "hello"), 4,
     "unknown message type 2"),
    ("no frames", lambda w: protocol.HEADER.pack(protocol.WINDOW, 0, 5, 0, 6), 6,
     "a window of 0 frames; send 1 to 300"),
    ("too many frames", lambda w: protocol.encode_window(np.resize(w, (301, 33, 4)), 6, 5), 6,
     "a window of 301 frames; send 1 to 300"),
    ("top_k 0", lambda w: _window(w, top_k=0), 5, "top_k is 0; expected 1 to 221"),
    ("top_k above the catalog", lambda w: _window(w, top_k=222), 5, "top_k is 222"),
]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_bad_messages_are_answered_and_the_session_goes_on(urls, transport, sample_windows,
                                                           reference_scores, reference_top5):
    good = protocol.encode_window(sample_windows[3], 77, 5)
    with held_sessions(urls[transport], 1) as (channel,):
        for name, make, seq, message in BAD_MESSAGES:
            reply = _exchange(channel, make(sample_windows))
            assert (reply.kind, reply.seq, reply.fatal) == (protocol.ERROR, seq, False), name
            assert message in reply.error and "\n" not in reply.error, (name, reply.error)
            reply = _exchange(channel, good)
            assert reply.kind == protocol.RANKING and reply.seq == 77, name
            assert same_ranking(list(reply.items),
                                [e["item"] for e in reference_top5["windows"][3]["top5"]],
                                reference_scores[3]), name


@pytest.mark.parametrize("transport", WEBSOCKETS)
def test_a_text_message_is_answered_and_the_session_goes_on(urls, transport, sample_windows):
    with held_sessions(urls[transport], 1) as (channel,):
        channel._socket.send("hello")  # only the WebSocket has text messages
        reply = protocol.decode_reply(channel.receive())
        assert reply.kind == protocol.ERROR and "a text message" in reply.error
        assert _exchange(channel, _window(sample_windows)).kind == protocol.RANKING


def _drop_abruptly(channel) -> None:
    """Leave without a goodbye: the WebSocket's TCP connection cut, the gRPC call cancelled."""
    if hasattr(channel, "_socket"):
        channel._socket.socket.shutdown(socket.SHUT_RDWR)
    channel.close()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_client_leaving_mid_batch_costs_the_others_nothing(urls, transport, sample_windows,
                                                             reference_scores):
    """Two sessions check every score of the sample, three times over, while other clients send
    20 windows each and vanish before their answers; then every place is free again."""
    wrong: list = []
    messages = [protocol.encode_window(w, n + 1, 5, with_scores=True)
                for n, w in enumerate(sample_windows)]

    def steady_client(channel):
        for _ in range(3):
            for n, message in enumerate(messages):
                reply = _exchange(channel, message)
                if reply.kind != protocol.RANKING or reply.seq != n + 1 or \
                        np.abs(reply.all_scores - reference_scores[n]).max() > NEAR_TIE:
                    wrong.append((n, reply.kind, reply.error))

    with held_sessions(urls[transport], 2) as steady:
        threads = [threading.Thread(target=steady_client, args=(c,)) for c in steady]
        for thread in threads:
            thread.start()
        for _ in range(8):
            with held_sessions(urls[transport], 1) as (leaver,):
                for message in messages[:20]:
                    leaver.send(message)
                _drop_abruptly(leaver)
        for thread in threads:
            thread.join(timeout=RECEIVE_TIMEOUT_S * 2)
    assert not any(t.is_alive() for t in threads)
    assert wrong == []
    with held_sessions(urls[transport], MAX_SESSIONS) as every:
        assert len(every) == MAX_SESSIONS


def test_sessions_over_the_limit_are_refused(capsys, urls, sample_windows):
    """Every transport shares the limit; the one over it gets a fatal ERROR and (WebSocket)
    close code 1013; `live --remote` says so in one line and exits 2."""
    with held_sessions(urls["ws"], MAX_SESSIONS):
        for transport in WEBSOCKETS:
            extra = open_channel(urls[transport], RECEIVE_TIMEOUT_S)
            reply = protocol.decode_reply(extra.receive())
            assert reply.kind == protocol.ERROR and reply.fatal, transport
            assert f"the server is full: it holds {MAX_SESSIONS} sessions" in reply.error
            with pytest.raises(ConnectionClosedError) as closed:
                extra.receive()
            assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1013, "session limit")

        extra = open_channel(urls["grpc"], RECEIVE_TIMEOUT_S)
        reply = protocol.decode_reply(extra.receive())
        assert reply.kind == protocol.ERROR and reply.fatal and "the server is full" in reply.error
        with pytest.raises(StopIteration):
            extra.receive()
        extra.close()

        for transport in TRANSPORTS:
            with pytest.raises(PoseRecError, match="the server is full"):
                StreamScorer(urls[transport]).load()
            code, _, err = run_main(capsys, "live", "--headless", "--remote", urls[transport],
                                    "--source", "demo", "--max-frames", "20")
            assert code == 2 and "the server is full" in err and err.count("\n") == 1, err
    with held_sessions(urls["grpc"], MAX_SESSIONS) as again:  # the places are free again
        assert _exchange(again[0], _window(sample_windows)).kind == protocol.RANKING


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_concurrent_sessions_are_batched_and_answered_apart(urls, transport, sample_windows,
                                                            reference_scores, reference_top5):
    largest = 0
    with held_sessions(urls[transport], MAX_SESSIONS) as channels:
        for _ in range(5):  # a loaded machine may start the sessions too far apart to batch them
            barrier = threading.Barrier(len(channels))
            replies: list = [None] * len(channels)

            def session(n):
                barrier.wait(timeout=30)
                replies[n] = _exchange(channels[n], protocol.encode_window(sample_windows[n], n, 5))

            threads = [threading.Thread(target=session, args=(n,)) for n in range(len(channels))]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=RECEIVE_TIMEOUT_S)
            for n, reply in enumerate(replies):
                assert reply.kind == protocol.RANKING and reply.seq == n
                assert same_ranking(list(reply.items),
                                    [e["item"] for e in reference_top5["windows"][n]["top5"]],
                                    reference_scores[n]), n
                largest = max(largest, reply.batch)
            if largest > 1:
                break
    assert largest > 1


@pytest.mark.parametrize("url, message", [
    ("ws://127.0.0.1/stream", "expected ws://HOST:PORT/stream or grpc://HOST:PORT"),
    ("tcp://127.0.0.1:8000", "expected ws://HOST:PORT/stream or grpc://HOST:PORT"),
    ("ws://127.0.0.1:{closed}/stream", "cannot open a session with the PoseRec server"),
    ("grpc://127.0.0.1:{closed}", "cannot open a session with the PoseRec server"),
])
def test_stream_scorer_errors(url, message):
    with pytest.raises(PoseRecError, match=message):
        StreamScorer(url.format(closed=_free_port()), timeout_s=2).load()


def test_the_replicas_own_server_answers_only_its_route(urls):
    other = urls["direct"].replace("/stream", "/recommend")
    with pytest.raises(PoseRecError, match="cannot open a session.*HTTP 404"):
        StreamScorer(other, timeout_s=RECEIVE_TIMEOUT_S).load()


@pytest.mark.parametrize("args, message", [
    (["--max-sessions", "0"], "below the minimum 1"),
    (["--grpc-port", "0"], "0 is outside [1, 65535]"),
    (["--stream-port", "70000"], "70000 is outside [1, 65535]"),
])
def test_serve_session_option_errors(capsys, args, message):
    code, _, err = run_main(capsys, "serve", *args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err


def _answer_all(score, messages) -> list[protocol.Reply]:
    """Run SessionAnswerer.answers (the replica's side, no Ray) over `messages` (an async
    generator function) with the fake batched `score`."""
    import asyncio

    from poserec_ray.stream_session import SessionAnswerer

    async def collect():
        answerer = SessionAnswerer(score, tuple(f"item{n}" for n in range(221)))
        return [protocol.decode_reply(r) async for r in answerer.answers(messages())]

    return asyncio.run(asyncio.wait_for(collect(), 30))


def _fake_scored(request):
    from poserec_ray.stream_session import Scored

    k = request.top_k
    return Scored(np.arange(k)[None], np.zeros((1, k), np.float32), None, 1, 1)


def test_a_session_answers_in_order_with_windows_in_flight(sample_windows):
    import asyncio

    from poserec_ray.stream_session import MAX_IN_FLIGHT

    in_flight, most = 0, 0

    async def score(request):  # later windows finish first
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.001 * (100 - int(request.windows[0, 0, 0, 0])))
        in_flight -= 1
        return _fake_scored(request)

    async def messages():
        for n in range(80):
            poses = sample_windows[0].copy()
            poses[0, 0, 0] = n
            yield protocol.encode_window(poses, n, 3)
            yield b"\x01"  # an error, answered in its place

    replies = _answer_all(score, messages)
    assert [(r.kind, r.seq) for r in replies] == [
        pair for n in range(80) for pair in ((protocol.RANKING, n), (protocol.ERROR, 0))]
    assert 1 < most <= MAX_IN_FLIGHT


def test_a_session_whose_client_left_cancels_its_unsent_answers(sample_windows):
    import asyncio

    from poserec_ray.stream_session import ClientGone

    started, cancelled = [], []

    async def score(request):
        started.append(request)
        try:
            await asyncio.Event().wait()  # a batch that has not run yet
        except asyncio.CancelledError:
            cancelled.append(request)
            raise

    async def messages():
        for n in range(5):
            yield protocol.encode_window(sample_windows[n], n, 5)
        await asyncio.sleep(0.05)
        raise ClientGone

    assert _answer_all(score, messages) == []
    assert len(started) == 5 and len(cancelled) == 5

