"""nbtrack.query layer (see ARCHITECTURE.md): every read of the store goes through here."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from nbtrack.store.store import Store

#: How views get the store: called before each read, so it can flush this process's pending writes
#: and reconcile crashed runs first (the public API passes ``session().reconciled``).
StoreSource: TypeAlias = "Callable[[], Store]"
