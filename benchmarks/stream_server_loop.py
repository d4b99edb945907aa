"""The event loop's CPU per window of a replica's own WebSocket server, without Ray or the model.

Runs the direct transport's server (poserec_ray/direct_stream.py) and the replica's window queue
in this process on uvloop (as a replica does), the queue's pass answering every window with the
same ranking in its worker thread (as the replica scores), and drives it with
`ray_load_test.py`'s simulated streams from another process:

    python benchmarks/stream_server_loop.py --streams 64 --seconds 22

Prints the load test's row and the CPU time of this process's event loop thread over the run
per window served: what the transport, the session and the batch hand-over cost a window.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import uvloop

from poserec_ray.direct_stream import start_stream_server
from poserec_ray.stream_session import Scored, SessionAnswerer, SessionLimit
from poserec_ray.window_batcher import WindowBatcher

LOAD_TEST = Path(__file__).with_name("ray_load_test.py")
NAMES = tuple(f"item{n}" for n in range(221))


def _fixed_pass(requests) -> list[Scored]:
    """Every request's ranking: items 0..k-1, all scores 0 (no model)."""
    return [Scored(np.arange(r.top_k)[None], np.zeros((1, r.top_k), np.float32),
                   np.zeros((1, len(NAMES)), np.float32) if r.with_scores else None,
                   len(requests), len(requests)) for r in requests]


async def _measure(streams: int, seconds: float, wait_ms: float) -> tuple[str, float]:
    queue = WindowBatcher(_fixed_pass, 256, wait_ms / 1e3)
    server = await start_stream_server("127.0.0.1", 0, "/stream", SessionLimit(streams + 1),
                                       SessionAnswerer(queue, NAMES), queue.submit)
    port = server.sockets[0].getsockname()[1]
    with tempfile.TemporaryDirectory() as folder:
        results = Path(folder) / "load.json"
        start = time.thread_time()
        client = await asyncio.create_subprocess_exec(
            sys.executable, str(LOAD_TEST), "--url", f"http://127.0.0.1:{port}/recommend",
            "--direct-url", f"ws://127.0.0.1:{port}/stream", "--transports", "direct",
            "--streams", str(streams), "--seconds", str(seconds), "--json", str(results),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        output = (await client.communicate())[0].decode()
        loop_cpu = time.thread_time() - start
        server.close()
        if client.returncode != 0:
            raise SystemExit(f"the load test failed:\n{output}")
        step = json.loads(results.read_text())["steps"][0]
    row = next(line for line in output.splitlines() if line.startswith("| direct"))
    return row, 1e3 * loop_cpu / (step["served_per_s"] * step["seconds"])


def main(argv: list[str] | None = None) -> int:
    """Run the load test against the server and print its row and the loop's CPU per window."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=64, help="simulated streams (1..256)")
    parser.add_argument("--seconds", type=float, default=22.0)
    parser.add_argument("--batch-wait-ms", type=float, default=20.0)
    args = parser.parse_args(argv)
    if not 1 <= args.streams <= 256 or not 0 < args.seconds <= 600 or args.batch_wait_ms < 0:
        parser.error("--streams must be 1..256, --seconds in (0, 600], --batch-wait-ms at "
                     "least 0")
    row, loop_ms = uvloop.run(_measure(  # the event loop of Ray Serve's replicas
        args.streams, args.seconds, args.batch_wait_ms))
    print(row)
    print(f"event loop CPU: {loop_ms:.3f} ms per window served")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
