r"""KL weight schedules :math:`\beta_t` for the annealed objective
:math:`\mathbb E_q[\log p(x|z)] - \beta_t\, \mathrm{KL}(q(z|x) \| p(z))`, t the optimizer step.

* :class:`Constant`: :math:`\beta_t = \beta` (the ELBO at 1, the beta-VAE objective otherwise).
* :class:`LinearWarmup`: from ``start`` to ``end`` in ``steps`` steps, then ``end``
  (KL annealing; Bowman et al., 2016).
* :class:`Cyclical`: the warm-up repeated every ``period`` steps, rising during the first
  ``ratio`` of each cycle and held at ``end`` for the rest (Fu et al., 2019).
* :class:`Staircase`: the linear warm-up held constant over stairs of ``stair`` steps (raised at
  the start of each stair), e.g. one stair per validation interval.

A schedule is a callable ``schedule(step) -> float``; :func:`make_schedule` builds one by name.
"""
from __future__ import annotations

from dataclasses import dataclass


def _check_step(step: int) -> int:
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    return int(step)


@dataclass(frozen=True)
class Constant:
    r""":math:`\beta_t = \beta` for every step."""
    value: float = 1.0

    def __call__(self, step: int) -> float:
        _check_step(step)
        return float(self.value)


@dataclass(frozen=True)
class LinearWarmup:
    r"""Linear KL warm-up (Bowman et al., 2016):
    :math:`\beta_t = \mathrm{start} + (\mathrm{end} - \mathrm{start}) \min(1, t / \mathrm{steps})`.

    ``steps = 0`` starts at ``end``. Example: ``LinearWarmup(100)(0) = 0``, ``(50) = 0.5``, ``(100) = 1``.
    """
    steps: int
    start: float = 0.0
    end: float = 1.0

    def __post_init__(self):
        if self.steps < 0:
            raise ValueError(f"a warm-up needs steps >= 0, got {self.steps}")

    def __call__(self, step: int) -> float:
        step = _check_step(step)
        if self.steps == 0 or step >= self.steps:
            return float(self.end)
        return self.start + (self.end - self.start) * step / self.steps


@dataclass(frozen=True)
class Cyclical:
    r"""Cyclical annealing (Fu et al., 2019): with :math:`\tau = (t \bmod P) / P`,

    .. math:: \beta_t = \mathrm{start} + (\mathrm{end} - \mathrm{start})\, \min(1, \tau / R),

    a linear rise over the first fraction R (``ratio``) of every cycle of P (``period``) steps,
    then ``end`` until the cycle restarts at ``start``. Example: ``Cyclical(100, 0.5)`` gives
    0 at steps 0, 100, 200, ..., 0.5 at step 25 and 1 from step 50 to 99.
    """
    period: int
    ratio: float = 0.5
    start: float = 0.0
    end: float = 1.0

    def __post_init__(self):
        if self.period < 1:
            raise ValueError(f"a cycle needs period >= 1 steps, got {self.period}")
        if not 0.0 < self.ratio <= 1.0:
            raise ValueError(f"ratio must be in (0, 1], got {self.ratio}")

    def __call__(self, step: int) -> float:
        step = _check_step(step)
        tau = (step % self.period) / self.period
        return self.start + (self.end - self.start) * min(1.0, tau / self.ratio)


@dataclass(frozen=True)
class Staircase:
    r"""A stepped linear warm-up: with :math:`s` = ``stair`` and :math:`T` = ``steps``,

    .. math:: \beta_t = \mathrm{start} + (\mathrm{end} - \mathrm{start})
              \min\Big(1, \frac{(\lfloor t / s \rfloor + 1)\, s}{T}\Big),

    :class:`LinearWarmup` at the end of each stair, held over the whole stair (so the first stair
    already has weight :math:`s / T`). ``steps = 0`` starts at ``end``. Example:
    ``Staircase(100, 25)`` gives 0.25 for steps 0..24, 0.5 for 25..49, ..., 1 from step 75 on.
    """
    steps: int
    stair: int
    start: float = 0.0
    end: float = 1.0

    def __post_init__(self):
        if self.steps < 0:
            raise ValueError(f"a warm-up needs steps >= 0, got {self.steps}")
        if self.stair < 1:
            raise ValueError(f"a stair needs stair >= 1 steps, got {self.stair}")

    def __call__(self, step: int) -> float:
        step = _check_step(step)
        if self.steps == 0:
            return float(self.end)
        return self.start + (self.end - self.start) * min(1.0, (step // self.stair + 1) * self.stair / self.steps)


SCHEDULES = {"constant": Constant, "linear": LinearWarmup, "cyclical": Cyclical, "staircase": Staircase}


def make_schedule(name: str, **kwargs) -> Constant | LinearWarmup | Cyclical | Staircase:
    """A schedule by name: ``"constant"`` (value), ``"linear"`` (steps, start, end),
    ``"cyclical"`` (period, ratio, start, end) or ``"staircase"`` (steps, stair, start, end)."""
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; choose one of {sorted(SCHEDULES)}")
    return SCHEDULES[name](**kwargs)
