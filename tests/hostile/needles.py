"""Secret needles for the secret scan: each secret as plain text, base64 (both alphabets,
every alignment) and hex, and a search that says which form was found where.

Base64 of a secret depends on where it starts within a 3-byte group and on the bytes
around it, so each alignment contributes only the characters that the secret's own
bytes determine; those are what any encoding of the secret at that alignment must
contain, whatever surrounds it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

MIN_B64_CHARS = 8  # shorter runs would match by chance


@dataclass(frozen=True)
class Needle:
    """One searchable form of a secret."""

    secret: str
    form: str
    data: bytes
    case_insensitive: bool


def base64_cores(raw: bytes, alphabet: str) -> list[tuple[str, bytes]]:
    """The characters of base64(raw) fixed by raw alone, for each of the 3 alignments."""
    encode = base64.urlsafe_b64encode if alphabet == "url" else base64.b64encode
    cores = []
    for shift in range(3):
        text = encode(bytes(shift) + raw).rstrip(b"=")
        first = (shift * 8 + 5) // 6  # skip characters that mix in the filler bytes
        last = (shift + len(raw)) // 3 * 4  # stop before a group the next bytes complete
        core = text[first:last]
        if len(core) >= MIN_B64_CHARS:
            cores.append((f"base64-{alphabet} (offset {shift})", core))
    return cores


def needles(name: str, secret: str | bytes) -> list[Needle]:
    """Every form of one secret to look for."""
    raw = secret.encode("utf-8") if isinstance(secret, str) else secret
    found = [
        Needle(name, "plain", raw, True),
        Needle(name, "hex", raw.hex().encode(), True),
    ]
    for alphabet in ("std", "url"):
        for form, core in base64_cores(raw, alphabet):
            found.append(Needle(name, form, core, False))
    return found


def search(haystack: bytes, where: str, all_needles: list[Needle]) -> list[str]:
    """A line for each needle found in ``haystack`` (empty when nothing leaked)."""
    lowered = haystack.lower()
    hits = []
    for needle in all_needles:
        hay = lowered if needle.case_insensitive else haystack
        data = needle.data.lower() if needle.case_insensitive else needle.data
        at = hay.find(data)
        if at >= 0:
            context = haystack[max(0, at - 40) : at + len(data) + 40]
            hits.append(f"{needle.secret} as {needle.form} in {where}: ...{context!r}...")
    return hits
