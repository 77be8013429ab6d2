"""AES-256-GCM with a 12-byte nonce; output is ciphertext || 16-byte tag (WebCrypto layout)."""

from __future__ import annotations

from Crypto.Cipher import AES

from .constants import NONCE_LENGTH, TAG_LENGTH
from .errors import AuthenticationError, EncodingError


def seal(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt and authenticate plaintext with aad."""
    if len(nonce) != NONCE_LENGTH:
        raise ValueError("an AES-GCM nonce is 12 bytes")
    cipher = AES.new(key, AES.MODE_GCM, nonce=nonce, mac_len=TAG_LENGTH)
    cipher.update(aad)
    ct, tag = cipher.encrypt_and_digest(plaintext)
    return ct + tag


def open_(key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
    """Decrypt sealed, raising AuthenticationError if the tag does not verify."""
    if len(nonce) != NONCE_LENGTH or len(sealed) < TAG_LENGTH:
        raise EncodingError("bad nonce or ciphertext length")
    cipher = AES.new(key, AES.MODE_GCM, nonce=nonce, mac_len=TAG_LENGTH)
    cipher.update(aad)
    try:
        return cipher.decrypt_and_verify(sealed[:-TAG_LENGTH], sealed[-TAG_LENGTH:])
    except ValueError:
        raise AuthenticationError("ciphertext does not verify") from None
