"""How param values are stored: typed JSON, an MLflow-style string form, and a number when numeric.

Values that JSON cannot represent are kept as their ``repr`` with a warning — never dropped silently.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass
from typing import Any

from nbtrack.errors import NbtrackWarning

_SCALARS = (str, int, float, bool, type(None))


@dataclass(frozen=True, slots=True)
class EncodedParam:
    """One param value in its stored forms."""

    value_json: str
    value_str: str
    value_num: float | None
    vtype: str


def _plain(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON-ready data (tuples/sets become lists, numpy scalars Python numbers)."""
    if isinstance(value, _SCALARS):
        return value
    if depth > 20:
        raise TypeError("nested too deeply")
    if isinstance(value, (list, tuple)):
        return [_plain(v, depth + 1) for v in value]
    if isinstance(value, (set, frozenset)):
        items = [_plain(v, depth + 1) for v in value]
        try:
            return sorted(items)
        except TypeError:
            return sorted(items, key=repr)
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("dict keys must be strings")
        return {k: _plain(v, depth + 1) for k, v in value.items()}
    item = getattr(value, "item", None)  # numpy / torch scalars
    if callable(item) and getattr(value, "ndim", 0) == 0:
        scalar = item()
        if isinstance(scalar, _SCALARS):
            return scalar
    raise TypeError(f"{type(value).__name__} is not JSON-representable")


def string_form(value: Any) -> str:
    """The MLflow-style string of a plain value: str() for scalars, JSON for containers."""
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (bool, int)) or value is None:
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def encode_param(key: str, value: Any) -> EncodedParam:
    """Encode one param value for storage; non-representable values become their repr, with a warning."""
    try:
        plain = _plain(value)
    except (TypeError, ValueError, RecursionError) as exc:
        text = _safe_repr(value)
        warnings.warn(
            f"nbtrack: param {key!r} is not JSON-representable ({exc}); stored as its repr {text[:80]!r}",
            NbtrackWarning,
            stacklevel=3,
        )
        return EncodedParam(json.dumps(text), text, None, "repr")
    num: float | None
    if isinstance(plain, bool):
        vtype, num = "bool", float(plain)
    elif isinstance(plain, int):
        vtype, num = "int", float(plain) if abs(plain) < 2**63 else None
    elif isinstance(plain, float):
        vtype, num = "float", None if math.isnan(plain) else plain
    elif isinstance(plain, str):
        vtype, num = "str", None
    elif plain is None:
        vtype, num = "none", None
    elif isinstance(plain, list):
        vtype, num = "list", None
    else:
        vtype, num = "dict", None
    return EncodedParam(json.dumps(plain, ensure_ascii=False), string_form(plain), num, vtype)


def decode_param(value_json: str, value_str: str, value_num: float | None, vtype: str) -> Any:
    """The Python value of a stored param (cheap for scalars: no JSON parsing)."""
    if vtype == "str" or vtype == "repr":
        return value_str
    if vtype == "float":
        return value_num if value_num is not None else float(value_str)
    if vtype == "int":
        return int(value_str)
    if vtype == "bool":
        return value_str == "True"
    if vtype == "none":
        return None
    return json.loads(value_json)


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception as exc:  # noqa: BLE001 - a user's __repr__ may raise anything; we still store something
        return f"<{type(value).__name__} object (repr failed: {exc!r})>"
