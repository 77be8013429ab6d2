/**
 * The conversation log: message rows and notices in a role="log" live region.
 * Every piece of text goes in with textContent.
 * @module ui/messages
 */

import { byId, clockTime, fromTemplate, part, setMemberColor, setText } from "./dom.js";

/** Rows kept in the page; older ones are dropped so a long session stays light. */
const MAX_ROWS = 2000;

/** Own messages not echoed by the server within this time are shown as not delivered. */
const PENDING_LIMIT_MS = 30000;

const OWN_MARK = {
  pending: { text: "sending\u2026", title: "Encrypted and on its way to the server" },
  sent: { text: "\u2713 sent", title: "The server relayed it to the room" },
  failed: { text: "\u2717 not delivered", title: "The server never confirmed it: send it again" },
};

/** @typedef {"info" | "warn" | "bad"} Tone */

export class MessageLog {
  constructor() {
    this.log = byId("messages");
    this.empty = byId("messages-empty");
    /** @type {HTMLElement[]} own messages not yet echoed by the server, oldest first */
    this.pending = [];
  }

  /** True when the reader is at (or near) the bottom, so new rows should scroll in. */
  atBottom() {
    const { scrollTop, scrollHeight, clientHeight } = this.log;
    return scrollHeight - scrollTop - clientHeight < 80;
  }

  /**
   * Append a row, keep the log bounded, and follow it if the reader was at the bottom.
   * @param {HTMLElement} row
   */
  append(row) {
    const follow = this.atBottom();
    // Notices alone keep "Write something!" up; the first message replaces it.
    if (row.classList.contains("msg")) this.empty.hidden = true;
    this.log.append(row);
    while (this.log.childElementCount > MAX_ROWS + 1) {
      const first = this.log.firstElementChild === this.empty
        ? this.empty.nextElementSibling : this.log.firstElementChild;
      first?.remove();
    }
    if (follow) this.log.scrollTop = this.log.scrollHeight;
  }

  /**
   * Show a message.
   * @param {object} m
   * @param {string} m.name      sender's display name
   * @param {string} m.color     sender's colour
   * @param {string} m.text      the message, exactly as sent
   * @param {number} m.ts        sender's timestamp, unix ms
   * @param {boolean} m.own      written here
   * @param {boolean} [m.pending] own message not yet acknowledged by the server
   * @returns {HTMLElement} the row
   */
  addMessage({ name, color, text, ts, own, pending = false }) {
    const row = fromTemplate("message-template");
    if (own) row.classList.add("own");
    setMemberColor(row, color);
    setText(part(row, ".msg-sender"), name);
    const time = /** @type {HTMLTimeElement} */ (part(row, ".msg-time"));
    const when = Number.isFinite(ts) ? ts : Date.now();
    time.dateTime = new Date(when).toISOString();
    setText(time, clockTime(when));
    const mark = part(row, ".msg-mark");
    if (own) {
      this.setOwnState(row, pending ? "pending" : "sent");
      row.dataset.sentAt = String(Date.now());
      if (pending) this.pending.push(row);
    } else {
      mark.dataset.state = "verified";
      mark.title = "Signed by a member who proved the room password";
      setText(mark, "\u2713 verified");
    }
    setText(part(row, ".msg-text"), text);
    this.append(row);
    return row;
  }

  /**
   * Mark an own row as waiting for the server, delivered, or lost.
   * @param {HTMLElement} row
   * @param {"pending" | "sent" | "failed"} state
   */
  setOwnState(row, state) {
    const mark = part(row, ".msg-mark");
    mark.dataset.state = state;
    setText(mark, OWN_MARK[state].text);
    mark.title = OWN_MARK[state].title;
  }

  /**
   * The server echoed one of ours: mark the oldest pending row with this text as sent.
   * @param {string} text
   * @returns {boolean} false when no pending row matched (then the caller shows it)
   */
  acknowledge(text) {
    const index = this.pending.findIndex((row) => part(row, ".msg-text").textContent === text);
    if (index < 0) return false;
    const [row] = this.pending.splice(index, 1);
    this.setOwnState(row, "sent");
    return true;
  }

  /**
   * Own rows still unacknowledged after PENDING_LIMIT_MS are marked as not delivered.
   * @param {number} now unix ms
   */
  expirePending(now) {
    while (this.pending.length > 0 && now - Number(this.pending[0].dataset.sentAt) > PENDING_LIMIT_MS) {
      this.setOwnState(/** @type {HTMLElement} */ (this.pending.shift()), "failed");
    }
  }

  /** Every unacknowledged own row is lost (our membership was replaced). */
  failPending() {
    for (const row of this.pending) this.setOwnState(row, "failed");
    this.pending = [];
  }

  /**
   * Show a notice (a join, a leave, a failure, a gap...).
   * @param {string} text
   * @param {Tone} [tone]
   */
  addNotice(text, tone = "info") {
    const row = fromTemplate("notice-template");
    row.dataset.tone = tone;
    setText(row, text);
    this.append(row);
  }

  /** Forget every row (leaving the room wipes the conversation). */
  clear() {
    this.log.replaceChildren(this.empty);
    this.empty.hidden = false;
    this.pending = [];
  }
}
