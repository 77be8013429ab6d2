"""Every wire string, label and limit of the `sotto/1` protocol, in one place."""

from __future__ import annotations

PROTOCOL_VERSION = 1

# Byte-string labels (docs/protocol.md sections 3, 5, 6, 7).
LABEL_ROOM = b"sotto/1 room"
LABEL_SPAKE2_SALT = b"sotto/1 spake2"
LABEL_IDENTITY = b"sotto/1"
LABEL_PAIR = b"sotto/1 pair"
LABEL_DIRECT = b"sotto/1 direct"
LABEL_MSG = b"sotto/1 msg"
LABEL_FINGERPRINT = b"sotto/1 fingerprint"
LABEL_CONFIRMATION = b"ConfirmationKeys"
SEP = b"\x00"

# Key derivation parameters.
PBKDF2_ITERATIONS = 100_000
PBKDF2_LENGTH = 40
SCALAR_DRAW_LENGTH = 40
ROOM_ID_HASH_BYTES = 16
ROOM_ID_LENGTH = 22
MEMBER_ID_LENGTH = 22
PAIR_KEY_LENGTH = 32
CHAIN_KEY_LENGTH = 32
NONCE_LENGTH = 12
TAG_LENGTH = 16
ED25519_KEY_LENGTH = 32
ED25519_SIG_LENGTH = 64
POINT_LENGTH = 65
FINGERPRINT_BYTES = 10

# Ratchet constants (section 6).
MK_CONSTANT = b"\x01"
CK_CONSTANT = b"\x02"
MAX_SKIP = 2000
MAX_SKIPPED_KEYS = 2000

# Padding (section 6).
PAD_BLOCK = 64
PAD_MARKER = 0x80

# Limits.
MAX_TEXT_BYTES = 16_384
HANDSHAKE_TIMEOUT = 10.0
MAX_FAILURES_PER_MINUTE = 5
FAILURE_WINDOW = 60.0
OLD_EPOCH_KEEP = 10.0
HELD_BROADCAST_SECONDS = 30.0
HELD_BROADCASTS_PER_SENDER = 256
HELD_DIRECTS_PER_SENDER = 8
HELD_DIRECT_SENDERS = 64
# JSON from a peer nested deeper than this is malformed (section 2.1); protocol objects are
# 1 deep.
MAX_JSON_DEPTH = 8
# Integer bounds of peer JSON (section 2.1): u32 fields, and a `ts` as JavaScript holds it exactly.
U32_MAX = 0xFFFFFFFF
MAX_SAFE_INTEGER = 2**53 - 1

# Client -> server frame types.
T_JOIN = "join"
T_PING = "ping"
T_DIRECT = "direct"
T_BROADCAST = "broadcast"
# Server -> client frame types.
T_WELCOME = "welcome"
T_PRESENCE = "presence"
T_MESSAGE = "message"
T_ERROR = "error"
T_PONG = "pong"

# Direct body kinds (section 5).
K_PAKE1 = "pake1"
K_PAKE2 = "pake2"
K_PAKE3 = "pake3"
K_PAKE_FAIL = "pake_fail"
K_SEALED = "sealed"
K_SENDER_KEY = "sender_key"

# Plaintext kinds (section 6).
P_TEXT = "text"

# PeerFailed reasons.
REASON_WRONG_PASSWORD = "wrong_password"
REASON_INVALID_SHARE = "invalid_share"
