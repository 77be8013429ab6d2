/**
 * Every wire string, label and limit of the `sotto/1` protocol, once (docs/protocol.md).
 * @module core/constants
 */

/** Protocol version carried in `join` and `welcome`. */
export const VERSION = 1;

/** Byte-string labels (ASCII); each is followed by 0x00 where the spec says so. */
export const LABEL = Object.freeze({
  ROOM: "sotto/1 room",
  SPAKE2_SALT: "sotto/1 spake2",
  IDENTITY: "sotto/1",
  PAIR: "sotto/1 pair",
  DIRECT: "sotto/1 direct",
  MSG: "sotto/1 msg",
  FINGERPRINT: "sotto/1 fingerprint",
  CONFIRMATION: "ConfirmationKeys",
});

/** Frame types on the WebSocket (section 4). */
export const FRAME = Object.freeze({
  JOIN: "join",
  PING: "ping",
  PONG: "pong",
  DIRECT: "direct",
  BROADCAST: "broadcast",
  WELCOME: "welcome",
  PRESENCE: "presence",
  MESSAGE: "message",
  ERROR: "error",
});

/** `k` values inside a direct `body` (section 5). */
export const DIRECT_KIND = Object.freeze({
  PAKE1: "pake1",
  PAKE2: "pake2",
  PAKE3: "pake3",
  PAKE_FAIL: "pake_fail",
  SEALED: "sealed",
  SENDER_KEY: "sender_key",
});

/** `t` values of a broadcast plaintext (section 6). */
export const MSG_TYPE = Object.freeze({ TEXT: "text" });

/** Event kinds (CORE_API.md); identical strings in the Python core. */
export const EVENT = Object.freeze({
  JOINED: "joined",
  MEMBER_JOINED: "member_joined",
  MEMBER_LEFT: "member_left",
  PEER_VERIFIED: "peer_verified",
  PEER_FAILED: "peer_failed",
  PEER_NOT_ANSWERING: "peer_not_answering",
  MESSAGE_RECEIVED: "message_received",
  MESSAGE_SENT: "message_sent",
  GAP: "gap",
  KEYS_ROTATED: "keys_rotated",
  REJECTED: "rejected",
  SERVER_ERROR: "server_error",
  HANDSHAKE_REFUSED: "handshake_refused",
});

/** PeerFailed reasons. */
export const FAIL_REASON = Object.freeze({
  WRONG_PASSWORD: "wrong_password",
  INVALID_SHARE: "invalid_share",
});

/** Rejected reasons (the same strings as sotto/session.py). */
export const REJECT = Object.freeze({
  BAD_FRAME: "bad_frame",
  UNKNOWN_FRAME: "unknown_frame",
  BAD_MEMBER: "bad_member",
  BAD_KEY: "bad_key",
  UNKNOWN_SENDER: "unknown_sender",
  TOO_MANY_HELD: "too_many_held",
  MALFORMED: "malformed",
  UNVERIFIED_SENDER: "unverified_sender",
  BAD_DIRECT: "bad_direct",
  REPLAYED: "replayed",
  TOO_FAR_AHEAD: "too_far_ahead",
  BAD_SIGNATURE: "bad_signature",
  BAD_CIPHERTEXT: "bad_ciphertext",
});

/** Gap reasons (the same strings as sotto/session.py). */
export const GAP = Object.freeze({
  MISSING: "missing",
  RESUME_FAILED: "resume_failed",
  KEY_MISSING: "key_missing",
  SENDER_LEFT: "sender_left",
  SENDER_UNVERIFIED: "sender_unverified",
  OLD_EPOCH: "old_epoch",
  HELD_OVERFLOW: "held_overflow",
  BEFORE_KEY: "before_key",
});

/** Sizes in bytes. */
export const SIZE = Object.freeze({
  ROOM_ID_HASH: 16,
  ROOM_ID_CHARS: 22,
  MEMBER_ID_CHARS: 22,
  PUBLIC_KEY: 32,
  SIGNATURE: 64,
  SHARE: 65,
  SCALAR: 32,
  SCALAR_DRAW: 40,
  PBKDF2_OUT: 40,
  NONCE: 12,
  TAG: 16,
  AES_KEY: 32,
  CHAIN_KEY: 32,
  HALF_HASH: 16,
  MAC: 32,
  FINGERPRINT: 10,
  PAD_BLOCK: 64,
  MAX_TEXT: 16384,
});

/** Padding bytes of section 6. */
export const PAD = Object.freeze({ MARK: 0x80, FILL: 0x00 });

/** One-byte HMAC messages of the hash ratchet (section 6). */
export const RATCHET_BYTE = Object.freeze({ MESSAGE: 0x01, CHAIN: 0x02 });

/** PBKDF2 iteration count (section 2). */
export const PBKDF2_ITERATIONS = 100000;

/** Limits and timers; times in milliseconds (the JS clock is ms). */
export const LIMIT = Object.freeze({
  HANDSHAKE_TIMEOUT_MS: 10000,
  OLD_EPOCH_KEEP_MS: 10000,
  HELD_BROADCAST_MS: 30000,
  HELD_BROADCASTS_PER_SENDER: 256,
  HELD_DIRECTS_PER_SENDER: 8,
  HELD_DIRECT_SENDERS: 64,
  MAX_CHAIN_STEPS: 2000,
  MAX_SKIPPED_KEYS: 2000,
  FAILURES_PER_WINDOW: 5,
  FAILURE_WINDOW_MS: 60000,
  MAX_MISSING: 4096,
  // JSON from a peer nested deeper than this is malformed (section 2.1); protocol objects
  // are 1 deep.
  MAX_JSON_DEPTH: 8,
});

/** SPAKE2 constants M and N for P-256 (RFC 9382 section 6), SEC1 compressed hex. */
export const SPAKE2_M_HEX = "02886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f";
export const SPAKE2_N_HEX = "03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49";

/**
 * Unicode White_Space characters (section 3), as a regex matching one run of them.
 * Spelled out because JS `\s` differs (it has U+FEFF and lacks U+0085).
 */
export const WHITE_SPACE_RUN =
  /[\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/gu;
