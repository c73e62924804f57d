"""Kernel side of nbtrack: the %%track magic and what it captures from a cell (no SQL, no widgets)."""
