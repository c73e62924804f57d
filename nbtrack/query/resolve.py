"""Turning what a user types (12, "#12", a run id or a unique prefix of one) into a run id."""

from __future__ import annotations

import numbers
from typing import Any

import sqlalchemy as sa

from nbtrack.errors import RunNotFound
from nbtrack.store import schema as t
from nbtrack.store.store import Store

MIN_PREFIX = 4


def resolve_run_id(store: Store, ref: Any) -> str:
    """The run id that ``ref`` names: a seq number, ``"#12"``, a run id, or a unique id prefix."""
    ref = getattr(ref, "run_id", ref)
    seq = _as_seq(ref)
    runs = t.runs.c
    with store.read() as conn:
        if seq is not None:
            if not -(2**63) <= seq < 2**63:  # beyond any stored run number (and the database's integers)
                raise RunNotFound(f"no run #{seq} in the store at {store.display_url}")
            found = conn.execute(sa.select(runs.run_id).where(runs.seq == seq)).scalar()
            if found is None:
                raise RunNotFound(f"no run #{seq} in the store at {store.display_url}")
            return str(found)
        if not isinstance(ref, str) or not ref.strip():
            raise RunNotFound(f"not a run reference: {ref!r} (give a run number or a run id)")
        text = ref.strip()
        found = conn.execute(sa.select(runs.run_id).where(runs.run_id == text)).scalar()
        if found is not None:
            return str(found)
        if len(text) >= MIN_PREFIX:
            matches = conn.execute(
                sa.select(runs.run_id, runs.seq)
                .where(runs.run_id.startswith(text, autoescape=True))
                .order_by(runs.seq)
                .limit(6)
            ).all()
            if len(matches) == 1:
                return str(matches[0].run_id)
            if len(matches) > 1:
                seqs = ", ".join(f"#{m.seq}" for m in matches[:5]) + (", ..." if len(matches) > 5 else "")
                raise RunNotFound(
                    f"run id prefix {text!r} is ambiguous: it matches runs {seqs}; "
                    "give more characters or the run number"
                )
    raise RunNotFound(f"no run {ref!r} in the store at {store.display_url}")


def is_run_number(ref: Any) -> bool:
    """True for an integral number (``12``, or ``numpy.int64(12)`` from a runs DataFrame), not a bool."""
    return isinstance(ref, numbers.Integral) and not isinstance(ref, bool)


def _as_seq(ref: Any) -> int | None:
    if is_run_number(ref):
        return int(ref)
    if isinstance(ref, str):
        text = ref.strip().removeprefix("#")
        if text.isdigit() and len(text) < 12:
            return int(text)
    return None
