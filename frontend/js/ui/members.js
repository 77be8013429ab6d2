/**
 * The members list: colour, name, handshake state, fingerprint on demand, count.
 * @module ui/members
 */

import { byId, fromTemplate, groupDigits, part, setMemberColor, setText } from "./dom.js";
import { memberNames } from "./names.js";

/** @typedef {"you" | "checking" | "verified" | "failed" | "not_answering" | "refused"} MemberState */

/**
 * @typedef {object} Member
 * @property {string} id
 * @property {string} color
 * @property {MemberState} state
 * @property {string} [fingerprint]
 * @property {boolean} [showFingerprint]
 */

const STATE_TEXT = {
  you: "this browser",
  checking: "checking password\u2026",
  verified: "\u2713 verified",
  failed: "\u2717 wrong password",
  not_answering: "not answering",
  refused: "ignored for a minute",
};

const STATE_TITLE = {
  you: "This browser",
  checking: "Proving the password to each other (SPAKE2)",
  verified: "Proved the same password; messages from them are signed",
  failed: "Proved a different password: cannot read or send anything here",
  not_answering: "Did not finish proving the password; it will be retried",
  refused: "Too many wrong passwords in the last minute: not checked",
};

export class MemberList {
  /**
   * @param {(memberId: string) => Promise<string>} loadFingerprint
   */
  constructor(loadFingerprint) {
    this.loadFingerprint = loadFingerprint;
    this.list = byId("members");
    this.count = byId("member-count");
    this.empty = byId("members-empty");
    this.summary = byId("members-summary");
    /** @type {Map<string, Member>} in join order */
    this.members = new Map();
    /** @type {Map<string, string>} */
    this.names = new Map();
  }

  /**
   * Add or update a member, then redraw.
   * @param {string} id
   * @param {Partial<Member>} fields
   */
  upsert(id, fields) {
    const current = this.members.get(id) ?? { id, color: "", state: "checking" };
    this.members.set(id, { ...current, ...fields, id });
    this.render();
  }

  /**
   * Forget a member, then redraw.
   * @param {string} id
   */
  remove(id) {
    this.members.delete(id);
    this.render();
  }

  /**
   * The member's display name ("You" for ourselves, else a colour name).
   * @param {string} id
   * @returns {string}
   */
  nameOf(id) {
    if (this.members.get(id)?.state === "you") return "You";
    return this.names.get(id) ?? "Someone";
  }

  /**
   * A member's colour, or "" when unknown.
   * @param {string} id
   * @returns {string}
   */
  colorOf(id) {
    return this.members.get(id)?.color ?? "";
  }

  /** @returns {Member[]} everyone but us */
  others() {
    return [...this.members.values()].filter((m) => m.state !== "you");
  }

  /** Redraw the whole list (rooms hold at most 64 members). */
  render() {
    this.names = memberNames(this.members.values());
    // Redrawing replaces the buttons: keep keyboard focus on the same member's button.
    const focused = document.activeElement?.closest?.(".member");
    const focusedId = focused && this.list.contains(focused) ? focused.dataset.memberId : null;
    const rows = [...this.members.values()].map((m) => this.row(m));
    this.list.replaceChildren(...rows);
    if (focusedId) {
      rows.find((r) => r.dataset.memberId === focusedId)?.querySelector("button")?.focus();
    }
    setText(this.count, groupDigits(this.members.size));
    this.count.setAttribute("aria-label", `${this.members.size} in the room`);
    this.empty.hidden = this.others().length > 0;
    setText(this.summary, summarize(this.others()));
  }

  /**
   * One list item.
   * @param {Member} m
   * @returns {HTMLElement}
   */
  row(m) {
    const li = fromTemplate("member-template");
    li.dataset.memberId = m.id;
    li.dataset.state = m.state;
    setMemberColor(li, m.color);
    const name = m.state === "you" ? `${this.names.get(m.id)} (you)` : this.nameOf(m.id);
    setText(part(li, ".member-name"), name);
    const state = part(li, ".member-state");
    state.dataset.state = m.state;
    state.title = STATE_TITLE[m.state];
    setText(state, STATE_TEXT[m.state]);
    const toggle = part(li, ".fingerprint-toggle");
    const fp = part(li, ".fingerprint");
    toggle.setAttribute("aria-label", `Fingerprint of ${name}`);
    toggle.setAttribute("aria-expanded", String(Boolean(m.showFingerprint)));
    fp.hidden = !m.showFingerprint;
    setText(fp, m.fingerprint ?? "\u2026");
    toggle.addEventListener("click", () => this.toggleFingerprint(m.id));
    return li;
  }

  /**
   * Show or hide a member's fingerprint, computing it the first time.
   * @param {string} id
   */
  async toggleFingerprint(id) {
    const m = this.members.get(id);
    if (!m) return;
    const show = !m.showFingerprint;
    this.upsert(id, { showFingerprint: show });
    if (show && !m.fingerprint) {
      try {
        const fingerprint = await this.loadFingerprint(id);
        if (this.members.has(id)) this.upsert(id, { fingerprint });
      } catch {
        if (this.members.has(id)) this.upsert(id, { fingerprint: "not available" });
      }
    }
  }

  /** Forget everyone (leaving the room). */
  clear() {
    this.members.clear();
    this.render();
  }
}

/**
 * "2 verified, 1 wrong password" for the folded panel.
 * @param {Member[]} others
 * @returns {string}
 */
export function summarize(others) {
  if (others.length === 0) return "only you";
  const count = (state) => others.filter((m) => m.state === state).length;
  const parts = [
    [count("verified"), "verified"],
    [count("checking"), "checking"],
    [count("failed"), "wrong password"],
    [count("not_answering"), "not answering"],
  ].filter(([n]) => n > 0);
  return parts.map(([n, label]) => `${n} ${label}`).join(", ");
}
