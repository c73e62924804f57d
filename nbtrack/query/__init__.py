"""nbtrack.query layer (see ARCHITECTURE.md)."""
