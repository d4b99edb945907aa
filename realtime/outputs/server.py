"""`--serve PORT`: the OBS overlay page and its WebSocket feed, on one port.

    http://HOST:PORT/     the page for an OBS Browser Source (transparent; overlay.html/.js/.css)
    ws://HOST:PORT/ws     every Recommendation as its JSONL record (`Recommendation.to_json()`)

The server runs an asyncio loop (the `websockets` package) on its own thread. The pipeline's
listener call only serialises the record and hands it to that loop; each client then gets the
newest record whenever it is ready for one (newest wins per client), so a slow client misses
records and never holds up inference. A client that connects gets the newest record at once.
"""
from __future__ import annotations

import asyncio
import errno
import json
import socket
import threading
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import TextIO

from poserec_core.errors import PoseRecError

from ..drawing.effects import DEFAULT_EFFECTS_FILE
from ..messages import Recommendation

DEFAULT_HOST = "127.0.0.1"
"""Only this machine can reach the server unless `--host` says otherwise."""

WS_PATH = "/ws"

PAGE_DIR = Path(__file__).parent
PAGES = {
    "/": (PAGE_DIR / "overlay.html", "text/html; charset=utf-8"),
    "/overlay.html": (PAGE_DIR / "overlay.html", "text/html; charset=utf-8"),
    "/overlay.js": (PAGE_DIR / "overlay.js", "text/javascript; charset=utf-8"),
    "/overlay.css": (PAGE_DIR / "overlay.css", "text/css; charset=utf-8"),
    "/effects.json": (DEFAULT_EFFECTS_FILE, "application/json"),
}
"""What the server answers over plain HTTP: path -> (file, content type)."""

BROWSER_SOURCE_SIZE = (420, 560)
"""The OBS Browser Source size (width, height) the page is laid out for, with the top 5."""

START_TIMEOUT_S = 5.0
"""How long open() waits for the server thread to listen, and close() for it to end."""

WRITE_LIMIT_BYTES = 4096
"""Bytes a slow client may have waiting before it is skipped to the newest record."""


@dataclass(frozen=True)
class ServerConfig:
    """Where to listen: `port` 0 lets the system pick a free one (see OverlayServer.port)."""

    port: int
    host: str = DEFAULT_HOST

    def __post_init__(self):
        if not 0 <= self.port <= 65535:
            raise PoseRecError(f"--serve {self.port}: a port is a number from 0 to 65535")


def _listening_socket(config: ServerConfig) -> socket.socket:
    """A TCP socket bound and listening on the configured address; PoseRecError if it cannot."""
    where = f"--serve {config.port}"
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            config.host, config.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise PoseRecError(f"{where}: --host {config.host} is not an address of this machine "
                           f"({exc.strerror})") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen()
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PoseRecError(f"{where}: port {config.port} on {config.host} is already in use; "
                               "pick another port, or --serve 0 for a free one") from None
        raise PoseRecError(f"{where}: cannot listen on {config.host} ({exc.strerror})") from None
    sock.setblocking(False)
    return sock


class _Client:
    """One WebSocket client's newest unsent record and the event that wakes its sender."""

    def __init__(self, newest: str | None):
        self.pending = newest
        self.wake = asyncio.Event()
        if newest is not None:
            self.wake.set()


class OverlayServer:
    """Sink of `--serve`: serves the overlay page and sends every recommendation to every
    WebSocket client; open() listens (PoseRecError when the port is taken), close() stops."""

    def __init__(self, config: ServerConfig, announce: TextIO | None = None):
        self.config = config
        self.port: int | None = None
        self._announce = announce
        self._pages: dict[str, tuple[str, str]] = {}
        self._serve_with = None
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._clients: set[_Client] = set()
        self._newest: str | None = None

    @property
    def url(self) -> str:
        """The page's address, to paste into an OBS Browser Source (after open())."""
        return f"http://{self._host_for_url()}:{self.port}/"

    @property
    def ws_url(self) -> str:
        """The WebSocket feed's address (after open())."""
        return f"ws://{self._host_for_url()}:{self.port}{WS_PATH}"

    def open(self) -> None:
        """Read the page files, listen, start the server thread, say where it is."""
        try:
            from websockets.asyncio.server import serve
        except ImportError:
            raise PoseRecError("--serve needs the websockets package: pip install "
                               "websockets==17.4") from None
        self._serve_with = serve
        self._pages = {path: (file.read_text(encoding="utf-8"), kind)
                       for path, (file, kind) in PAGES.items()}
        self._socket = _listening_socket(self.config)
        self.port = self._socket.getsockname()[1]
        self._thread = threading.Thread(target=self._main, name="poserec-overlay-server",
                                        daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_S) or self._error is not None:
            self.close()
            raise PoseRecError(f"--serve {self.config.port}: the server did not start "
                               f"({self._error or 'timed out'})")
        if self._announce is not None:
            width, height = BROWSER_SOURCE_SIZE
            print(f"poserec live: OBS overlay at {self.url} (Browser Source {width}x{height}), "
                  f"WebSocket {self.ws_url}", file=self._announce, flush=True)

    def __call__(self, message: object) -> None:
        """Hand each Recommendation's record to the server loop; never waits for clients."""
        if isinstance(message, Recommendation):
            self._loop.call_soon_threadsafe(self._publish, json.dumps(message.to_json()))

    def close(self) -> None:
        """Close every connection and the socket; TimeoutError when the server thread does not
        end within START_TIMEOUT_S."""
        if self._thread is not None:
            if self._loop is not None and self._stop is not None:
                self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(START_TIMEOUT_S)
            if self._thread.is_alive():
                raise TimeoutError(f"the overlay server did not stop within {START_TIMEOUT_S:g} s")
            self._thread = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    # ---- the server thread ------------------------------------------------------------------

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except Exception as exc:
            if self._ready.is_set():
                raise
            self._error = exc  # open() is waiting for _ready and reports it
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with self._serve_with(self._handle, sock=self._socket, process_request=self._route,
                                    write_limit=WRITE_LIMIT_BYTES):
            self._ready.set()
            await self._stop.wait()

    def _publish(self, record: str) -> None:
        """Make `record` the newest, for every client (on the loop)."""
        self._newest = record
        for client in self._clients:
            client.pending = record
            client.wake.set()

    def _route(self, connection, request):
        """Plain HTTP: the page, its files and the effect catalog; None lets /ws upgrade."""
        path = request.path.split("?", 1)[0]
        if path == WS_PATH:
            return None
        if path not in self._pages:
            return connection.respond(HTTPStatus.NOT_FOUND,
                                      f"no page {path}; the overlay is at /\n")
        text, kind = self._pages[path]
        response = connection.respond(HTTPStatus.OK, text)
        del response.headers["Content-Type"]
        response.headers["Content-Type"] = kind
        response.headers["Cache-Control"] = "no-store"
        return response

    async def _handle(self, connection) -> None:
        """One WebSocket client: send it the newest record whenever one is pending."""
        client = _Client(self._newest)
        self._clients.add(client)
        sender = asyncio.create_task(self._send_newest(connection, client))
        try:
            await connection.wait_closed()
        finally:
            sender.cancel()
            self._clients.discard(client)

    @staticmethod
    async def _send_newest(connection, client: _Client) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            while True:
                await client.wake.wait()
                client.wake.clear()
                record, client.pending = client.pending, None
                await connection.send(record)
        except ConnectionClosed:
            return

    def _host_for_url(self) -> str:
        host = self.config.host
        return f"[{host}]" if ":" in host else host
