/**
 * The invitation link: the room name (and, only when asked, the password) in the
 * URL fragment, which browsers never send to the server.
 * @module ui/fragment
 */

/**
 * @typedef {object} Invitation
 * @property {string} room
 * @property {string} password  empty unless the link carried one
 */

/**
 * Read `#room=...&password=...` (either may be missing).
 * @param {string} hash location.hash, with or without the leading "#"
 * @returns {Invitation}
 */
export function readFragment(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  return { room: params.get("room") ?? "", password: params.get("password") ?? "" };
}

/**
 * The fragment for an invitation; the password only when `withPassword` is true.
 * @param {string} room
 * @param {string} password
 * @param {boolean} withPassword
 * @returns {string} starting with "#"
 */
export function buildFragment(room, password, withPassword) {
  const params = new URLSearchParams({ room });
  if (withPassword && password) params.set("password", password);
  // URLSearchParams writes spaces as "+"; %20 survives every chat app's link detection.
  return `#${params.toString().replace(/\+/g, "%20")}`;
}

/**
 * The full invitation link for this page.
 * @param {Location} location
 * @param {string} room
 * @param {string} password
 * @param {boolean} withPassword
 * @returns {string}
 */
export function invitationLink(location, room, password, withPassword) {
  return `${location.origin}/${buildFragment(room, password, withPassword)}`;
}
