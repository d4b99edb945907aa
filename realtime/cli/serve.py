"""`poserec serve`: the Ray Serve application for many streams (Ray is imported only when run)."""
from __future__ import annotations

import signal
import threading
from pathlib import Path

from poserec_core.device import DEVICE_CHOICES

from .arg_types import float_in, int_at_least, int_in

INGRESS_CHOICES = ("proxy", "haproxy")
"""As poserec_ray.serve_app.INGRESS_CHOICES (not imported here: that module imports Ray)."""


def add_parser(sub) -> None:
    """Register `serve`."""
    parser = sub.add_parser(
        "serve", help="serve rankings for pose windows on Ray Serve (HTTP JSON, sessions)",
        description="Clients POST {\"windows\": [N][T][33][4], \"top_k\": K} to "
                    "http://HOST:PORT/recommend and get the JSON of `poserec recommend --json`, "
                    "or open a session (one binary message per window) at ws://HOST:PORT/stream "
                    "or, with --grpc-port, grpc://HOST:GRPC_PORT, or, with --stream-port (the least CPU per "
                    "window: no proxy between), ws://HOST:STREAM_PORT/stream. Runs until Ctrl-C or SIGTERM. "
                    "Without --address a local Ray is started.")
    parser.add_argument("--address", metavar="ADDR",
                        help="an existing Ray cluster (e.g. ray://head:10001 or auto)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address the HTTP proxy listens on (default 127.0.0.1; 0.0.0.0 for "
                             "every interface)")
    parser.add_argument("--port", type=int_in(1, 65535), default=8000, metavar="P")
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto",
                        help="auto: the replicas share the cluster's GPUs (one each at most) "
                             "when it has any")
    parser.add_argument("--replicas", type=int_at_least(1), default=1, metavar="R")
    parser.add_argument("--max-batch-windows", type=int_at_least(1), default=256, metavar="W",
                        help="most windows scored in one pass and sent in one request")
    parser.add_argument("--max-sessions", type=int_at_least(1), default=256, metavar="S",
                        help="sessions (every transport together) each replica holds; more are refused "
                             "(default 256: a window of each fits one batch of the default "
                             "--max-batch-windows)")
    parser.add_argument("--grpc-port", type=int_in(1, 65535), metavar="P",
                        help="also serve sessions on Ray Serve's gRPC proxy at this port "
                             "(method poserec.PoseRec/Stream)")
    parser.add_argument("--stream-port", type=int_in(1, 65535), metavar="P",
                        help="also serve sessions from each replica's own WebSocket server at "
                             "ws://HOST:P/stream, without Ray Serve's proxy (the replicas of a "
                             "node share the port)")
    parser.add_argument("--batch-wait-ms", type=float_in(0.0, 1000.0), default=5.0, metavar="MS",
                        help="how long a batch waits for more requests (default 5)")
    parser.add_argument("--ingress", choices=INGRESS_CHOICES, default="proxy",
                        help="proxy: Ray Serve's HTTP proxy (default); haproxy: its HAProxy "
                             "ingress, experimental in Ray 2.60, 2-3x less CPU per request here "
                             "(local Ray only)")
    parser.add_argument("--weights", type=Path, metavar="DIR",
                        help="weights directory (default: $POSEREC_WEIGHTS_DIR or installed)")
    parser.set_defaults(run=run)


def run(args) -> int:
    """Start the application, print its URL, serve until interrupted, then tear it down."""
    from poserec_ray.ray_session import RaySettings
    from poserec_ray.serve_app import ServeConfig, serving

    config = ServeConfig(host=args.host, port=args.port, device=args.device,
                         replicas=args.replicas, max_batch_windows=args.max_batch_windows,
                         batch_wait_ms=args.batch_wait_ms, ingress=args.ingress,
                         max_sessions=args.max_sessions, grpc_port=args.grpc_port,
                         stream_port=args.stream_port,
                         weights_dir=args.weights,
                         ray=RaySettings(address=args.address))
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with serving(config) as urls:
        sessions = " and ".join(u for u in (urls.stream, urls.grpc, urls.direct) if u)
        print(f"serving PoseRec at {urls.http} (POST JSON windows), sessions at {sessions}; "
              "Ctrl-C stops", flush=True)
        stop.wait()
    print("stopped")
    return 0
