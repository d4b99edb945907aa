"""Connect to a Ray cluster, or start a small local one for the run and shut it down after."""
from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from poserec_core.errors import PoseRecError

LOCAL_OBJECT_STORE_BYTES = 512 << 20
"""Object store of a local Ray: windows and top-k lists are small; pixels never travel."""
CONNECT_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class RaySettings:
    """Where to run: `address` of an existing cluster, or None for a local Ray of `num_cpus`
    (default: the machine's cores) and the GPUs Ray detects, whose processes get `environment`
    ((name, value) pairs) added to this process's environment."""

    address: str | None = None
    num_cpus: int | None = None
    environment: tuple[tuple[str, str], ...] = ()


@contextmanager
def ray_session(settings: RaySettings) -> Iterator[dict]:
    """Yield the cluster's resources while connected; a local Ray lives in a temporary folder
    under /tmp and is shut down (and the folder removed) on exit. A cluster stays up."""
    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    temp_dir = None
    saved = {name: os.environ.get(name) for name, _ in settings.environment}
    try:
        if settings.address:
            _require_reachable(settings.address)
            try:
                ray.init(address=settings.address, log_to_driver=False,
                         logging_level=logging.WARNING)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise PoseRecError(f"--address {settings.address}: cannot connect to a Ray "
                                   f"cluster there ({str(exc).splitlines()[0]})") from None
        else:
            temp_dir = tempfile.mkdtemp(prefix="poserec-ray-", dir="/tmp")
            os.environ.update(settings.environment)
            ray.init(num_cpus=settings.num_cpus or os.cpu_count(), include_dashboard=False,
                     _temp_dir=temp_dir, log_to_driver=False,
                     object_store_memory=LOCAL_OBJECT_STORE_BYTES, logging_level=logging.WARNING)
        yield ray.cluster_resources()
    finally:
        if ray.is_initialized():
            ray.shutdown()
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _require_reachable(address: str) -> None:
    """Fail in seconds, not after Ray's long retries, when HOST:PORT does not answer ("auto" and
    other addresses without a port are left to Ray)."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise PoseRecError(f"--address {address}: nothing answers there ({exc}); start the "
                           "cluster with `ray start --head` or fix the address") from None


def require_resources(resources: dict, cpus: float, gpus: float, options: str) -> None:
    """Refuse work that asks for more CPUs or GPUs than the cluster has (Ray would wait forever);
    `options` names the command-line options that set the demand."""
    for name, wanted in (("CPU", cpus), ("GPU", gpus)):
        have = resources.get(name, 0)
        if wanted > have:
            raise PoseRecError(f"this needs {wanted:g} {name}s and the Ray cluster has {have:g}; "
                               f"lower {options} or add nodes")
