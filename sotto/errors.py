"""Exceptions of the Sotto client.

Hierarchy::

    SottoError                   anything this package raises on purpose
     +-- ProtocolError           a peer or the server broke the protocol (remote fault)
     |    +-- EncodingError      a b64 field, a JSON body or a length is malformed
     |    +-- InvalidShare       a SPAKE2 share (or the shared point K) is refused
     |    +-- AuthenticationError  a tag, confirmation or signature does not verify
     |    +-- RatchetError       a message index too far ahead, too old or already used
     +-- UsageError              this program misused the API (local fault)
     +-- WrongPasswordError      a peer's confirmation failed: the passwords differ
     +-- TimedOut                nothing arrived in time, or no peer was verified
     +-- RefusedByServer         the server answered with an error and closed

Messages never contain a message body, password, room name or key.
"""

from __future__ import annotations


class SottoError(Exception):
    """Something went wrong in Sotto."""


class ProtocolError(SottoError):
    """A peer or the server sent something the protocol forbids."""


class EncodingError(ProtocolError):
    """A field is not well formed (bad base64url, bad JSON, bad length)."""


class InvalidShare(ProtocolError):
    """A SPAKE2 share is not a valid P-256 point, or the shared point is the identity."""


class AuthenticationError(ProtocolError):
    """A tag, a key confirmation or a signature did not verify."""


class RatchetError(ProtocolError):
    """A message key cannot be produced: too far ahead, already used, or deleted."""


class UsageError(SottoError):
    """The program used the API the wrong way."""


class WrongPasswordError(SottoError):
    """The other side proved a different password: check the room password with them."""


class TimedOut(SottoError):
    """Nothing arrived in time, or no peer proved the password before the deadline."""


class RefusedByServer(SottoError):
    """The server refused us (room full, rate limit, bad frame)."""
