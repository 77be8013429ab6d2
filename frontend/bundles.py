"""Read the esbuild manifest: logical bundle name -> hashed file and its SRI value."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

MANIFEST_PATH = Path(__file__).resolve().parent / "static" / "frontend" / "dist" / "manifest.json"
STATIC_PREFIX = "frontend/dist/"

_cache: dict[str, object] = {"mtime": None, "bundles": {}}


class BundleMissing(LookupError):
    """The page's bundles are not built: run `npm run build` (scripts/setup does)."""


@dataclass(frozen=True)
class Bundle:
    """One built file: its static path and its Subresource Integrity value."""

    static_path: str
    integrity: str


def _load() -> dict[str, Bundle]:
    try:
        mtime = MANIFEST_PATH.stat().st_mtime_ns
    except FileNotFoundError:
        raise BundleMissing(BundleMissing.__doc__) from None
    if _cache["mtime"] != mtime:
        raw = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
        _cache["bundles"] = {
            name: Bundle(STATIC_PREFIX + entry["file"], entry["integrity"])
            for name, entry in raw.items()
        }
        _cache["mtime"] = mtime
    bundles = _cache["bundles"]
    assert isinstance(bundles, dict)
    return bundles


def bundle(name: str) -> Bundle:
    """Return the built bundle for a logical name such as ``"app.js"``."""
    bundles = _load()
    if name not in bundles:
        raise BundleMissing(f"No bundle named {name!r} in {MANIFEST_PATH.name}.")
    return bundles[name]


def available() -> bool:
    """Tell whether the manifest exists, so the page can say when it does not."""
    try:
        _load()
    except BundleMissing:
        return False
    return True
