"""Sender-key hash ratchet: our own chain, and bounded receiving chains with skipped keys.

MK_i = HMAC(CK_i, 0x01) and CK_{i+1} = HMAC(CK_i, 0x02) (section 6). A receiving
chain looks a key up without changing state (`message_key`), and only forgets it
once the message has authenticated (`consume`), so a bad frame burns no key.
"""

from __future__ import annotations

from collections import OrderedDict

from .constants import CK_CONSTANT, MAX_SKIP, MAX_SKIPPED_KEYS, MK_CONSTANT
from .errors import RatchetError
from .kdf import hmac_sha256


def message_key(ck: bytes) -> bytes:
    """MK = HMAC(CK, 0x01)."""
    return hmac_sha256(ck, MK_CONSTANT)


def next_chain_key(ck: bytes) -> bytes:
    """CK' = HMAC(CK, 0x02)."""
    return hmac_sha256(ck, CK_CONSTANT)


class SendingChain:
    """Our own chain for one epoch: hands out each message key once."""

    def __init__(self, epoch: int, chain_key: bytes, index: int = 0) -> None:
        """Start a chain at (epoch, index) with chain key CK_index."""
        self.epoch = epoch
        self.index = index
        self._ck = chain_key

    @property
    def chain_key(self) -> bytes:
        """CK_index, the key that yields the next message key (what we share with peers)."""
        return self._ck

    def next_key(self) -> tuple[int, bytes]:
        """The next (index, MK) pair; the old chain key is forgotten at once."""
        index, mk = self.index, message_key(self._ck)
        self._ck = next_chain_key(self._ck)
        self.index += 1
        return index, mk

    def wipe(self) -> None:
        """Forget the chain key."""
        self._ck = b""


class ReceivingChain:
    """A peer's chain for one epoch, as far as we have read it, with skipped keys."""

    def __init__(self, epoch: int, index: int, chain_key: bytes) -> None:
        """Start at the (epoch, index, CK_index) the peer sent us."""
        self.epoch = epoch
        self.first_index = index
        self.next_index = index
        self._ck = chain_key
        self._skipped: OrderedDict[int, bytes] = OrderedDict()

    @property
    def skipped_count(self) -> int:
        """How many skipped message keys are held."""
        return len(self._skipped)

    def skipped_indices(self) -> list[int]:
        """The sorted indices whose skipped keys are held."""
        return sorted(self._skipped)

    def message_key(self, index: int) -> bytes:
        """The message key for index, without changing any state."""
        if index < self.next_index:
            mk = self._skipped.get(index)
            if mk is None:
                raise RatchetError("message key already used or never held")
            return mk
        if index - self.next_index > MAX_SKIP:
            raise RatchetError("message index too far ahead")
        ck = self._ck
        for _ in range(index - self.next_index):
            ck = next_chain_key(ck)
        return message_key(ck)

    def consume(self, index: int) -> None:
        """Forget the key of index (after its message verified), keeping the skipped ones."""
        if index < self.next_index:
            self._skipped.pop(index, None)
            return
        if index - self.next_index > MAX_SKIP:
            raise RatchetError("message index too far ahead")
        while self.next_index < index:
            self._skipped[self.next_index] = message_key(self._ck)
            self._ck = next_chain_key(self._ck)
            self.next_index += 1
        self._ck = next_chain_key(self._ck)
        self.next_index += 1
        while len(self._skipped) > MAX_SKIPPED_KEYS:
            self._skipped.popitem(last=False)

    def wipe(self) -> None:
        """Forget every key of this chain."""
        self._ck = b""
        self._skipped.clear()
