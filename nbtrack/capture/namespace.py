"""What a cell read from and left in the user's namespace: namespace params and output metrics.

- A *namespace param* is a name the cell reads that existed before it ran and whose value is a scalar
  or a small container of scalars (``lr`` set in an earlier cell).
- A *metric* is a name the cell bound whose final value is a number: int, float, bool, a numpy scalar
  or 0-d array, or anything 0-dimensional with a scalar ``.item()`` (a 0-d torch tensor).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

#: Names IPython keeps in the namespace that are never params or metrics.
IPYTHON_NAMES = frozenset({"In", "Out", "get_ipython", "exit", "quit", "open"})
MAX_CONTAINER = 64
_SCALARS = (int, float, str, bool, type(None))


def as_number(value: Any) -> float | None:
    """The value as a float if it is a number (see module doc), else None; never raises."""
    cls = value.__class__
    if cls is float or cls is int or cls is bool:
        return float(value)
    if isinstance(value, (int, float)):  # subclasses, numpy.float64 (a float subclass)
        try:
            return float(value)
        except (TypeError, ValueError, OverflowError):
            return None
    if isinstance(value, (str, bytes, complex)):
        return None
    item = getattr(cls, "item", None)
    if item is None or getattr(value, "ndim", None) != 0:
        return None
    try:
        scalar = value.item()
    except Exception:  # noqa: BLE001 - a user's object may raise anything; then it is not a metric
        return None
    if isinstance(scalar, (int, float)) and not isinstance(scalar, complex):
        try:
            return float(scalar)
        except OverflowError:
            return math.copysign(math.inf, scalar)
    return None


def is_plain_value(value: Any, depth: int = 0) -> bool:
    """True for scalars and small lists/tuples/sets/dicts of scalars (what a namespace param may be)."""
    if isinstance(value, _SCALARS):
        return not isinstance(value, str) or len(value) <= 1000
    if depth >= 2:
        return False
    if isinstance(value, (list, tuple, set, frozenset)):
        return len(value) <= MAX_CONTAINER and all(is_plain_value(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return len(value) <= MAX_CONTAINER and all(
            isinstance(k, str) and is_plain_value(v, depth + 1) for k, v in value.items()
        )
    return False


def namespace_params(reads: Iterable[str], namespace: Mapping[str, Any]) -> dict[str, Any]:
    """Params the cell read from earlier cells: present, public, and plain values."""
    found = {}
    for name in sorted(reads):
        if name.startswith("_") or name in IPYTHON_NAMES or name not in namespace:
            continue
        value = namespace[name]
        if is_plain_value(value):
            found[name] = value
    return found


def snapshot(names: Iterable[str], namespace: Mapping[str, Any]) -> dict[str, Any]:
    """The objects bound to ``names`` now (to tell later which ones the cell really rebound)."""
    return {name: namespace[name] for name in names if name in namespace}


def bound_metrics(
    bound: Iterable[str],
    unconditional: Iterable[str],
    before: Mapping[str, Any],
    namespace: Mapping[str, Any],
    completed: bool,
    exclude: Iterable[str] = (),
) -> dict[str, float]:
    """Metrics: names the cell bound whose final values are numbers.

    A name counts as bound by the cell if the cell binds it unconditionally and completed, or if the
    object under that name changed (so a branch not taken does not report an old value).
    """
    certain = set(unconditional) if completed else set()
    skip = set(exclude)
    metrics: dict[str, float] = {}
    for name in sorted(bound):
        if name in skip or name.startswith("_") or name in IPYTHON_NAMES or name not in namespace:
            continue
        value = namespace[name]
        if name not in certain and name in before and before[name] is value:
            continue
        number = as_number(value)
        if number is not None:
            metrics[name] = number
    return metrics
