"""Unguessable identifiers: member ids and resume tokens, and what the store keeps of a token."""

from __future__ import annotations

import base64
import hashlib
import secrets


def new_member_id() -> str:
    """Return an unguessable member id: 128 random bits as 22 base64url characters."""
    return secrets.token_urlsafe(16)


def new_resume_token() -> str:
    """Return a resume token: 192 random bits as base64url."""
    return secrets.token_urlsafe(24)


def token_hash(token: str) -> str:
    """Return what the store keeps of a resume token: its SHA-256, base64url."""
    digest = hashlib.sha256(token.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
