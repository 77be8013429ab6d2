/**
 * One visit to a room: owns the RoomSession and the Connection, feeds frames to the
 * session one at a time, sends the frames it returns and hands its events to the screen.
 * @module ui/room
 */

import { roomIdFor } from "../core/roomid.js";
import { Connection, FINAL_CLOSE, roomUrl } from "./connection.js";
import { RoomScreen } from "./screen.js";
import { describeClose } from "./wording.js";

const TICK_MS = 1000;

export class RoomVisit {
  /**
   * @param {object} options
   * @param {string} options.roomName
   * @param {Promise<import("../core/session.js").RoomSession>} options.session being created (see ui/prepare.js)
   * @param {import("./screen.js").RoomViews} options.views
   * @param {(state: string) => void} options.onState  "joining" | "connected" | "ready" | "closed"
   */
  constructor({ roomName, session, views, onState }) {
    this.roomName = roomName;
    this.created = session;
    this.views = views;
    this.onState = onState;
    /** @type {import("../core/session.js").RoomSession | null} */
    this.session = null;
    /** @type {Connection | null} */
    this.connection = null;
    /** Session calls and their output, strictly in order. */
    this.queue = Promise.resolve();
    this.screen = new RoomScreen(views, onState);
    this.ticker = 0;
    this.left = false;
  }

  /** Derive the room id, and open the socket while the session is still being made. */
  async start() {
    this.onState("joining");
    this.views.status.set("Connecting\u2026", "warn");
    const roomId = await roomIdFor(this.roomName);
    const created = this.created;
    this.queue = created.then((session) => {
      performance.mark("sotto:session");
      this.session = session;
    });
    this.connection = new Connection(roomUrl(window.location, roomId), {
      onOpen: (reconnect) => this.run(() => this.sendJoin(reconnect)),
      onFrame: (frame) => this.run(() => this.session.receive(frame)),
      onClose: (code, retrying) => this.closed(code, retrying),
    });
    this.connection.connect();
    await created;
    this.ticker = window.setInterval(() => {
      this.run(() => this.session.tick());
      this.views.log.expirePending(Date.now());
    }, TICK_MS);
  }

  /**
   * Queue one call into the session and apply its output; errors become notices.
   * @param {() => Promise<unknown> | unknown} step
   * @returns {Promise<void>}
   */
  run(step) {
    const next = this.queue.then(async () => {
      if (this.left || !this.session) return;
      const output = await step();
      if (this.left) return;
      this.apply(output);
    });
    this.queue = next.catch((error) => {
      if (!this.left) this.views.log.addNotice(`That did not work: ${error.message}`, "bad");
    });
    return this.queue;
  }

  /**
   * Send the join (with resume fields once we have been welcomed).
   * @param {boolean} reconnect
   */
  sendJoin(reconnect) {
    if (reconnect) this.views.status.set("Reconnected, catching up\u2026", "warn");
    this.connection.send(this.session.joinFrame());
    this.connection.flush();
    return null;
  }

  /**
   * Send a message; resolves true once it is sealed and on its way.
   * @param {string} text
   * @returns {Promise<boolean>}
   */
  async sendText(text) {
    let sent = false;
    await this.run(async () => {
      if (!this.connection?.isOpen) {
        this.views.log.addNotice("Not connected right now: your message was not sent.", "warn");
        return null;
      }
      const output = await this.session.sendText(text);
      this.screen.sending(text);
      sent = true;
      return output;
    });
    return sent;
  }

  /**
   * Send the frames of a session output and show its events.
   * @param {unknown} output `{frames, events}` from the session, or null
   */
  apply(output) {
    if (!output) return;
    const { frames, events } = /** @type {{frames: object[], events: object[]}} */ (output);
    for (const frame of frames) this.connection?.send(frame);
    this.screen.showAll(events);
  }

  /**
   * The socket closed: explain, and either wait for the reconnect or stop.
   * @param {number} code
   * @param {boolean} retrying
   */
  closed(code, retrying) {
    if (this.left) return;
    const { status, composer } = this.views;
    this.screen.online = false;
    composer.setEnabled(false);
    if (retrying) {
      status.set("Connection lost \u00b7 reconnecting\u2026", "warn");
      return;
    }
    status.set("Disconnected", "bad");
    status.alert(code === FINAL_CLOSE.REPLACED ? "Opened elsewhere" : "Disconnected", describeClose(code));
    this.onState("closed");
  }

  /** Leave: close the socket (a leave, not a drop) and forget every key. */
  leave() {
    this.left = true;
    window.clearInterval(this.ticker);
    this.connection?.close();
    this.session?.wipe();
    this.session = null;
    this.connection = null;
  }
}

