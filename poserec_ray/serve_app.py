"""`poserec serve`: a Ray Serve application that ranks the catalog for pose windows sent as JSON.

Clients run MediaPipe on their own devices and POST windows (see payload.py) to ROUTE. Requests
are batched across clients (`serve.batch`, sized in windows) and scored in one pass per window
length, on CUDA when the cluster has a GPU (device auto). Each reply carries the batch it was
scored in, as the headers X-PoseRec-Batch-Requests and X-PoseRec-Batch-Windows. GET answers
the catalog's item names.
"""
from __future__ import annotations

import asyncio
import errno
import logging
import socket
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
from ray import serve
from starlette.requests import Request
from starlette.responses import JSONResponse

from poserec_core.errors import PoseRecError

from .model_parts import ModelParts
from .payload import PayloadError, ScoreRequest, parse_request, rankings_document
from .ray_session import RaySettings, ray_session, require_resources

APP_NAME = "poserec"
ROUTE = "/recommend"
REPLICA_CPUS = 1
INGRESS_CHOICES = ("proxy", "haproxy")
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
    batch_wait_ms: float = 5.0
    """How long a batch waits for more requests after its first one."""
    ingress: str = "proxy"
    """One of INGRESS_CHOICES; haproxy only for a local Ray (a cluster sets it where it starts)."""
    weights_dir: Path | None = None
    ray: RaySettings = field(default_factory=RaySettings)


@dataclass(frozen=True)
class BatchStats:
    """The batch a request was scored in."""

    requests: int
    windows: int


@serve.deployment
class PoseRecDeployment:
    """A replica: parses requests, batches them across clients, ranks, answers as JSON."""

    def __init__(self, parts: ModelParts, device: str, max_batch_windows: int,
                 batch_wait_s: float):
        self.recommender = parts.recommender(device)
        self.max_windows = max_batch_windows
        self.score_batch.set_max_batch_size(max_batch_windows)
        self.score_batch.set_batch_wait_timeout_s(batch_wait_s)

    async def __call__(self, request: Request) -> JSONResponse:
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
        document, stats = await self.score_batch(parsed)
        return JSONResponse(document, headers={"X-PoseRec-Batch-Requests": str(stats.requests),
                                               "X-PoseRec-Batch-Windows": str(stats.windows)})

    @serve.batch(batch_size_fn=lambda requests: sum(len(r.windows) for r in requests))
    async def score_batch(self, requests: list[ScoreRequest]) -> list[tuple[dict, BatchStats]]:
        """Answer every request of a batch; the encoding runs off the event loop."""
        documents = await asyncio.to_thread(self._answer, requests)
        stats = BatchStats(len(requests), sum(len(r.windows) for r in requests))
        return [(d, stats) for d in documents]

    def _answer(self, requests: list[ScoreRequest]) -> list[dict]:
        """Score the windows of each window length in one pass; split back per request."""
        documents: list[dict] = [{} for _ in requests]
        for length in {r.windows.shape[1] for r in requests}:
            members = [n for n, r in enumerate(requests) if r.windows.shape[1] == length]
            scores = torch.from_numpy(self.recommender.score(
                np.concatenate([requests[n].windows for n in members])))
            start = 0
            for n in members:
                mine = scores[start:start + len(requests[n].windows)]
                documents[n] = rankings_document(
                    self.recommender.rank_scores(mine, requests[n].top_k), requests[n].top_k,
                    mine.numpy() if requests[n].with_scores else None)
                start += len(requests[n].windows)
        return documents


def _require_free_port(host: str, port: int) -> None:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            why = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be bound ({exc})"
            raise PoseRecError(f"--port {port} on {host} {why}; choose another port") from None


def replica_gpus(device: str, resources: dict, replicas: int) -> float:
    """The GPU share of each replica: with GPUs in the cluster (device auto or cuda), the replicas
    share them evenly, one GPU each at most; 0 on the CPU. cuda without a GPU is an error."""
    gpus = resources.get("GPU", 0)
    if device == "cuda" and gpus < 1:
        raise PoseRecError("--device cuda: the Ray cluster has no GPU; use --device auto or cpu")
    return min(1.0, gpus / replicas) if device != "cpu" and gpus >= 1 else 0.0


@contextmanager
def serving(config: ServeConfig) -> Iterator[str]:
    """Run the application while the block runs; yields its URL. On exit a local Ray is shut
    down with everything in it; on a cluster only this application is deleted."""
    parts = ModelParts.load(config.weights_dir)
    settings = config.ray
    if config.ingress == "haproxy":
        if settings.address:
            raise PoseRecError("--ingress haproxy applies to a local Ray; on a cluster, start "
                               "every node with RAY_SERVE_ENABLE_HA_PROXY=1 instead")
        settings = replace(settings, environment=(("RAY_SERVE_ENABLE_HA_PROXY", "1"),))
    if not settings.address:
        _require_free_port(config.host, config.port)
    with ray_session(settings) as resources:
        gpus = replica_gpus(config.device, resources, config.replicas)
        require_resources(resources, config.replicas * REPLICA_CPUS, config.replicas * gpus,
                          "--replicas")
        logging.getLogger("ray.serve").setLevel(logging.WARNING)
        serve.start(http_options={"host": config.host, "port": config.port})
        app = PoseRecDeployment.options(
            num_replicas=config.replicas, max_ongoing_requests=config.max_batch_windows,
            ray_actor_options={"num_cpus": REPLICA_CPUS, "num_gpus": gpus},
        ).bind(parts, "cuda" if gpus else "cpu", config.max_batch_windows,
               config.batch_wait_ms / 1000)
        serve.run(app, name=APP_NAME, route_prefix=ROUTE,
                  logging_config={"enable_access_log": False, "log_level": "WARNING"})
        try:
            yield f"http://{config.host}:{config.port}{ROUTE}"
        finally:
            if settings.address:  # a local Ray's shutdown ends Serve, proxies and HAProxy at once
                serve.delete(APP_NAME)
