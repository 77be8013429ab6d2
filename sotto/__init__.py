"""Sotto's Python reference client: a sans-I/O protocol core and the `sotto` command."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
