"""What a benchmark ran on: CPU, GPU, library versions, torch threads and device."""
from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path

import torch


def cpu_model() -> str:
    """The CPU's model name (Linux /proc/cpuinfo), else what `platform` knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown"


def package_version(name: str) -> str | None:
    """An installed distribution's version without importing it; None if absent."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def hardware_info(device: torch.device) -> dict:
    """CPU, cores, GPU (when the device is CUDA), torch/MediaPipe/Python versions, threads."""
    return {
        "cpu": cpu_model(),
        "cpu_cores": os.cpu_count(),
        "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
        "device": str(device),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "mediapipe": package_version("mediapipe"),
        "python": platform.python_version(),
    }


def hardware_line(info: dict) -> str:
    """One line for the top of a results table."""
    gpu = f", GPU {info['gpu']}" if info.get("gpu") else ""
    mediapipe = f", MediaPipe {info['mediapipe']}" if info.get("mediapipe") else ""
    return (f"{info['cpu']} ({info['cpu_cores']} cores){gpu}; device {info['device']}; "
            f"torch {info['torch']} on {info['torch_threads']} threads{mediapipe}; "
            f"Python {info['python']}")
