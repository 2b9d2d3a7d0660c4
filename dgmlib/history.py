"""The record of a training run: one entry per epoch (written by :func:`dgmlib.train.fit`,
stored in checkpoints)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class History:
    """Per-epoch record of training: the mean training objective and the validation score
    (nats per example, higher is better; NaN in epochs without validation) and the epoch's wall
    time in seconds; the best validated epoch and its score (None before any validation).

    Checkpoints written before ``best_epoch`` and ``best_val`` existed load with None there."""
    epoch: list[int] = field(default_factory=list)
    train: list[float] = field(default_factory=list)
    val: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    objective: str = "elbo"
    best_epoch: int | None = None
    best_val: float | None = None

    def __len__(self) -> int:
        return len(self.epoch)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "History":
        return cls(**d)
