/**
 * What a room looks like while the session reports events: messages, members, notices,
 * the status line, the wrong-password alert, and when the page is ready to send.
 * @module ui/screen
 */

import { EVENT, FAIL_REASON } from "../core/constants.js";
import { describeGap, describeRejected, describeServerError } from "./wording.js";

/**
 * @typedef {object} RoomViews
 * @property {import("./messages.js").MessageLog} log
 * @property {import("./members.js").MemberList} members
 * @property {import("./composer.js").Composer} composer
 * @property {import("./status.js").RoomStatus} status
 */

export class RoomScreen {
  /**
   * @param {RoomViews} views
   * @param {(state: string) => void} onState "connected" | "ready" | "locked" (wrong password)
   */
  constructor(views, onState) {
    this.views = views;
    this.onState = onState;
    this.me = "";
    /** Members already in the room when we arrived: the ones our password is checked against. */
    this.elders = new Set();
    this.ready = false;
    /** True while nobody in the room shares our password (writing is pointless). */
    this.locked = false;
    /** False while the socket is down or a reconnect awaits its welcome. */
    this.online = false;
  }

  /**
   * Show the events of one session output.
   * @param {Array<any>} events
   */
  showAll(events) {
    for (const event of events) this.show(event);
    if (events.length > 0) this.updateStatus();
  }

  /**
   * Turn one event of the session into what the person sees.
   * @param {any} e
   */
  show(e) {
    const { log, members } = this.views;
    switch (e.kind) {
      case EVENT.JOINED:
        this.joined(e);
        break;
      case EVENT.MEMBER_JOINED:
        members.upsert(e.memberId, { color: e.color, state: "checking" });
        log.addNotice(`${members.nameOf(e.memberId)} joined.`);
        break;
      case EVENT.MEMBER_LEFT: {
        const name = members.nameOf(e.memberId);
        const verified = members.members.get(e.memberId)?.state === "verified";
        members.remove(e.memberId);
        this.elders.delete(e.memberId);
        log.addNotice(verified ? `${name} left.` : `${name} left without getting in.`);
        this.checkReady();
        break;
      }
      case EVENT.PEER_VERIFIED:
        members.upsert(e.memberId, { state: "verified", fingerprint: e.fingerprint });
        if (this.locked) {
          // Somebody with our password arrived: there is someone to talk to after all.
          this.locked = false;
          this.views.composer.setEnabled(true);
          this.onState("ready");
        }
        this.checkReady();
        break;
      case EVENT.PEER_FAILED:
        this.failed(e.memberId, e.reason);
        break;
      case EVENT.PEER_NOT_ANSWERING:
        members.upsert(e.memberId, { state: "not_answering" });
        log.addNotice(`${members.nameOf(e.memberId)} is not answering the password check.`, "warn");
        this.checkReady();
        break;
      case EVENT.MESSAGE_RECEIVED:
        this.received(e);
        break;
      case EVENT.GAP:
        log.addNotice(describeGap(e), "warn");
        break;
      case EVENT.KEYS_ROTATED:
        log.addNotice("Keys rotated: whoever left cannot read anything written from now on.");
        break;
      case EVENT.REJECTED:
        log.addNotice(describeRejected(e, e.memberId ? members.nameOf(e.memberId) : null), "warn");
        break;
      case EVENT.SERVER_ERROR:
        log.addNotice(describeServerError(e), "warn");
        break;
      case EVENT.HANDSHAKE_REFUSED:
        if (members.members.has(e.memberId)) members.upsert(e.memberId, { state: "refused" });
        log.addNotice(
          `Ignoring ${members.nameOf(e.memberId)}: too many wrong passwords in the last minute.`,
          "bad",
        );
        this.checkReady();
        break;
      default: // MessageSent: the own echo's MessageReceived already marked it sent.
        break;
    }
  }

  /** @param {any} e a Joined event: a first welcome, a resumed one, or a fresh one */
  joined(e) {
    const { log, members, composer } = this.views;
    const first = this.me === "";
    this.online = true;
    composer.setEnabled(!this.locked);
    if (e.resumed) {
      // Same membership: keep every handshake state, add anyone who arrived meanwhile.
      for (const [id, color] of Object.entries(e.members)) {
        if (!members.members.has(id)) members.upsert(id, { color, state: "checking" });
      }
      log.addNotice("Reconnected.");
      return;
    }
    if (first) performance.mark("sotto:welcome");
    members.clear();
    this.elders.clear();
    this.me = e.memberId;
    members.upsert(e.memberId, { color: e.color, state: "you" });
    for (const [id, color] of Object.entries(e.members)) {
      members.upsert(id, { color, state: "checking" });
      if (first) this.elders.add(id);
    }
    const name = members.names.get(e.memberId);
    const others = members.others().length;
    if (!first) {
      log.failPending();
      log.addNotice(`Reconnected as a new member (${name}); checking the password again.`, "warn");
    } else if (others === 0) {
      log.addNotice(`You are in, as ${name}. Nobody else is here yet.`);
    } else {
      log.addNotice(`You joined as ${name}. Checking the password with ${plural(others, "member")}\u2026`);
    }
    if (first) this.onState("connected");
    this.checkReady();
  }

  /**
   * A handshake failed: say who has the wrong password, as well as it can be told.
   * Among elders, if all of them refused us it is most likely our password.
   * @param {string} id
   * @param {string} reason
   */
  failed(id, reason) {
    const { log, members } = this.views;
    members.upsert(id, { state: "failed" });
    const name = members.nameOf(id);
    if (reason !== FAIL_REASON.WRONG_PASSWORD) {
      log.addNotice(`${name} sent a broken password check and is not trusted.`, "bad");
    } else if (!this.elders.has(id)) {
      log.addNotice(`${name} tried to join with a wrong password. They cannot read anything here.`, "bad");
    } else if (this.ready) {
      log.addNotice(`${name} uses a different password from yours.`, "bad");
    }
    // During our first checks, failures of elders are judged together in settleElders().
    this.checkReady();
  }

  /**
   * Our first password checks have all ended: if every elder refused us, the wrong
   * password is most likely ours; if only some did, theirs differs from ours.
   */
  settleElders() {
    const { log, members, status, composer } = this.views;
    const failed = [...this.elders].filter((id) => members.members.get(id)?.state === "failed");
    if (failed.length > 0 && failed.length === this.elders.size) {
      this.locked = true;
      composer.setEnabled(false);
      log.empty.hidden = true;  // "Write something!" would be bad advice here
      status.alert(
        "Wrong password",
        "Nobody in this room accepted your password, so you cannot read or send anything here. " +
          "Check the password with the others and try again.",
        true,
      );
      return;
    }
    for (const id of failed) {
      log.addNotice(`${members.nameOf(id)} uses a different password from yours.`, "bad");
    }
  }

  /** @param {any} e a MessageReceived event */
  received(e) {
    const { log, members } = this.views;
    if (e.own) {
      if (!log.acknowledge(e.text)) {
        log.addMessage({ name: "You", color: members.colorOf(this.me), text: e.text, ts: e.ts, own: true });
      }
      return;
    }
    log.addMessage({
      name: members.nameOf(e.sender), color: members.colorOf(e.sender), text: e.text, ts: e.ts,
      own: false,
    });
  }

  /** Ready to send once our welcome is in and no handshake with an elder is still running. */
  checkReady() {
    if (this.ready || !this.me) return;
    const members = this.views.members.members;
    if ([...this.elders].some((id) => members.get(id)?.state === "checking")) return;
    this.ready = true;
    performance.mark("sotto:ready");
    this.settleElders();
    this.onState(this.locked ? "locked" : "ready");
    if (!this.locked) this.views.composer.focus();
  }

  /** Refresh the line under the room name. */
  updateStatus() {
    const { members, status } = this.views;
    if (!this.me || !this.online) return;
    const others = members.others();
    const verified = others.filter((m) => m.state === "verified").length;
    const checking = others.filter((m) => m.state === "checking").length;
    if (others.length === 0) {
      status.set("Connected \u00b7 only you so far", "ok");
    } else if (checking > 0) {
      status.set(`Checking the password with ${plural(checking, "member")}\u2026`, "warn");
    } else if (verified === 0) {
      status.set("Connected \u00b7 nobody here shares your password", "bad");
    } else {
      status.set(`End-to-end encrypted \u00b7 ${verified} verified`, "ok");
    }
  }

  /**
   * Show our own message, sealed and on its way.
   * @param {string} text
   */
  sending(text) {
    this.views.log.addMessage({
      name: "You", color: this.views.members.colorOf(this.me), text, ts: Date.now(), own: true,
      pending: true,
    });
  }
}

/**
 * "1 member", "3 members".
 * @param {number} n
 * @param {string} word
 */
function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
