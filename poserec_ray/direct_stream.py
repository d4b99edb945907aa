"""A replica's own WebSocket server for sessions: ws://HOST:STREAM_PORT/stream, no proxy between.

Through Ray Serve's proxy every message of a session costs the proxy and the replica Ray calls
(5-8 ms of CPU a window here, against about 1 ms of scoring); a replica that listens itself
reads the bytes straight off its socket. The replicas of a node share the port (SO_REUSEPORT: the
kernel spreads the connections among them); the messages, their answers, the session limit and
the batching are the replica's, as for the proxied WebSocket and gRPC sessions
(stream_session.py). No Ray here.
"""
from __future__ import annotations

from http import HTTPStatus
from typing import AsyncIterator

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from .stream_session import ClientGone, SessionAnswerer, SessionLimit

MAX_MESSAGE_BYTES = 1 << 20
"""Largest message read (a window of the longest accepted length is about 160 KB)."""
READ_AHEAD_MESSAGES = 64
"""Messages the server reads ahead of their answers on one connection (websockets' max_queue)."""


async def _messages(connection: ServerConnection) -> AsyncIterator[bytes | None]:
    """A connection's messages: bytes, None for a text message; ClientGone when it ends."""
    try:
        async for message in connection:
            yield message if isinstance(message, bytes) else None
    except ConnectionClosed:
        pass
    raise ClientGone


async def start_stream_server(host: str, port: int, route: str, sessions: SessionLimit,
                              answerer: SessionAnswerer) -> Server:
    """Listen on HOST:PORT (shared with the node's other replicas) for sessions at `route`; over
    the session limit, a fatal ERROR and close code 1013 (try again later), as the proxied route."""

    async def session(connection: ServerConnection) -> None:
        if not sessions.try_open():
            await connection.send(sessions.refusal())
            await connection.close(1013, "session limit")
            return
        try:
            async for reply in answerer.answers(_messages(connection)):
                await connection.send(reply)
        except ConnectionClosed:
            return  # the client left while its answer was sent
        finally:
            sessions.close()

    def only_the_route(connection: ServerConnection, request):
        if request.path != route:
            return connection.respond(HTTPStatus.NOT_FOUND, f"sessions are at {route}\n")
        return None

    return await serve(session, host, port, reuse_port=True, compression=None,
                       max_size=MAX_MESSAGE_BYTES, max_queue=READ_AHEAD_MESSAGES,
                       process_request=only_the_route)
