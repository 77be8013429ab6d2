"""Ed25519 (pure, RFC 8032) signing keys: generate from a 32-byte seed, sign, verify."""

from __future__ import annotations

from Crypto.PublicKey import ECC
from Crypto.Signature import eddsa

from .constants import ED25519_KEY_LENGTH, ED25519_SIG_LENGTH
from .errors import AuthenticationError, EncodingError


class SigningKey:
    """An Ed25519 private key made from a 32-byte seed."""

    def __init__(self, seed: bytes) -> None:
        """Build the key pair from a seed (32 random bytes)."""
        if len(seed) != ED25519_KEY_LENGTH:
            raise ValueError("an Ed25519 seed is 32 bytes")
        self._key: ECC.EccKey | None = eddsa.import_private_key(seed)
        self.public_key: bytes = self._key.public_key().export_key(format="raw")

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of message."""
        if self._key is None:
            raise ValueError("the signing key was wiped")
        return eddsa.new(self._key, "rfc8032").sign(message)

    def wipe(self) -> None:
        """Drop the private key."""
        self._key = None


def check_public_key(public_key: bytes) -> ECC.EccKey:
    """Parse a raw 32-byte Ed25519 public key, refusing anything that is not a valid point."""
    if len(public_key) != ED25519_KEY_LENGTH:
        raise EncodingError("an Ed25519 public key is 32 bytes")
    try:
        return eddsa.import_public_key(public_key)
    except ValueError:
        raise EncodingError("not an Ed25519 public key") from None


def verify(public_key: bytes, message: bytes, signature: bytes) -> None:
    """Raise AuthenticationError unless signature is a valid Ed25519 signature of message."""
    if len(signature) != ED25519_SIG_LENGTH:
        raise AuthenticationError("bad signature length")
    key = check_public_key(public_key)
    try:
        eddsa.new(key, "rfc8032").verify(message, signature)
    except ValueError:
        raise AuthenticationError("signature does not verify") from None
