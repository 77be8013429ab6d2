/**
 * The entrance: "Room" and "Password" fields, the strength hint, and the Join
 * button. The room name may come from the link's fragment; the password only when
 * the link's author chose to include it, and it is then taken out of the address bar.
 * @module ui/entrance
 */

import { normRoomName } from "../core/roomid.js";
import { byId, setText } from "./dom.js";
import { buildFragment, readFragment } from "./fragment.js";
import { assess } from "./strength.js";

export class Entrance {
  /**
   * @param {(room: string, password: string) => void} onJoin
   * @param {(room: string, password: string) => void} onChange the fields were edited
   */
  constructor(onJoin, onChange) {
    this.onJoin = onJoin;
    this.onChange = onChange;
    this.section = byId("entrance");
    this.form = /** @type {HTMLFormElement} */ (byId("join-form"));
    this.room = /** @type {HTMLInputElement} */ (byId("room-name"));
    this.password = /** @type {HTMLInputElement} */ (byId("room-password"));
    this.show = byId("show-password");
    this.strength = byId("password-strength");
    this.button = /** @type {HTMLButtonElement} */ (byId("join-button"));
    this.status = byId("join-status");
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.password.addEventListener("input", () => this.rate());
    for (const field of [this.room, this.password]) {
      field.addEventListener("input", () => this.onChange(this.room.value, this.password.value));
    }
    this.show.addEventListener("click", () => this.toggleShow());
    window.addEventListener("hashchange", () => this.readLink());
    this.readLink();
  }

  /** Fill the fields from `#room=...&password=...`, then drop the password from the URL. */
  readLink() {
    const { room, password } = readFragment(window.location.hash);
    if (room) this.room.value = room;
    if (password) {
      this.password.value = password;
      this.rate();
      this.say("The room and its password came with the link. Press Join.");
      history.replaceState(null, "", buildFragment(room, "", false));
    }
    if (room || password) this.onChange(this.room.value, this.password.value);
  }

  /** Update the strength hint. */
  rate() {
    const { level, text } = assess(this.password.value);
    this.strength.dataset.level = level;
    setText(this.strength, text);
  }

  toggleShow() {
    const showing = this.password.type === "text";
    this.password.type = showing ? "password" : "text";
    this.show.setAttribute("aria-pressed", String(!showing));
    setText(this.show, showing ? "Show" : "Hide");
  }

  /**
   * Put a sentence under the Join button.
   * @param {string} text
   * @param {"info" | "bad"} [tone]
   */
  say(text, tone = "info") {
    setText(this.status, text);
    this.status.dataset.tone = tone;
  }

  submit() {
    const room = this.room.value;
    const password = this.password.value;
    try {
      normRoomName(room);
    } catch {
      this.say("Please type a room name.", "bad");
      this.room.focus();
      return;
    }
    if (password === "") {
      this.say("Please type the room's password.", "bad");
      this.password.focus();
      return;
    }
    performance.clearMarks();
    performance.mark("sotto:join");
    this.say("");
    // The password leaves the page's fields as soon as it is used.
    this.password.value = "";
    this.rate();
    this.onJoin(room, password);
  }

  /**
   * Allow or forbid joining (the browser check may forbid it for good).
   * @param {boolean} enabled
   */
  setEnabled(enabled) {
    this.button.disabled = !enabled;
    this.room.disabled = !enabled;
    this.password.disabled = !enabled;
  }

  /**
   * Show the entrance again, with an optional sentence.
   * @param {object} [options]
   * @param {string} [options.message]
   * @param {"info" | "bad"} [options.tone]
   */
  open({ message = "", tone = "info" } = {}) {
    this.section.hidden = false;
    this.say(message, tone);
    (this.room.value ? this.password : this.room).focus();
  }

  hide() {
    this.section.hidden = true;
  }
}
