"""`python -m sotto`: the same as the `sotto` console script."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
