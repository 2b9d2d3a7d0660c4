"""Run-time configuration: the device, seeds, and the quick-mode budget.

Nothing here is global state that other modules read behind the caller's back: a device, a seed
and a budget are values that the caller passes on.
"""
from __future__ import annotations

import os
import random
from typing import TypeVar

import numpy as np
import torch

T = TypeVar("T")

QUICK_ENV = "DGMLIB_QUICK"


def device() -> torch.device:
    """The best available device: CUDA, then Apple's MPS, then the CPU.

    Example:
        >>> DEVICE = device()   # doctest: +SKIP
    """
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python's, NumPy's and torch's generators (CPU and CUDA) with ``seed``.

    Returns a fresh CPU ``torch.Generator`` seeded with ``seed`` for callers that want their own
    stream (for example the shuffling in :func:`dgmlib.train.fit`).
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device
    return torch.Generator().manual_seed(seed)


def is_quick() -> bool:
    """True when the environment variable ``DGMLIB_QUICK`` is set to 1/true/yes."""
    return os.environ.get(QUICK_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def budget(full: T, quick: T) -> T:
    """``quick`` when ``DGMLIB_QUICK=1`` (CI's quick mode), else ``full``.

    Notebooks read every expensive setting through it, e.g. ``epochs = budget(full=300, quick=5)``.
    """
    return quick if is_quick() else full
