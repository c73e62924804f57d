"""Metric chunks may use the narrow-delta and byte-plane layouts (``nbtrack.store.chunks``).

No table changes: the revision marks the chunk format. Chunks written from now on carry the
``NARROW_DELTAS`` and ``VALUE_PLANES`` encoding flags, which an nbtrack that knows only up to 0003
would fail to decode; with this revision it refuses the store up front with its "written by a newer
nbtrack: upgrade" message instead. Chunks already stored keep their layout and stay readable.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change in the tables (see the module docstring)."""


def downgrade() -> None:
    """Nothing to undo in the tables; chunks written with the new layouts stay as they are."""
