/**
 * The invite panel: a link to this room, with the password in it only when the
 * person ticks "include the password in the link" (and sees the warning).
 * @module ui/invite
 */

import { byId, setText } from "./dom.js";
import { invitationLink } from "./fragment.js";

export class InvitePanel {
  constructor() {
    this.link = byId("invite-link");
    this.checkbox = /** @type {HTMLInputElement} */ (byId("include-password"));
    this.warning = byId("include-password-warning");
    this.copyButton = byId("copy-link");
    this.copyStatus = byId("copy-status");
    this.room = "";
    this.password = "";
    this.checkbox.addEventListener("change", () => this.render());
    this.copyButton.addEventListener("click", () => void this.copy());
  }

  /**
   * Show the panel for a room; the password is kept only to build the link.
   * @param {string} room
   * @param {string} password
   */
  open(room, password) {
    this.room = room;
    this.password = password;
    this.checkbox.checked = false;
    this.render();
  }

  /** The link as it stands. */
  current() {
    return invitationLink(window.location, this.room, this.password, this.checkbox.checked);
  }

  /** Redraw the link and the warning. */
  render() {
    this.warning.hidden = !this.checkbox.checked;
    setText(this.link, this.room ? this.current() : "");
    setText(this.copyStatus, "");
  }

  /** Copy the link to the clipboard, or select it for copying by hand. */
  async copy() {
    try {
      await navigator.clipboard.writeText(this.current());
      setText(this.copyStatus, this.checkbox.checked ? "Copied, with the password." : "Copied.");
    } catch {
      const range = document.createRange();
      range.selectNodeContents(this.link);
      window.getSelection()?.removeAllRanges();
      window.getSelection()?.addRange(range);
      setText(this.copyStatus, "Selected: copy it with Ctrl+C.");
    }
  }

  /** Forget the room and the password (leaving the room). */
  clear() {
    this.room = "";
    this.password = "";
    this.checkbox.checked = false;
    this.render();
  }
}
