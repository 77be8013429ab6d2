"""Room-name normalisation and the room id, the only form of the name the server sees."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from .constants import LABEL_ROOM, ROOM_ID_HASH_BYTES, SEP
from .encoding import b64encode
from .errors import UsageError

# Unicode White_Space, spelled out so Python and JS agree whatever their tables say.
_WHITE_SPACE = re.compile(
    "[\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+"
)


def norm(name: str) -> str:
    """Normalise a room name: collapse white space, NFKC, lowercase, NFKC (section 3)."""
    collapsed = _WHITE_SPACE.sub(" ", name).strip(" ")
    folded = unicodedata.normalize("NFKC", collapsed).lower()
    return unicodedata.normalize("NFKC", folded)


def room_id(name: str) -> str:
    """The 22-character room id of a room name; an empty normalised name is refused."""
    normalised = norm(name)
    if not normalised:
        raise UsageError("a room name needs at least one visible character")
    digest = hashlib.sha256(LABEL_ROOM + SEP + normalised.encode("utf-8")).digest()
    return b64encode(digest[:ROOM_ID_HASH_BYTES])
