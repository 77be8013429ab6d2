"""`python -m sotto.bench`: the same as `sotto bench`."""

from __future__ import annotations

import sys

from .command import main

if __name__ == "__main__":
    sys.exit(main())
