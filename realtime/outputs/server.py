"""`--serve PORT`: the OBS overlay pages and their WebSocket feed, on one port.

    http://HOST:PORT/       the overlay card for an OBS Browser Source (overlay.html/.js/.css)
    http://HOST:PORT/ar     the AR layer: the selected effect's art on the body (ar.html/.js/.css)
    http://HOST:PORT/art/N  the art of effect N (its catalog file; 404 for any other name)
    ws://HOST:PORT/ws       every Recommendation as its JSONL record (`Recommendation.to_json()`)
                            and, per pose frame, a pose message (ar_layer.py)

Only these fixed routes exist: art is looked up by effect name in a table read at open(), never
by a path taken from the request. The server runs an asyncio loop (the `websockets` package) on
its own thread. The pipeline's listener call only serialises a message and hands it to that
loop; each client then gets the newest record and the newest pose whenever it is ready for them
(newest wins per client and kind), so a slow client misses messages and never holds up the
pipeline. A client that connects gets the newest of each at once.
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

from ..drawing.art import ArtBook
from ..drawing.choice import EffectChoice
from ..drawing.effects import DEFAULT_EFFECTS_FILE, load_effects
from ..messages import PoseFrame, Recommendation
from .ar_layer import PoseFeed, art_name, load_art

DEFAULT_HOST = "127.0.0.1"
"""Only this machine can reach the server unless `--host` says otherwise."""

WS_PATH = "/ws"

PAGE_DIR = Path(__file__).parent
PAGES = {
    "/": (PAGE_DIR / "overlay.html", "text/html; charset=utf-8"),
    "/overlay.html": (PAGE_DIR / "overlay.html", "text/html; charset=utf-8"),
    "/overlay.js": (PAGE_DIR / "overlay.js", "text/javascript; charset=utf-8"),
    "/overlay.css": (PAGE_DIR / "overlay.css", "text/css; charset=utf-8"),
    "/ar": (PAGE_DIR / "ar.html", "text/html; charset=utf-8"),
    "/ar.js": (PAGE_DIR / "ar.js", "text/javascript; charset=utf-8"),
    "/ar.css": (PAGE_DIR / "ar.css", "text/css; charset=utf-8"),
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
    """One WebSocket client's newest unsent message of each kind ("record", "pose") and the
    event that wakes its sender."""

    def __init__(self, newest: dict[str, str]):
        self.pending = dict(newest)
        self.wake = asyncio.Event()
        if self.pending:
            self.wake.set()


class OverlayServer:
    """Sink of `--serve`: serves the pages and the art, sends every recommendation and every
    pose frame's pose message to every WebSocket client; open() listens (PoseRecError when the
    port is taken), close() stops. `frame_size`: the source's (width, height), for pose frames
    without an image; `choice`: the effect /ar draws (default the top effect)."""

    def __init__(self, config: ServerConfig, announce: TextIO | None = None,
                 frame_size: tuple[int, int] | None = None, choice: EffectChoice | None = None):
        self.config = config
        self._choice = choice
        self.port: int | None = None
        self._announce = announce
        self._frame_size = frame_size
        self._pages: dict[str, tuple[bytes, str]] = {}
        self._art: dict[str, tuple[bytes, str]] = {}
        self._feed: PoseFeed | None = None
        self._serve_with = None
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._clients: set[_Client] = set()
        self._newest: dict[str, str] = {}

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
        self._pages = {path: (file.read_bytes(), kind) for path, (file, kind) in PAGES.items()}
        book = ArtBook(load_effects())
        self._art = load_art(book)
        self._feed = PoseFeed(book, self._frame_size, self._choice)
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
                  f"AR layer at {self.url}ar (Browser Source the camera's size), "
                  f"WebSocket {self.ws_url}", file=self._announce, flush=True)

    def __call__(self, message: object) -> None:
        """Hand each Recommendation's record and each PoseFrame's pose message to the server
        loop; never waits for clients."""
        if isinstance(message, Recommendation):
            self._feed.recommended(message)
            self._loop.call_soon_threadsafe(self._publish, "record",
                                            json.dumps(message.to_json()))
        elif isinstance(message, PoseFrame):
            self._loop.call_soon_threadsafe(self._publish, "pose",
                                            json.dumps(self._feed.message(message)))

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

    def _publish(self, kind: str, text: str) -> None:
        """Make `text` the newest message of its kind, for every client (on the loop)."""
        self._newest[kind] = text
        for client in self._clients:
            client.pending[kind] = text
            client.wake.set()

    def _route(self, connection, request):
        """Plain HTTP: the pages, their files, the effect catalog and the art by effect name;
        None lets /ws upgrade."""
        path = request.path.split("?", 1)[0]
        if path == WS_PATH:
            return None
        name = art_name(path)
        found = self._pages.get(path) if name is None else self._art.get(name)
        if found is None:
            what = f"no effect {name!r}" if name is not None else f"no page {path}"
            return connection.respond(HTTPStatus.NOT_FOUND,
                                      f"{what}; the overlay is at /, the AR layer at /ar\n")
        body, kind = found
        response = connection.respond(HTTPStatus.OK, "")
        response.body = body
        del response.headers["Content-Length"], response.headers["Content-Type"]
        response.headers.update({"Content-Length": str(len(body)), "Content-Type": kind,
                                 "Cache-Control": "no-store"})
        return response

    async def _handle(self, connection) -> None:
        """One WebSocket client: send it the newest messages whenever some are pending."""
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
                while client.pending:
                    kind = next(iter(client.pending))
                    await connection.send(client.pending.pop(kind))
        except ConnectionClosed:
            return

    def _host_for_url(self) -> str:
        host = self.config.host
        return f"[{host}]" if ":" in host else host
