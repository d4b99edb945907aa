"""The typed training configuration: one frozen dataclass, read from JSON or filled by flags."""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from ..errors import PoseRecError
from .loss import DEFAULT_MARGINS, TRIPLET_VARIANTS, LossWeights

ENCODER_INITS = ("published", "scratch")
"""`published`: fine-tune the released encoder weights; `scratch`: a freshly initialised one."""

LR_SCHEDULES = ("cosine", "constant")
"""`cosine`: the learning rate falls from `learning_rate` towards 0 along half a cosine over the
epochs (set at the start of each epoch); `constant`: it stays at `learning_rate`."""


class ConfigError(PoseRecError):
    """A training configuration value or file that is not valid."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run. Keys of a config file are these field names."""

    epochs: int = 10
    batch_windows: int = 32
    learning_rate: float = 1e-3
    lr_schedule: str = "cosine"
    weight_decay: float = 0.0
    seed: int = 0
    holdout: float = 0.2
    loss: str = "published"
    margin: float | None = None
    label_weight: float = 1.0
    triplet_weight: float = 1.0
    norm_weight: float = 0.0
    init: str = "published"
    columns: tuple[str, ...] = ()

    def __post_init__(self):
        rules = {
            "epochs": (self.epochs >= 1, "must be at least 1"),
            "batch_windows": (self.batch_windows >= 2, "must be at least 2 (hard negatives come "
                                                       "from other windows of the batch)"),
            "learning_rate": (0 < self.learning_rate <= 1, "must be in (0, 1]"),
            "lr_schedule": (self.lr_schedule in LR_SCHEDULES,
                            f"must be one of {', '.join(LR_SCHEDULES)}"),
            "weight_decay": (0 <= self.weight_decay < 1, "must be in [0, 1)"),
            "seed": (self.seed >= 0, "must be >= 0"),
            "holdout": (0 <= self.holdout < 1, "must be in [0, 1)"),
            "loss": (self.loss in TRIPLET_VARIANTS, f"must be one of {', '.join(TRIPLET_VARIANTS)}"),
            "margin": (self.margin is None or (math.isfinite(self.margin) and self.margin >= 0),
                       "must be >= 0"),
            "init": (self.init in ENCODER_INITS, f"must be one of {', '.join(ENCODER_INITS)}"),
            "columns": (all(isinstance(c, str) and c for c in self.columns),
                        "must be non-empty column names"),
        }
        for name, (ok, rule) in rules.items():
            if not ok:
                raise ConfigError(f"{name}={getattr(self, name)!r} {rule}")
        try:
            self.loss_weights()
        except ValueError as exc:
            raise ConfigError(str(exc)) from None

    def learning_rate_at(self, epoch: int) -> float:
        """The learning rate of epoch `epoch` (0-based) under the schedule."""
        if self.lr_schedule == "constant":
            return self.learning_rate
        return self.learning_rate * 0.5 * (1 + math.cos(math.pi * epoch / self.epochs))

    @property
    def effective_margin(self) -> float:
        """The margin in use: `margin`, else the variant's default."""
        return DEFAULT_MARGINS[self.loss] if self.margin is None else self.margin

    def loss_weights(self) -> LossWeights:
        """The weights of the label, triplet and norm terms."""
        return LossWeights(self.label_weight, self.triplet_weight, self.norm_weight)

    def to_dict(self) -> dict:
        """A JSON-ready dict (columns as a list)."""
        data = asdict(self)
        data["columns"] = list(self.columns)
        return data

    @classmethod
    def from_dict(cls, data: dict, source: str = "the config") -> "TrainConfig":
        """Build from a dict of field names; unknown keys and wrong types are errors."""
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: expected a JSON object of settings")
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ConfigError(f"{source}: unknown setting(s) {', '.join(unknown)}; known: "
                              + ", ".join(known))
        values = {}
        for name, value in data.items():
            default = known[name].default
            if name == "columns":
                if isinstance(value, str):
                    value = [c.strip() for c in value.split(",") if c.strip()]
                if not isinstance(value, list):
                    raise ConfigError(f"{source}: columns must be a list of column names")
                value = tuple(value)
            elif isinstance(default, bool) or isinstance(value, bool):
                raise ConfigError(f"{source}: {name} must be a number or a name, not {value!r}")
            elif isinstance(default, int) and not isinstance(value, int):
                raise ConfigError(f"{source}: {name} must be an integer, not {value!r}")
            elif (isinstance(default, float) or name == "margin") and value is not None:
                if not isinstance(value, (int, float)):
                    raise ConfigError(f"{source}: {name} must be a number, not {value!r}")
                value = float(value)
            elif isinstance(default, str) and not isinstance(value, str):
                raise ConfigError(f"{source}: {name} must be a string, not {value!r}")
            values[name] = value
        return cls(**values)


def read_config_file(path: str | Path) -> dict:
    """The settings of a JSON config file (validated when merged into a TrainConfig)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc})") from None
    TrainConfig.from_dict(data, str(path))
    return data
