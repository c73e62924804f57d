"""nbtrack.store layer (see ARCHITECTURE.md)."""
