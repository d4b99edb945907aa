"""`poserec serve`: a Ray Serve application that ranks the catalog for pose windows.

Clients run MediaPipe on their own devices and send windows three ways, all to one FastAPI
ingress deployment: POST JSON to ROUTE (payload.py; one-off clients), or open a session, one
long-lived connection with a binary message per window (realtime/engine/stream_protocol.py), as
a WebSocket at STREAM_ROUTE or as the gRPC method poserec.PoseRec/Stream (grpc_service.py) when
a gRPC port is set, or straight to the replica's own WebSocket server (direct_stream.py: no proxy
between, the cheapest per window) when a stream port is set. Requests from every transport are batched together (window_batcher.py: one queue per
replica, sized in windows) and scored in one pass per window length, on CUDA when the cluster has a GPU (device
auto). HTTP replies carry the batch they were scored in, as the headers X-PoseRec-Batch-Requests
and X-PoseRec-Batch-Windows; session replies carry its request count. GET ROUTE answers the
catalog's item names.
"""

import errno
import logging
import os
import socket
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import AsyncIterator, Iterator

import numpy as np
import torch
from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse
from google.protobuf.wrappers_pb2 import BytesValue
from ray import serve

from poserec_core.errors import PoseRecError
from poserec_core.recommender import Ranking
from poserec_core.scoring import top_k

from .direct_stream import start_stream_server
from .grpc_service import SERVICER_FUNCTION
from .model_parts import ModelParts
from .payload import PayloadError, ScoreRequest, parse_request, rankings_document
from .ray_session import RaySettings, ray_session, require_resources
from .stream_session import ClientGone, Scored, SessionAnswerer, SessionLimit
from .window_batcher import WindowBatcher

APP_NAME = "poserec"
ROUTE = "/recommend"
STREAM_ROUTE = "/stream"
REPLICA_CPUS = 1
INGRESS_CHOICES = ("proxy", "haproxy")
CONTROL_LOOP_VARIABLE = "RAY_SERVE_CONTROL_LOOP_INTERVAL_S"
LOCAL_CONTROL_LOOP_S = "1"
"""The Serve controller's pass over a local application, in seconds (Ray's default 0.1): with a
fixed number of replicas nothing needs it sooner, and at 0.1 s the controller and the GCS it
asks took 0.11 ms of CPU per window at 384 windows/s (0.044 at 1 s). A value the user set in
the environment is kept."""
"""proxy: Ray Serve's Python HTTP proxy; haproxy: Ray Serve's HAProxy ingress (experimental in
Ray 2.60, turned on by RAY_SERVE_ENABLE_HA_PROXY=1), which forwards straight to the replicas."""


@dataclass(frozen=True)
class ServeConfig:
    """The application's settings, as `poserec serve` fills them."""

    host: str = "127.0.0.1"
    port: int = 8000
    device: str = "auto"
    """auto: the replicas share the cluster's GPUs when it has any, else the CPU; cpu; cuda."""
    replicas: int = 1
    max_batch_windows: int = 256
    """Most windows scored in one pass; also the most one request may carry."""
    max_sessions: int = 256
    """Most sessions (every session transport together) one replica holds; more are refused."""
    grpc_port: int | None = None
    """Port of Ray Serve's gRPC proxy for the gRPC sessions; None: no gRPC."""
    stream_port: int | None = None
    """Port of the replicas' own WebSocket servers (shared by the replicas of a node) for
    sessions without the proxy; None: none."""
    batch_wait_ms: float = 5.0
    """How long a batch waits for more requests after its first one."""
    ingress: str = "proxy"
    """One of INGRESS_CHOICES; haproxy only for a local Ray (a cluster sets it where it starts)."""
    weights_dir: Path | None = None
    ray: RaySettings = field(default_factory=RaySettings)


@dataclass(frozen=True)
class ServeUrls:
    """Where a running application answers: HTTP JSON, WebSocket sessions through the proxy,
    gRPC sessions, WebSocket sessions straight to the replicas."""

    http: str
    stream: str
    grpc: str | None
    direct: str | None = None


api = FastAPI(title="PoseRec")


async def _websocket_messages(websocket: WebSocket) -> AsyncIterator[bytes | None]:
    """A WebSocket's messages: bytes, None for a text message; ClientGone when it disconnects."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise ClientGone
        yield message.get("bytes")


@serve.deployment
@serve.ingress(api)
class PoseRecDeployment:
    """A replica: HTTP JSON requests and binary sessions (WebSocket, gRPC, its own WebSocket
    server), batched together."""

    async def __init__(self, parts: ModelParts, device: str, max_batch_windows: int,
                       batch_wait_s: float, max_sessions: int,
                       stream_address: tuple[str, int] | None = None):
        self.recommender = parts.recommender(device)
        self.max_windows = max_batch_windows
        self.score_batch = WindowBatcher(self._score, max_batch_windows, batch_wait_s)
        self.sessions = SessionLimit(max_sessions)
        self.answerer = SessionAnswerer(self.score_batch, self.recommender.catalog.names)
        self.stream_server = None if stream_address is None else await start_stream_server(
            *stream_address, STREAM_ROUTE, self.sessions, self.answerer, self.score_batch.submit)

    @api.api_route(ROUTE, methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    async def recommend(self, request: Request) -> JSONResponse:
        """POST windows -> rankings; GET -> the catalog's names; a bad request -> 4xx
        {"error": "..."}; the replica goes on."""
        if request.method == "GET":
            return JSONResponse({"names": list(self.recommender.catalog.names)})
        if request.method != "POST":
            return JSONResponse({"error": f"{request.method} is not supported; POST the windows "
                                          "as JSON"}, status_code=405, headers={"Allow": "GET, POST"})
        try:
            parsed = parse_request(await request.body(), len(self.recommender.catalog),
                                   self.max_windows)
        except PayloadError as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        scored = await self.score_batch(parsed)
        names = self.recommender.catalog.names
        rankings = [Ranking(tuple(int(i) for i in items), tuple(names[i] for i in items),
                            tuple(float(v) for v in values))
                    for items, values in zip(scored.items, scored.values)]
        document = rankings_document(rankings, parsed.top_k, scored.scores)
        return JSONResponse(document, headers={
            "X-PoseRec-Batch-Requests": str(scored.batch_requests),
            "X-PoseRec-Batch-Windows": str(scored.batch_windows)})

    @api.websocket(STREAM_ROUTE)
    async def stream(self, websocket: WebSocket) -> None:
        """A session over WebSocket: each binary message answered in order (stream_session.py);
        over the session limit, a fatal ERROR and close code 1013 (try again later)."""
        await websocket.accept()
        if not self.sessions.try_open():
            await websocket.send_bytes(self.sessions.refusal())
            await websocket.close(code=1013, reason="session limit")
            return
        try:
            async for reply in self.answerer.answers(_websocket_messages(websocket)):
                await websocket.send_bytes(reply)
        except WebSocketDisconnect:
            return  # the client left while its answer was sent
        finally:
            self.sessions.close()

    async def Stream(self, requests):  # noqa: N802 (the gRPC method's name)
        """A session over gRPC (grpc_service.py): a BytesValue answered per BytesValue."""
        if not self.sessions.try_open():
            yield BytesValue(value=self.sessions.refusal())
            return
        try:
            async for reply in self.answerer.answers(r.value async for r in requests):
                yield BytesValue(value=reply)
        finally:
            self.sessions.close()

    def _score(self, requests: list[ScoreRequest]) -> list[Scored]:
        """Score a batch of requests from any transport (in the batcher's worker thread): the
        windows of each window length in one pass and one top-k (the largest asked), split back
        per request."""
        windows = sum(len(r.windows) for r in requests)
        answers: list[Scored | None] = [None] * len(requests)
        for length in {r.windows.shape[1] for r in requests}:
            members = [n for n, r in enumerate(requests) if r.windows.shape[1] == length]
            scores = torch.from_numpy(self.recommender.score(
                np.concatenate([requests[n].windows for n in members])))
            items, values = (t.numpy() for t in top_k(scores, max(requests[n].top_k
                                                                  for n in members)))
            start = 0
            for n in members:
                mine = slice(start, start + len(requests[n].windows))
                k = requests[n].top_k
                answers[n] = Scored(items[mine, :k], values[mine, :k],
                                    scores[mine].numpy() if requests[n].with_scores else None,
                                    len(requests), windows)
                start = mine.stop
        return answers


def _require_free_port(host: str, port: int, option: str = "--port") -> None:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind
        try:
            probe.bind((host, port))
        except OSError as exc:
            why = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be bound ({exc})"
            raise PoseRecError(f"{option} {port} on {host} {why}; choose another port") from None


def replica_gpus(device: str, resources: dict, replicas: int) -> float:
    """The GPU share of each replica: with GPUs in the cluster (device auto or cuda), the replicas
    share them evenly, one GPU each at most; 0 on the CPU. cuda without a GPU is an error."""
    gpus = resources.get("GPU", 0)
    if device == "cuda" and gpus < 1:
        raise PoseRecError("--device cuda: the Ray cluster has no GPU; use --device auto or cpu")
    return min(1.0, gpus / replicas) if device != "cpu" and gpus >= 1 else 0.0


@contextmanager
def serving(config: ServeConfig) -> Iterator[ServeUrls]:
    """Run the application while the block runs; yields its URLs. On exit a local Ray is shut
    down with everything in it; on a cluster only this application is deleted."""
    parts = ModelParts.load(config.weights_dir)
    settings = config.ray
    if config.ingress == "haproxy":
        if settings.address:
            raise PoseRecError("--ingress haproxy applies to a local Ray; on a cluster, start "
                               "every node with RAY_SERVE_ENABLE_HA_PROXY=1 instead")
        settings = replace(settings, environment=(("RAY_SERVE_ENABLE_HA_PROXY", "1"),))
    if not settings.address:
        settings = replace(settings, environment=settings.environment + (
            (CONTROL_LOOP_VARIABLE, os.environ.get(CONTROL_LOOP_VARIABLE, LOCAL_CONTROL_LOOP_S)),))
        _require_free_port(config.host, config.port)
        if config.grpc_port is not None:
            _require_free_port(config.host, config.grpc_port, "--grpc-port")
        if config.stream_port is not None:
            _require_free_port(config.host, config.stream_port, "--stream-port")
    with ray_session(settings) as resources:
        gpus = replica_gpus(config.device, resources, config.replicas)
        require_resources(resources, config.replicas * REPLICA_CPUS, config.replicas * gpus,
                          "--replicas")
        logging.getLogger("ray.serve").setLevel(logging.WARNING)
        grpc_options = None if config.grpc_port is None else {
            "port": config.grpc_port, "grpc_servicer_functions": [SERVICER_FUNCTION]}
        serve.start(http_options={"host": config.host, "port": config.port},
                    grpc_options=grpc_options)
        app = PoseRecDeployment.options(
            num_replicas=config.replicas,
            # a session is one request for its whole life: room for every session plus HTTP
            max_ongoing_requests=config.max_sessions + config.max_batch_windows,
            ray_actor_options={"num_cpus": REPLICA_CPUS, "num_gpus": gpus},
        ).bind(parts, "cuda" if gpus else "cpu", config.max_batch_windows,
               config.batch_wait_ms / 1000, config.max_sessions,
               None if config.stream_port is None else (config.host, config.stream_port))
        serve.run(app, name=APP_NAME, route_prefix="/",
                  logging_config={"enable_access_log": False, "log_level": "WARNING"})
        base = f"{config.host}:{config.port}"
        try:
            yield ServeUrls(f"http://{base}{ROUTE}", f"ws://{base}{STREAM_ROUTE}",
                            None if config.grpc_port is None
                            else f"grpc://{config.host}:{config.grpc_port}",
                            None if config.stream_port is None
                            else f"ws://{config.host}:{config.stream_port}{STREAM_ROUTE}")
        finally:
            if settings.address:  # a local Ray's shutdown ends Serve, proxies and HAProxy at once
                serve.delete(APP_NAME)
