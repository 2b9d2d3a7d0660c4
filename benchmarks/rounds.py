"""Interleaved rounds: ratios taken within each round, summarized as median and min-max."""
from __future__ import annotations

import statistics


def per_round(a: list[float], b: list[float]) -> list[float]:
    """Time a over time b in each round (same round, same machine state)."""
    return [ta / tb for ta, tb in zip(a, b)]


def spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def fmt(values: list[float], digits: int = 3) -> str:
    """'median (min-max)'."""
    s = spread(values)
    return f"{s['median']:.{digits}f} ({s['min']:.{digits}f}-{s['max']:.{digits}f})"
