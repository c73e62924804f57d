"""Validation of what users log: metric values must be numbers, keys non-empty strings.

Kept apart from the hot path in :mod:`nbtrack.tracking.run`, which calls into here only for values
that are not already plain floats.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Any


def metric_value(key: str, value: Any) -> float:
    """``value`` as a float, or a TypeError naming the key (numbers, numpy/torch scalars accepted)."""
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, (str, bytes, bytearray)):
        raise TypeError(f"metric {key!r} must be a number, got {type(value).__name__} {value!r:.60}")
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "size", 1) == 1:
        try:
            scalar = item()
        except (TypeError, ValueError) as exc:
            raise TypeError(f"metric {key!r} must be a number: {exc}") from exc
        if isinstance(scalar, (int, float)):
            return float(scalar)
    if hasattr(type(value), "__float__") and not isinstance(value, complex):
        try:
            return float(value)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"metric {key!r} must be a number: {exc}") from exc
    raise TypeError(
        f"metric {key!r} must be a number (int, float or a numpy/torch scalar), got {type(value).__name__}"
    )


def check_key(key: Any, what: str) -> str:
    """``key`` if it is a non-empty string, else a TypeError/ValueError saying what was wrong."""
    if not isinstance(key, str):
        raise TypeError(f"{what} names must be strings, got {type(key).__name__} {key!r:.60}")
    if not key:
        raise ValueError(f"{what} names must not be empty")
    return key


def merged(mapping: Mapping[str, Any] | None, kwargs: dict[str, Any], what: str) -> dict[str, Any]:
    """One dict from a positional mapping and keyword arguments (keywords win), keys checked."""
    if not mapping:
        return kwargs
    for key in mapping:
        check_key(key, what)
    return {**mapping, **kwargs}


def step_value(step: Any) -> int:
    """An integer step (numpy integers accepted), or a TypeError."""
    try:
        value = operator.index(step)
    except TypeError:
        raise TypeError(f"step must be an integer, got {type(step).__name__} {step!r:.40}") from None
    if not -(2**63) <= value < 2**63:
        raise ValueError(f"step {value} does not fit in 64 bits")
    return value
