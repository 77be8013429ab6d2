/**
 * The WebSocket to the relay: JSON text frames in and out, an app-level ping every
 * 20 s (browsers cannot send WebSocket pings), and reconnection after a drop so
 * the session can resume. It knows nothing of the protocol's meaning.
 * @module ui/connection
 */

import { FRAME } from "../core/constants.js";

export const PING_INTERVAL_MS = 20000;
/** No frame at all for this long means the socket is dead, even if it looks open. */
export const SILENCE_LIMIT_MS = 50000;
/** Waits before each reconnect attempt; the last repeats until the person leaves. */
const RETRY_DELAYS_MS = [250, 500, 1000, 2000, 3000, 5000];

/** Close codes after which reconnecting would not help (docs/protocol.md 4, 4.1). */
export const FINAL_CLOSE = Object.freeze({ ROOM_FULL: 4003, REPLACED: 4009, RATE_LIMITED: 4029 });

/**
 * The WebSocket URL of a room on the server that served this page.
 * @param {Location} location
 * @param {string} roomId
 * @returns {string}
 */
export function roomUrl(location, roomId) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/ws/rooms/${roomId}/`;
}

/**
 * @typedef {object} ConnectionHandlers
 * @property {(reconnect: boolean) => void} onOpen        socket ready; send the join
 * @property {(frame: unknown) => void} onFrame            one parsed frame (undefined if not JSON)
 * @property {(code: number, retrying: boolean) => void} onClose
 */

export class Connection {
  /**
   * @param {string} url
   * @param {ConnectionHandlers} handlers
   */
  constructor(url, handlers) {
    this.url = url;
    this.handlers = handlers;
    /** @type {WebSocket | null} */
    this.socket = null;
    this.closed = false;
    this.attempt = 0;
    this.opened = false;
    this.lastHeard = 0;
    this.timer = 0;
    this.retryTimer = 0;
    /** Frames written while the socket was down, sent after the next join. */
    this.outbox = [];
  }

  /** Open the socket (again). */
  connect() {
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.addEventListener("open", () => {
      if (socket !== this.socket) return;
      const reconnect = this.opened;
      this.opened = true;
      this.attempt = 0;
      this.lastHeard = Date.now();
      this.startPings();
      this.handlers.onOpen(reconnect);
    });
    socket.addEventListener("message", (event) => {
      if (socket !== this.socket) return;
      this.lastHeard = Date.now();
      let frame;
      try {
        frame = typeof event.data === "string" ? JSON.parse(event.data) : undefined;
      } catch {
        frame = undefined;
      }
      this.handlers.onFrame(frame);
    });
    socket.addEventListener("close", (event) => {
      if (socket !== this.socket) return;
      this.stopPings();
      // Only a socket that was once open is worth retrying: one that never opened
      // (a wrong address, a refused upgrade) gets a few tries, then the person is told.
      const final = this.closed || Object.values(FINAL_CLOSE).includes(event.code)
        || (!this.opened && this.attempt >= 3);
      this.handlers.onClose(event.code, !final);
      if (!final) {
        const base = RETRY_DELAYS_MS[Math.min(this.attempt, RETRY_DELAYS_MS.length - 1)];
        // Jitter, so that everyone cut by one blip does not come back at the same instant.
        const delay = base * (0.75 + Math.random() / 2);
        this.retryTimer = window.setTimeout(() => this.connect(), delay);
        this.attempt += 1;
      }
    });
  }

  /**
   * Send one frame now, or keep it (not pings or joins) for after the next join.
   * @param {object} frame
   * @returns {boolean} whether it went out
   */
  send(frame) {
    if (this.socket?.readyState !== WebSocket.OPEN) {
      // Keep what the person wrote (and handshake steps) for after the resume; a
      // ping or a join is only worth sending on the socket it was made for.
      if (frame.type !== FRAME.PING && frame.type !== FRAME.JOIN) this.outbox.push(frame);
      return false;
    }
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /** Send, in order, the frames kept while the socket was down (call it after the join). */
  flush() {
    const kept = this.outbox.splice(0);
    for (const frame of kept) this.send(frame);
  }

  /** True when frames can go out now. */
  get isOpen() {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  startPings() {
    this.stopPings();
    this.timer = window.setInterval(() => {
      if (Date.now() - this.lastHeard > SILENCE_LIMIT_MS) {
        // Dead but not closed: drop it and let the close handler reconnect (resume).
        this.socket?.close();
        return;
      }
      this.send({ type: FRAME.PING });
    }, PING_INTERVAL_MS);
  }

  stopPings() {
    window.clearInterval(this.timer);
  }

  /** Leave for good: a close frame tells the server this is a leave, not a drop. */
  close() {
    this.closed = true;
    this.stopPings();
    window.clearTimeout(this.retryTimer);
    this.socket?.close(1000, "leave");
  }
}
