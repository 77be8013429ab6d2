/**
 * What a person reads for gaps, rejected frames, server errors and closes: every
 * such sentence of the page in one place.
 * @module ui/wording
 */

import { GAP, REJECT } from "../core/constants.js";

/** Why messages are missing, as the end of "Messages 3 to 5 ..." (plural form). */
const GAP_REASONS = {
  [GAP.MISSING]: "never arrived",
  [GAP.RESUME_FAILED]: "were sent while you were disconnected",
  [GAP.KEY_MISSING]: "came without the key to read them",
  [GAP.SENDER_LEFT]: "came from somebody who left before you could read them",
  [GAP.SENDER_UNVERIFIED]: "came from somebody who never proved the password",
  [GAP.OLD_EPOCH]: "used keys that were already deleted",
  [GAP.HELD_OVERFLOW]: "came faster than their keys and were dropped",
};

/**
 * "Messages 12 to 14 never arrived."
 * @param {{firstSeq: number, lastSeq: number, reason: string}} e
 * @returns {string}
 */
export function describeGap(e) {
  const plural = GAP_REASONS[e.reason] ?? "are missing";
  if (e.firstSeq === e.lastSeq) {
    const singular = plural.replace(/^were /, "was ").replace(/^are /, "is ");
    return `Message ${e.firstSeq} ${singular.replace(/\bthem\b/, "it")}: you will not see it.`;
  }
  return `Messages ${e.firstSeq} to ${e.lastSeq} ${plural}: you will not see them.`;
}

const REJECTED_REASONS = {
  [REJECT.BAD_SIGNATURE]: "its signature did not match",
  [REJECT.BAD_CIPHERTEXT]: "it could not be decrypted",
  [REJECT.REPLAYED]: "it was a replay of an earlier message",
  [REJECT.UNKNOWN_SENDER]: "its sender is not in the room",
  [REJECT.UNVERIFIED_SENDER]: "its sender has not proved the password",
  [REJECT.TOO_FAR_AHEAD]: "it skipped too far ahead",
  [REJECT.TOO_MANY_HELD]: "too many were waiting for their keys",
  [REJECT.BAD_KEY]: "it carried a bad key",
};

/**
 * "A message from Teal was dropped: its signature did not match."
 * @param {{reason: string}} e
 * @param {string | null} name
 * @returns {string}
 */
export function describeRejected(e, name) {
  const why = REJECTED_REASONS[e.reason] ?? "it was malformed";
  return `${name ? `A message from ${name}` : "A message"} was dropped: ${why}.`;
}

const SERVER_ERRORS = {
  rate_limited: "You are sending too fast; the server dropped a message. Slow down a little.",
  room_full: "This room is full.",
  frame_too_large: "That was too large for the server.",
  unavailable: "The server cannot reach its room store right now; try again shortly.",
};

/**
 * The sentence for an `error` frame from the server.
 * @param {{code: string, message: string}} e
 * @returns {string}
 */
export function describeServerError(e) {
  return SERVER_ERRORS[e.code] ?? `The server said: ${e.message}`;
}

/**
 * Why the connection ended for good.
 * @param {number} code WebSocket close code
 * @returns {string}
 */
export function describeClose(code) {
  switch (code) {
    case 4003:
      return "This room is full. Try again when somebody leaves.";
    case 4009:
      return "This room was opened again from another connection, which took over. This tab has stopped.";
    case 4029:
      return "The server closed the connection because too many frames came too fast.";
    case 1008:
      return "The server refused this connection.";
    default:
      return "The connection to the server was lost and could not be restored. Leave and join again.";
  }
}
