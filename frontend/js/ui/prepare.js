/**
 * Do the slow part of joining while the person pauses after typing: stretching the
 * password (PBKDF2, 100 000 iterations) and making the signing key. Pressing Join then
 * only has to talk to the server. Nothing leaves the page before Join, and a session
 * prepared for values that then change is wiped at once.
 * @module ui/prepare
 */

import { normRoomName } from "../core/roomid.js";
import { RoomSession } from "../core/session.js";

/** How long the fields must rest before preparing (a person is done typing). */
export const PAUSE_MS = 300;

export class SessionPreparer {
  /** @param {HTMLElement} marker gets data-prepared="1" while a prepared session is ready */
  constructor(marker) {
    this.marker = marker;
    this.timer = 0;
    /** @type {{room: string, password: string, session: Promise<RoomSession>} | null} */
    this.prepared = null;
  }

  /**
   * The fields changed: forget what was prepared, and prepare again after a pause.
   * @param {string} room
   * @param {string} password
   */
  changed(room, password) {
    this.discard();
    if (!password || !isRoomName(room)) return;
    this.timer = window.setTimeout(() => this.prepare(room, password), PAUSE_MS);
  }

  /**
   * @param {string} room
   * @param {string} password
   */
  prepare(room, password) {
    const session = RoomSession.create({ roomName: room, password });
    const prepared = { room, password, session };
    this.prepared = prepared;
    session.then(
      () => {
        if (this.prepared === prepared) this.marker.dataset.prepared = "1";
      },
      () => {
        if (this.prepared === prepared) this.prepared = null;
      },
    );
  }

  /**
   * The session for exactly these values: the prepared one (handed over, used once)
   * or a fresh one.
   * @param {string} room
   * @param {string} password
   * @returns {Promise<RoomSession>}
   */
  take(room, password) {
    window.clearTimeout(this.timer);
    const prepared = this.prepared;
    if (prepared && prepared.room === room && prepared.password === password) {
      this.prepared = null;
      delete this.marker.dataset.prepared;
      return prepared.session;
    }
    this.discard();
    return RoomSession.create({ roomName: room, password });
  }

  /** Wipe a prepared session that will not be used. */
  discard() {
    window.clearTimeout(this.timer);
    delete this.marker.dataset.prepared;
    const prepared = this.prepared;
    this.prepared = null;
    prepared?.session.then((session) => session.wipe(), () => {});
  }
}

/**
 * @param {string} room
 * @returns {boolean}
 */
function isRoomName(room) {
  try {
    normRoomName(room);
    return true;
  } catch {
    return false;
  }
}
