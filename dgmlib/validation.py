"""Input validation at the library's entry points: clear errors instead of silent wrong numbers.

The model checks its input (``Model.check_input``) on every call: shape, feature count, device and
dtype always (free), and, while validation is on, the values too: finite, and inside the
likelihood's support (binary for a Bernoulli likelihood, the grey-level grid for a discretized
one). Value checks cost a reduction and a host synchronization, so the loops that call a model
many times on data they have checked once (:func:`dgmlib.train.fit`,
:func:`dgmlib.metrics.log_marginal_likelihood`) run them with value checks off, and a benchmark may
switch them off too::

    with dgmlib.validation.off():
        ...
"""
from __future__ import annotations

import contextlib
import numbers
import threading
from typing import Any, Iterator

from torch import Tensor

_state = threading.local()


def enabled() -> bool:
    """Whether value checks are on (the default) in this thread."""
    return getattr(_state, "on", True)


@contextlib.contextmanager
def off() -> Iterator[None]:
    """Inside the block, value checks (finite, support) are skipped; shape checks stay."""
    previous, _state.on = enabled(), False
    try:
        yield
    finally:
        _state.on = previous


def check_tensor(x: Any, name: str = "x") -> Tensor:
    """x itself, or a ``TypeError`` naming the argument when it is not a tensor."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    return x


def check_nonempty(x: Tensor, name: str = "x") -> None:
    """A ``ValueError`` for a tensor without rows (an empty split or batch)."""
    if x.dim() == 0 or x.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {tuple(x.shape)}): it needs at least one row")


def check_finite(x: Tensor, name: str = "x") -> None:
    """A ``ValueError`` naming the argument and counting the NaN and infinite entries (value check)."""
    if enabled() and x.is_floating_point():
        bad = ~x.isfinite()
        if bool(bad.any()):
            rows = bad.reshape(bad.shape[0], -1).any(-1).nonzero().flatten()[:5].tolist() if bad.dim() else []
            raise ValueError(f"{name} contains {int(x.isnan().sum())} NaN and {int(x.isinf().sum())} "
                             f"infinite values (rows {rows}{'...' if bad.dim() and len(rows) == 5 else ''}); "
                             "clean the data before it reaches the model")


def check_positive_int(value: Any, name: str = "K") -> int:
    """``value`` as an int >= 1, or a ``ValueError`` naming the argument (2.5 is not 2; 0, -1, True
    and "5" are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != int(value) or int(value) < 1:
        raise ValueError(f"{name} must be a whole, positive number (>= 1), got {value!r}")
    return int(value)
