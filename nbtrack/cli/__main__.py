"""``python -m nbtrack.cli``: the same as the ``nbtrack`` command."""

from __future__ import annotations

import sys

from nbtrack.cli import main

if __name__ == "__main__":
    sys.exit(main())
