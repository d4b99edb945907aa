"""Load test of `poserec serve` on loopback: N simulated streams, each posting 6 windows a second.

A stream stands for a client at 30 FPS with stride 5: every 1/6 s it posts its newest window
(one window of the published sample). Like `poserec live`, a stream that still waits for its
previous reply skips the tick (counted as `skipped`). Bounded: at most MAX_STREAMS streams and
MAX_SECONDS seconds per step, and only loopback addresses are accepted.

    python benchmarks/ray_load_test.py                       # starts a local Ray + Serve
    python benchmarks/ray_load_test.py --url http://127.0.0.1:8000/recommend --streams 1 8

Prints a Markdown table: offered and served windows/s, skipped ticks, latency p50/p99 (send to
reply), the batch sizes (requests per batch) the replies report and the CPU time the server's
processes spent per window served (CPU time, so less skewed by a busy machine than latency);
then the replica's own cost, scoring only (torch, one thread as a one-CPU replica has), per
window by batch size.
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

from poserec_ray.serve_app import INGRESS_CHOICES, ServeConfig, serving

WINDOWS_PER_SECOND = 6.0
"""30 FPS with a window every 5 frames."""
MAX_STREAMS = 1024
MAX_SECONDS = 60.0
DRAIN_SECONDS = 10.0
WARMUP_REQUESTS = 20


@dataclass(frozen=True)
class StepResult:
    """One load level. server_cpu_ms_per_window: CPU time of the local Ray's processes (proxy,
    replica, raylet, ...) over the step per window served; nan for a server started elsewhere."""

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


def _sample_bodies() -> list[bytes]:
    from poserec_core.bundle import read_manifest
    from poserec_core.pretrained import load_sample
    from poserec_core.weights_install import default_weights_dir

    sample = load_sample(read_manifest(default_weights_dir()))
    return [json.dumps({"windows": sample[n:n + 1].tolist(), "top_k": 5}).encode()
            for n in range(len(sample))]


class _Tally:
    def __init__(self):
        self.latencies: list[float] = []
        self.batches: list[int] = []
        self.sent = self.skipped = self.errors = 0


async def _post(session, url: str, body: bytes, tally: _Tally, measure: bool) -> None:
    import aiohttp

    start = time.perf_counter()
    try:
        async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as reply:
            await reply.read()
            ok = reply.status == 200
            batch = int(reply.headers.get("X-PoseRec-Batch-Requests", 0))
    except (aiohttp.ClientError, asyncio.TimeoutError):
        ok, batch = False, 0
    if not measure:
        return
    if ok:
        tally.latencies.append((time.perf_counter() - start) * 1e3)
        tally.batches.append(batch)
    else:
        tally.errors += 1


async def _stream(session, url, bodies, offset, end, tally, rng) -> None:
    period = 1.0 / WINDOWS_PER_SECOND
    tick = time.perf_counter() + offset
    in_flight: asyncio.Task | None = None
    pending = []
    while tick < end:
        await asyncio.sleep(max(0.0, tick - time.perf_counter()))
        if in_flight is not None and not in_flight.done():
            tally.skipped += 1
        else:
            in_flight = asyncio.create_task(
                _post(session, url, bodies[rng.randrange(len(bodies))], tally, True))
            pending.append(in_flight)
            tally.sent += 1
        tick += period
    if pending:
        await asyncio.wait(pending, timeout=DRAIN_SECONDS)
        for task in pending:
            task.cancel()


async def _step(url: str, bodies: list[bytes], streams: int, seconds: float,
                local_server: bool) -> StepResult:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=streams + 1)
    timeout = aiohttp.ClientTimeout(total=DRAIN_SECONDS + seconds)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        for n in range(WARMUP_REQUESTS):
            await _post(session, url, bodies[n % len(bodies)], _Tally(), False)
        tally, rng = _Tally(), random.Random(streams)
        cpu_before = _descendants_cpu_seconds(os.getpid())
        start = time.perf_counter()
        end = start + seconds
        await asyncio.gather(*(
            _stream(session, url, bodies, rng.uniform(0, 1 / WINDOWS_PER_SECOND), end, tally,
                    random.Random(n)) for n in range(streams)))
        server_cpu = _descendants_cpu_seconds(os.getpid()) - cpu_before
    served = len(tally.latencies)
    ticks = tally.sent + tally.skipped
    lat = np.array(tally.latencies or [np.nan])
    batches = np.array(tally.batches or [0])
    return StepResult(streams, seconds, streams * WINDOWS_PER_SECOND, served / seconds,
                      100.0 * tally.skipped / ticks if ticks else 0.0, tally.errors,
                      float(np.percentile(lat, 50)), float(np.percentile(lat, 99)),
                      float(batches.mean()), int(batches.max()),
                      1e3 * server_cpu / served if local_server and served else float("nan"))


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
    head = ("| streams | offered win/s | served win/s | skipped ticks | errors | p50 ms | p99 ms "
            "| batch mean | batch max | server CPU ms/win |\n"
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    rows = [f"| {r.streams} | {r.offered_per_s:.0f} | {r.served_per_s:.1f} | {r.skipped_pct:.1f}% "
            f"| {r.errors} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.batch_mean:.1f} | {r.batch_max} "
            f"| {r.server_cpu_ms_per_window:.1f} |" for r in results]
    return "\n".join([head, *rows])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    """Run the steps, print the table (and write --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running `poserec serve` on loopback (default: start one)")
    parser.add_argument("--streams", type=int, nargs="+", default=[1, 8, 64, 256])
    parser.add_argument("--seconds", type=float, default=10.0, help="per step (default 10)")
    parser.add_argument("--replicas", type=int, default=1, help="when starting the application")
    parser.add_argument("--batch-wait-ms", type=float, default=5.0)
    parser.add_argument("--ingress", choices=INGRESS_CHOICES, default="proxy")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    if not all(1 <= n <= MAX_STREAMS for n in args.streams) or not 0 < args.seconds <= MAX_SECONDS:
        parser.error(f"streams must be 1..{MAX_STREAMS} and seconds in (0, {MAX_SECONDS}]")
    bodies = _sample_bodies()
    if args.url:
        server = nullcontext(_loopback_url(args.url))
    else:
        server = serving(ServeConfig(port=_free_port(), device="cpu", replicas=args.replicas,
                                     batch_wait_ms=args.batch_wait_ms, ingress=args.ingress))
    with server as url:
        results = [asyncio.run(_step(url, bodies, n, args.seconds, not args.url))
                   for n in args.streams]
    print(_table(results))
    cost = _encoder_cost_ms()
    print("\n| batch (windows) | " + " | ".join(str(b) for b in cost) + " |\n|---|"
          + "---:|" * len(cost) + "\n| scoring ms per window, 1 thread | "
          + " | ".join(f"{c:.2f}" for c in cost.values()) + " |")
    if args.json:
        args.json.write_text(json.dumps({"steps": [asdict(r) for r in results],
                                         "scoring_ms_per_window": cost}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
