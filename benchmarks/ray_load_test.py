"""Load test of `poserec serve` on loopback: N simulated streams, each sending 6 windows a second.

A stream stands for a client at 30 FPS with stride 5: every 1/6 s it sends its newest window
(one window of the published sample) over one transport: `http` (a JSON POST per window, kept-
alive connection), `ws` (a WebSocket session at /stream, one binary message per window) or
`grpc` (a gRPC session, poserec.PoseRec/Stream) or `direct` (a WebSocket session straight to the
replica's own server, `poserec serve --stream-port`, no proxy between). Like `poserec live`, a stream that still waits
for its previous reply skips the tick (counted as `skipped`). Bounded: at most MAX_STREAMS
streams and MAX_SECONDS seconds per step, and only loopback addresses are accepted.

    python benchmarks/ray_load_test.py                       # starts a local Ray + Serve
    python benchmarks/ray_load_test.py --transports ws --ingress haproxy --streams 64
    python benchmarks/ray_load_test.py --url http://127.0.0.1:8000/recommend --transports http
    python benchmarks/ray_load_test.py --transports direct --streams 16 64 --batch-wait-ms 10

Prints a Markdown table per transport and N: offered and served windows/s, skipped ticks,
latency p50/p99 (send to reply), the batch sizes (requests per batch) the replies report, the CPU
time the server's processes spent per window served (CPU time, so less skewed by a busy machine
than latency) and the load generator's own CPU per window; then the replica's own cost, scoring
only (torch, one thread as a one-CPU replica has), per window by batch size.
"""
from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import os
import random
import socket
import sys
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from poserec_ray.serve_app import INGRESS_CHOICES, ServeConfig, ServeUrls, serving
from realtime.engine import stream_protocol as protocol

TRANSPORTS = ("http", "ws", "grpc", "direct")
WINDOWS_PER_SECOND = 6.0
"""30 FPS with a window every 5 frames."""
MAX_STREAMS = 1024
MAX_SECONDS = 60.0
DRAIN_SECONDS = 10.0
WARMUP_REQUESTS = 20


@dataclass(frozen=True)
class StepResult:
    """One transport at one load level. server_cpu_ms_per_window: CPU time of the local Ray's
    processes (proxy, replica, raylet, ...) over the step per window served; nan for a server
    started elsewhere. client_cpu_ms_per_window: this load generator's own CPU per window."""

    transport: str
    streams: int
    seconds: float
    offered_per_s: float
    served_per_s: float
    skipped_pct: float
    errors: int
    p50_ms: float
    p99_ms: float
    batch_mean: float
    batch_max: int
    server_cpu_ms_per_window: float
    client_cpu_ms_per_window: float
    load_average: float
    """The machine's 1-minute load average at the end of the step (2 cores here)."""


def _descendants_cpu_seconds(root: int) -> float:
    """User + system CPU seconds of every live process below `root` (from /proc)."""
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])))
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    total, stack = 0, list(children.get(root, []))
    while stack:
        pid = stack.pop()
        total += stats[pid][1]
        stack.extend(children.get(pid, []))
    return total / os.sysconf("SC_CLK_TCK")


def _loopback_url(url: str) -> str:
    host = urlsplit(url).hostname or ""
    try:
        address = ipaddress.ip_address(socket.gethostbyname(host))
    except (OSError, ValueError):
        raise SystemExit(f"{url}: cannot resolve {host!r}") from None
    if not address.is_loopback:
        raise SystemExit(f"{url}: the load test only talks to loopback addresses (127.0.0.0/8)")
    return url


@dataclass(frozen=True)
class Sample:
    """Each window of the published sample as an HTTP JSON body and as a session message."""

    bodies: list[bytes]
    messages: list[bytes]


def _sample() -> Sample:
    from poserec_core.bundle import read_manifest
    from poserec_core.pretrained import load_sample
    from poserec_core.weights_install import default_weights_dir

    sample = load_sample(read_manifest(default_weights_dir()))
    return Sample([json.dumps({"windows": sample[n:n + 1].tolist(), "top_k": 5}).encode()
                   for n in range(len(sample))],
                  [protocol.encode_window(w, n, 5) for n, w in enumerate(sample)])


class _Tally:
    def __init__(self):
        self.latencies: list[float] = []
        self.batches: list[int] = []
        self.sent = self.skipped = self.errors = 0


class _HttpClient:
    """A stream over HTTP: one JSON POST per window on the step's shared connection pool."""

    def __init__(self, session, url: str, sample: Sample):
        self.session, self.url, self.bodies = session, url, sample.bodies

    async def open(self) -> None:
        pass

    async def ask(self, n: int) -> int:
        """Send window n, wait for its answer; the batch's request count (raises on failure)."""
        async with self.session.post(self.url, data=self.bodies[n],
                                     headers={"Content-Type": "application/json"}) as reply:
            await reply.read()
            if reply.status != 200:
                raise RuntimeError(f"HTTP {reply.status}")
            return int(reply.headers.get("X-PoseRec-Batch-Requests", 0))

    async def close(self) -> None:
        pass


class _WebSocketClient:
    """A stream as a WebSocket session: one binary message per window."""

    def __init__(self, session, url: str, sample: Sample):
        self.session, self.url, self.messages, self.socket = session, url, sample.messages, None

    async def open(self) -> None:
        # autoping answers the server's keep-alive pings (websockets and uvicorn ping every 20 s);
        # without it receive_bytes() meets a PING and the window counts as an error
        self.socket = await self.session.ws_connect(self.url, compress=0, autoping=True)

    async def ask(self, n: int) -> int:
        await self.socket.send_bytes(self.messages[n])
        return _batch_of(await self.socket.receive_bytes())

    async def close(self) -> None:
        await self.socket.close()


class _GrpcClient:
    """A stream as a gRPC session: one BytesValue per window on one bidirectional call."""

    def __init__(self, _session, url: str, sample: Sample):
        self.target, self.messages, self.channel, self.call = urlsplit(url).netloc, sample.messages, None, None

    async def open(self) -> None:
        from google.protobuf.wrappers_pb2 import BytesValue
        from grpc import aio

        from realtime.engine.stream_scorer import GRPC_METHOD

        self.wrap = BytesValue
        self.channel = aio.insecure_channel(self.target)
        self.call = self.channel.stream_stream(
            GRPC_METHOD, request_serializer=BytesValue.SerializeToString,
            response_deserializer=BytesValue.FromString)()

    async def ask(self, n: int) -> int:
        await self.call.write(self.wrap(value=self.messages[n]))
        return _batch_of((await self.call.read()).value)

    async def close(self) -> None:
        await self.call.done_writing()
        await self.channel.close()


CLIENTS = {"http": _HttpClient, "ws": _WebSocketClient, "grpc": _GrpcClient,
           "direct": _WebSocketClient}


def _batch_of(message: bytes) -> int:
    reply = protocol.decode_reply(message)
    if reply.kind != protocol.RANKING:
        raise RuntimeError(reply.error)
    return reply.batch


async def _ask(client, n: int, tally: _Tally) -> None:
    start = time.perf_counter()
    try:
        batch = await client.ask(n)
    except Exception:  # any failure of any transport counts as an error of the step
        tally.errors += 1
        return
    tally.latencies.append((time.perf_counter() - start) * 1e3)
    tally.batches.append(batch)


async def _stream(client, windows: int, offset: float, end: float, tally: _Tally,
                  rng: random.Random) -> None:
    period = 1.0 / WINDOWS_PER_SECOND
    tick = time.perf_counter() + offset
    in_flight: asyncio.Task | None = None
    while tick < end:
        await asyncio.sleep(max(0.0, tick - time.perf_counter()))
        if in_flight is not None and not in_flight.done():
            tally.skipped += 1
        else:
            in_flight = asyncio.create_task(_ask(client, rng.randrange(windows), tally))
            tally.sent += 1
        tick += period
    if in_flight is not None:
        await asyncio.wait([in_flight], timeout=DRAIN_SECONDS)
        in_flight.cancel()


async def _step(transport: str, url: str, sample: Sample, streams: int, seconds: float,
                local_server: bool) -> StepResult:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=streams + 1)
    timeout = aiohttp.ClientTimeout(total=DRAIN_SECONDS + seconds)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        clients = [CLIENTS[transport](session, url, sample) for _ in range(streams)]
        await asyncio.gather(*(c.open() for c in clients))
        for n in range(WARMUP_REQUESTS):
            await _ask(clients[n % streams], n, _Tally())
        tally, rng = _Tally(), random.Random(streams)
        cpu_before = _descendants_cpu_seconds(os.getpid())
        client_before = time.process_time()
        start = time.perf_counter()
        end = start + seconds
        await asyncio.gather(*(
            _stream(c, len(sample.messages), rng.uniform(0, 1 / WINDOWS_PER_SECOND), end, tally,
                    random.Random(n)) for n, c in enumerate(clients)))
        server_cpu = _descendants_cpu_seconds(os.getpid()) - cpu_before
        client_cpu = time.process_time() - client_before
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    served = len(tally.latencies)
    ticks = tally.sent + tally.skipped
    lat = np.array(tally.latencies or [np.nan])
    batches = np.array(tally.batches or [0])
    return StepResult(transport, streams, seconds, streams * WINDOWS_PER_SECOND, served / seconds,
                      100.0 * tally.skipped / ticks if ticks else 0.0, tally.errors,
                      float(np.percentile(lat, 50)), float(np.percentile(lat, 99)),
                      float(batches.mean()), int(batches.max()),
                      1e3 * server_cpu / served if local_server and served else float("nan"),
                      1e3 * client_cpu / served if served else float("nan"), os.getloadavg()[0])


def _encoder_cost_ms(batch_sizes=(1, 8, 64, 256), repeats: int = 5) -> dict[int, float]:
    """Best-of-`repeats` milliseconds per window of `Recommender.score` on one CPU thread."""
    import torch

    from poserec_core import Recommender
    from poserec_core.bundle import read_manifest
    from poserec_core.pretrained import load_sample
    from poserec_core.weights_install import default_weights_dir

    torch.set_num_threads(1)
    recommender = Recommender.from_pretrained(device="cpu")
    sample = load_sample(read_manifest(default_weights_dir()))
    cost = {}
    for size in batch_sizes:
        windows = np.resize(sample, (size,) + sample.shape[1:])
        recommender.score(windows)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            recommender.score(windows)
            times.append(time.perf_counter() - start)
        cost[size] = 1e3 * min(times) / size
    return cost


def _table(results: list[StepResult]) -> str:
    head = ("| transport | streams | offered win/s | served win/s | skipped ticks | errors | p50 ms "
            "| p99 ms | batch mean | batch max | server CPU ms/win | client CPU ms/win | load |\n"
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    rows = [f"| {r.transport} | {r.streams} | {r.offered_per_s:.0f} | {r.served_per_s:.1f} "
            f"| {r.skipped_pct:.1f}% | {r.errors} | {r.p50_ms:.1f} | {r.p99_ms:.1f} "
            f"| {r.batch_mean:.1f} | {r.batch_max} | {r.server_cpu_ms_per_window:.2f} "
            f"| {r.client_cpu_ms_per_window:.2f} | {r.load_average:.1f} |" for r in results]
    return "\n".join([head, *rows])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _urls(url: str, grpc_url: str | None, direct_url: str | None) -> ServeUrls:
    """The URLs of a server started elsewhere, from its HTTP or WebSocket URL."""
    base = urlsplit(_loopback_url(url)).netloc
    return ServeUrls(f"http://{base}/recommend", f"ws://{base}/stream",
                     grpc_url and _loopback_url(grpc_url), direct_url and _loopback_url(direct_url))


def main(argv: list[str] | None = None) -> int:
    """Run the steps, print the table (and write --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running `poserec serve` on loopback (its http:// or "
                                      "ws:// URL; default: start one)")
    parser.add_argument("--grpc-url", help="with --url: its grpc://127.0.0.1:PORT")
    parser.add_argument("--direct-url", help="with --url: its ws://127.0.0.1:STREAM_PORT/stream")
    parser.add_argument("--transports", nargs="+", choices=TRANSPORTS, default=list(TRANSPORTS))
    parser.add_argument("--streams", type=int, nargs="+", default=[1, 8, 64, 256])
    parser.add_argument("--seconds", type=float, default=10.0, help="per step (default 10)")
    parser.add_argument("--replicas", type=int, default=1, help="when starting the application")
    parser.add_argument("--batch-wait-ms", type=float, default=5.0)
    parser.add_argument("--ingress", choices=INGRESS_CHOICES, default="proxy")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    if not all(1 <= n <= MAX_STREAMS for n in args.streams) or not 0 < args.seconds <= MAX_SECONDS:
        parser.error(f"streams must be 1..{MAX_STREAMS} and seconds in (0, {MAX_SECONDS}]")
    if args.url is None and (args.grpc_url or args.direct_url):
        parser.error("--grpc-url and --direct-url go with --url")
    sample = _sample()
    if args.url:
        server = nullcontext(_urls(args.url, args.grpc_url, args.direct_url))
    else:
        server = serving(ServeConfig(port=_free_port(), grpc_port=_free_port(),
                                     stream_port=_free_port(), device="cpu",
                                     replicas=args.replicas, batch_wait_ms=args.batch_wait_ms,
                                     ingress=args.ingress, max_sessions=MAX_STREAMS))
    results = []
    with server as urls:
        for transport in args.transports:
            url = {"http": urls.http, "ws": urls.stream, "grpc": urls.grpc,
                   "direct": urls.direct}[transport]
            if url is None:
                parser.error(f"--transports {transport}: give the server's --{transport}-url")
            results.extend(asyncio.run(_step(transport, url, sample, n, args.seconds,
                                             not args.url)) for n in args.streams)
    print(_table(results))
    cost = _encoder_cost_ms()
    print("\n| batch (windows) | " + " | ".join(str(b) for b in cost) + " |\n|---|"
          + "---:|" * len(cost) + "\n| scoring ms per window, 1 thread | "
          + " | ".join(f"{c:.2f}" for c in cost.values()) + " |")
    if args.json:
        args.json.write_text(json.dumps({"ingress": args.ingress,
                                         "steps": [asdict(r) for r in results],
                                         "scoring_ms_per_window": cost}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
