/**
 * Room names: normalisation and the room id that is all the server sees (section 3).
 * @module core/roomid
 */

import { LABEL, SIZE, WHITE_SPACE_RUN } from "./constants.js";
import { b64encode, joinZero } from "./encoding.js";
import { UsageError } from "./errors.js";
import { sha256 } from "./webcrypto.js";

/**
 * Normalise a room name: White_Space runs to one space, trim, NFKC, lowercase, NFKC.
 * @param {string} name
 * @returns {string}
 * @throws {UsageError} when nothing is left
 */
export function normRoomName(name) {
  if (typeof name !== "string") throw new UsageError("The room name must be text.");
  const spaced = name.replace(WHITE_SPACE_RUN, " ").replace(/^ /, "").replace(/ $/, "");
  const out = spaced.normalize("NFKC").toLowerCase().normalize("NFKC");
  if (out === "") throw new UsageError("The room name is empty.");
  return out;
}

/**
 * The room id: b64(SHA-256("sotto/1 room" || 0x00 || norm(name))[0:16]), 22 characters.
 * @param {string} name
 * @returns {Promise<string>}
 */
export async function roomIdFor(name) {
  const digest = await sha256(joinZero(LABEL.ROOM, normRoomName(name)));
  return b64encode(digest.subarray(0, SIZE.ROOM_ID_HASH));
}

/**
 * True when `text` has the shape of a room id (22 base64url characters).
 * @param {unknown} text
 * @returns {boolean}
 */
export function isRoomId(text) {
  return typeof text === "string" && /^[A-Za-z0-9_-]{22}$/.test(text);
}
