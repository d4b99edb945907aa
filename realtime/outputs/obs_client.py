"""A small obs-websocket 5 client: JSON over a synchronous `websockets` connection.

    client = ObsClient.connect("ws://127.0.0.1:4455", password)   # Hello, Identify, Identified
    scene = client.request("GetCurrentProgramScene")["currentProgramSceneName"]
    client.close()

Protocol (obs-websocket 5, rpcVersion 1): the server's Hello (op 0) carries a salt and a
challenge when a password is set; the client answers Identify (op 1) with
base64(sha256(base64(sha256(password + salt)) + challenge)); a refused password closes the
connection with code 4009. Requests (op 6) are answered by RequestResponse (op 7) with the same
requestId; events are not subscribed to.
"""
from __future__ import annotations

import base64
import hashlib
import itertools
import json
from urllib.parse import urlsplit

from poserec_core.errors import PoseRecError

SUBPROTOCOL = "obswebsocket.json"
RPC_VERSION = 1
AUTHENTICATION_FAILED = 4009
"""WebSocket close code of a refused password."""

CONNECT_TIMEOUT_S = 3.0
REQUEST_TIMEOUT_S = 2.0
"""Longest a request waits for its answer; after that OBS counts as lost."""

MAX_MESSAGE_BYTES = 64 * 2 ** 20
"""Screenshots come back as base64 PNG in one message."""

PASSWORD_VARIABLE = "POSEREC_OBS_PASSWORD"


class ObsUnavailable(PoseRecError):
    """OBS cannot be reached, refused the password, or the connection was lost."""


class ObsRequestFailed(PoseRecError):
    """OBS answered a request with a failure; `code` is obs-websocket's RequestStatus."""

    def __init__(self, request_type: str, code: int, comment: str):
        super().__init__(f"OBS refused {request_type}: {comment or 'no reason given'} "
                         f"(code {code})")
        self.code = code


def check_url(url: str) -> None:
    """PoseRecError (one line) unless `url` is a ws:// or wss:// address without a password in
    it (the password comes from $POSEREC_OBS_PASSWORD only, never from the command line)."""
    if not url.startswith(("ws://", "wss://")):
        raise PoseRecError(f"--obs {url}: not a ws://HOST:PORT address (OBS shows it in Tools > "
                           "WebSocket Server Settings)")
    if "@" in urlsplit(url).netloc:
        raise PoseRecError(f"--obs: no password in the address; put it in ${PASSWORD_VARIABLE}")


def authentication(password: str, salt: str, challenge: str) -> str:
    """The Identify `authentication` string for a Hello's salt and challenge."""
    secret = base64.b64encode(hashlib.sha256((password + salt).encode()).digest()).decode()
    return base64.b64encode(hashlib.sha256((secret + challenge).encode()).digest()).decode()


class ObsClient:
    """One identified connection to obs-websocket; use from one thread (close() from any)."""

    def __init__(self, url: str, websocket):
        self.url = url
        self._websocket = websocket
        self._ids = itertools.count(1)

    @classmethod
    def connect(cls, url: str, password: str | None,
                timeout: float = CONNECT_TIMEOUT_S) -> "ObsClient":
        """Open and identify a connection; ObsUnavailable (one line) when nothing answers, the
        server is not obs-websocket 5, or the password is missing or refused."""
        from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
        from websockets.sync.client import connect

        try:
            websocket = connect(url, subprotocols=[SUBPROTOCOL], proxy=None, open_timeout=timeout,
                                close_timeout=1.0, max_size=MAX_MESSAGE_BYTES, compression=None,
                                legacy=True)
        except InvalidURI:
            raise ObsUnavailable(f"--obs {url}: not a ws://HOST:PORT address") from None
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            raise ObsUnavailable(f"OBS at {url} does not answer ({_reason(exc)}); in OBS turn "
                                 "on Tools > WebSocket Server Settings > Enable WebSocket "
                                 "server") from None
        client = cls(url, websocket)
        try:
            client._identify(password, timeout)
        except ConnectionClosed as exc:
            client.close()
            if exc.rcvd is not None and exc.rcvd.code == AUTHENTICATION_FAILED:
                raise ObsUnavailable(f"OBS at {url} refused the password in ${PASSWORD_VARIABLE}"
                                     " (see Tools > WebSocket Server Settings > Show Connect "
                                     "Info)") from None
            raise ObsUnavailable(f"OBS at {url} closed the connection ({exc})") from None
        except (TimeoutError, ValueError, KeyError) as exc:
            client.close()
            raise ObsUnavailable(f"{url} is not obs-websocket 5 ({_reason(exc)})") from None
        return client

    def _identify(self, password: str | None, timeout: float) -> None:
        hello = self._receive(0, timeout)
        identify = {"rpcVersion": RPC_VERSION, "eventSubscriptions": 0}
        challenge = hello.get("authentication")
        if challenge is not None:
            if not password:
                self.close()
                raise ObsUnavailable(f"OBS at {self.url} asks for a password: set "
                                     f"${PASSWORD_VARIABLE} to the one in Tools > WebSocket "
                                     "Server Settings")
            identify["authentication"] = authentication(password, challenge["salt"],
                                                        challenge["challenge"])
        self._send(1, identify)
        self._receive(2, timeout)

    def request(self, request_type: str, data: dict | None = None,
                timeout: float = REQUEST_TIMEOUT_S) -> dict:
        """Send one request and return its responseData ({} when none); ObsRequestFailed when
        OBS refuses it, ObsUnavailable when the connection is lost or OBS does not answer."""
        from websockets.exceptions import ConnectionClosed

        request_id = str(next(self._ids))
        try:
            self._send(6, {"requestType": request_type, "requestId": request_id,
                           "requestData": data or {}})
            while True:
                response = self._receive(7, timeout)
                if response.get("requestId") == request_id:
                    break
        except TimeoutError:  # before OSError, its base class
            raise ObsUnavailable(f"OBS at {self.url} did not answer {request_type} within "
                                 f"{timeout:g} s") from None
        except (ConnectionClosed, OSError) as exc:
            raise ObsUnavailable(f"the connection to OBS at {self.url} was lost "
                                 f"({_reason(exc)})") from None
        status = response["requestStatus"]
        if not status["result"]:
            raise ObsRequestFailed(request_type, status["code"], status.get("comment", ""))
        return response.get("responseData") or {}

    def close(self) -> None:
        """Close the connection (safe from another thread: a request waiting in it ends)."""
        self._websocket.close()

    def _send(self, op: int, data: dict) -> None:
        self._websocket.send(json.dumps({"op": op, "d": data}))

    def _receive(self, op: int, timeout: float) -> dict:
        """The data of the next message with opcode `op`, skipping others (events)."""
        while True:
            message = json.loads(self._websocket.recv(timeout=timeout))
            if message["op"] == op:
                return message["d"]


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
