"""nbtrack.tracking layer (see ARCHITECTURE.md)."""
