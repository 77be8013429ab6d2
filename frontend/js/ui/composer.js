/**
 * The message box: Enter sends, Shift+Enter makes a new line, and a counter shows
 * how many bytes of UTF-8 are left against the protocol's limit.
 * @module ui/composer
 */

import { SIZE } from "../core/constants.js";
import { byId, groupDigits, setText } from "./dom.js";

const encoder = new TextEncoder();

/**
 * Bytes of UTF-8 left for a message of this text.
 * @param {string} text
 * @returns {number} negative when over the limit
 */
export function bytesLeft(text) {
  return SIZE.MAX_TEXT - encoder.encode(text).length;
}

/**
 * "16 384 bytes", "1 byte".
 * @param {number} n
 */
function bytes(n) {
  return `${groupDigits(n)} byte${n === 1 ? "" : "s"}`;
}

export class Composer {
  /**
   * @param {(text: string) => Promise<boolean>} onSend resolves true when the text was sent
   */
  constructor(onSend) {
    this.onSend = onSend;
    this.form = /** @type {HTMLFormElement} */ (byId("composer"));
    this.input = /** @type {HTMLTextAreaElement} */ (byId("message-input"));
    this.button = /** @type {HTMLButtonElement} */ (byId("send-button"));
    this.counter = byId("bytes-left");
    this.enabled = false;
    this.sending = false;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.submit();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        void this.submit();
      }
    });
    this.input.addEventListener("input", () => this.update());
    this.update();
  }

  /**
   * Allow or forbid writing.
   * @param {boolean} enabled
   */
  setEnabled(enabled) {
    this.enabled = enabled;
    this.input.disabled = !enabled;
    this.update();
  }

  /** Refresh the counter, the send button and the box's height. */
  update() {
    const left = bytesLeft(this.input.value);
    setText(this.counter, left >= 0 ? `${bytes(left)} left` : `${bytes(-left)} too long`);
    this.counter.dataset.tone = left < 0 ? "bad" : left < 1024 ? "warn" : "";
    this.input.setAttribute("aria-invalid", String(left < 0));
    this.button.disabled = !this.enabled || this.sending || left < 0 || this.input.value === "";
    // Grow with the text up to the CSS max-height; no inline style attribute involved.
    this.input.style.height = "auto";
    this.input.style.height = `${this.input.scrollHeight + 2}px`;
  }

  /** Send what is in the box, if it is sendable; keep it when sending fails. */
  async submit() {
    const text = this.input.value;
    if (!this.enabled || this.sending || text === "" || bytesLeft(text) < 0) return;
    if (text.trim() === "") return;
    this.sending = true;
    this.update();
    try {
      if (await this.onSend(text)) this.input.value = "";
    } finally {
      this.sending = false;
      this.update();
      this.input.focus();
    }
  }

  /** Empty the box (leaving the room). */
  clear() {
    this.input.value = "";
    this.setEnabled(false);
  }

  /** Put the cursor in the box. */
  focus() {
    this.input.focus();
  }
}
