"""Training checkpoints: the trainer's state plus what it was trained on, written atomically."""
from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import torch

from ..bundle import atomic_write_bytes
from ..errors import PoseRecError
from ..torch_files import load_tensors
from .config import TrainConfig

CHECKPOINT_NAME = "checkpoint.pt"


@dataclass(frozen=True)
class RunIdentity:
    """What a checkpoint must match to be resumed: the config, the data and the text model."""

    config: TrainConfig
    dataset_fingerprint: str
    text_model: str


def checkpoint_path(run_dir: Path) -> Path:
    """Where a run directory keeps its latest checkpoint."""
    return Path(run_dir) / CHECKPOINT_NAME


def save_checkpoint(run_dir: Path, trainer_state: dict, identity: RunIdentity) -> Path:
    """Write the latest checkpoint of a run (replacing the previous one atomically)."""
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    payload = {**trainer_state, "config": json.dumps(identity.config.to_dict()),
               "dataset_fingerprint": identity.dataset_fingerprint,
               "text_model": identity.text_model}
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    path = checkpoint_path(run_dir)
    atomic_write_bytes(path, buffer.getvalue())
    return path


def load_checkpoint(run_dir: Path, identity: RunIdentity) -> dict:
    """The trainer state of a run's checkpoint, after checking it belongs to this run.

    The number of epochs may differ (a resumed run can be extended); nothing else may.
    """
    path = checkpoint_path(run_dir)
    if not path.is_file():
        raise PoseRecError(f"{path}: no checkpoint to resume; start without --resume")
    payload = load_tensors(path, "checkpoint", PoseRecError)
    try:
        saved = TrainConfig.from_dict(json.loads(payload["config"]), str(path))
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise PoseRecError(f"{path}: not a loadable checkpoint ({str(exc).splitlines()[0]})") from None
    mine = identity.config.to_dict()
    differing = [k for k, v in saved.to_dict().items() if k != "epochs" and mine[k] != v]
    if differing:
        raise PoseRecError(f"{path}: the checkpoint was trained with other settings "
                           f"({', '.join(differing)}); resume with the same settings or use a "
                           "new --run-dir")
    if payload.get("dataset_fingerprint") != identity.dataset_fingerprint:
        raise PoseRecError(f"{path}: the checkpoint was trained on other data; resume with the "
                           "same --data or use a new --run-dir")
    if payload.get("text_model") != identity.text_model:
        raise PoseRecError(f"{path}: the checkpoint used the text encoder "
                           f"{payload.get('text_model')}, this run {identity.text_model}")
    if int(payload["epoch"]) > identity.config.epochs:
        raise PoseRecError(f"{path}: the checkpoint already has {payload['epoch']} epochs, more "
                           f"than --epochs {identity.config.epochs}")
    return payload
