/**
 * The room's header: its name, the status line, and the alert for serious news
 * (a wrong password, a lost connection).
 * @module ui/status
 */

import { byId, setText } from "./dom.js";

export class RoomStatus {
  /** @param {() => void} onRetry called by the alert's "Try another password" button */
  constructor(onRetry) {
    this.title = byId("room-title");
    this.line = byId("room-status");
    this.box = byId("room-alert");
    this.boxTitle = byId("room-alert-title");
    this.boxText = byId("room-alert-text");
    this.boxAction = byId("room-alert-action");
    this.boxAction.addEventListener("click", onRetry);
  }

  /**
   * Show the room's name (only ever on this screen; the server sees its hash).
   * @param {string} name
   */
  setRoom(name) {
    setText(this.title, name);
    document.title = `${name} \u00b7 Sotto`;
  }

  /**
   * Set the status line.
   * @param {string} text
   * @param {"ok" | "warn" | "bad"} tone
   */
  set(text, tone) {
    if (this.line.textContent !== text) setText(this.line, text);
    this.line.dataset.tone = tone;
  }

  /**
   * Show the alert; the retry button appears for password trouble only.
   * @param {string} title
   * @param {string} text
   * @param {boolean} [offerRetry]
   */
  alert(title, text, offerRetry = false) {
    setText(this.boxTitle, title);
    setText(this.boxText, text);
    this.boxAction.hidden = !offerRetry;
    this.box.hidden = false;
  }

  /** Hide the alert and reset the header. */
  clear() {
    this.box.hidden = true;
    setText(this.title, "");
    setText(this.line, "");
    document.title = "Sotto: private rooms without accounts";
  }
}
