/**
 * Events the session reports to its shell: frozen plain objects with a `kind`, mirroring
 * sotto/events.py (snake_case fields there, camelCase here), and the Output collector.
 * @module core/events
 */

import { EVENT } from "./constants.js";

/** @param {string} kind @param {object} fields */
function event(kind, fields) {
  return Object.freeze({ kind, ...fields });
}

/** Our welcome arrived: our id and colour, every other member (id -> colour), resumed or not. */
export const joined = (memberId, color, members, resumed) =>
  event(EVENT.JOINED, { memberId, color, members, resumed });
/** Someone joined the room. */
export const memberJoined = (memberId, color) => event(EVENT.MEMBER_JOINED, { memberId, color });
/** Someone left the room. */
export const memberLeft = (memberId) => event(EVENT.MEMBER_LEFT, { memberId });
/** A handshake completed: the peer proved the password. */
export const peerVerified = (memberId, fingerprint) =>
  event(EVENT.PEER_VERIFIED, { memberId, fingerprint });
/** A handshake failed: "wrong_password" or "invalid_share". */
export const peerFailed = (memberId, reason) => event(EVENT.PEER_FAILED, { memberId, reason });
/** A handshake step got no answer within 10 s. */
export const peerNotAnswering = (memberId) => event(EVENT.PEER_NOT_ANSWERING, { memberId });
/** A broadcast decrypted and its signature checked (own = our echo). */
export const messageReceived = (sender, text, ts, seq, own) =>
  event(EVENT.MESSAGE_RECEIVED, { sender, text, ts, seq, own });
/** Our own broadcast came back from the server with this seq (the acknowledgement). */
export const messageSent = (seq) => event(EVENT.MESSAGE_SENT, { seq });
/** Room seqs firstSeq..lastSeq will not be shown (missing, expired while held, not resumed). */
export const gap = (firstSeq, lastSeq, reason) => event(EVENT.GAP, { firstSeq, lastSeq, reason });
/** We started a new sending epoch after a leave. */
export const keysRotated = (epoch) => event(EVENT.KEYS_ROTATED, { epoch });
/** A forged, replayed, tampered or malformed frame was dropped (memberId may be null). */
export const rejected = (memberId, reason) => event(EVENT.REJECTED, { memberId, reason });
/** The server sent an `error` frame. */
export const serverError = (code, message) => event(EVENT.SERVER_ERROR, { code, message });
/** A pake1 was ignored: 5 failed handshakes within a minute. */
export const handshakeRefused = (memberId) => event(EVENT.HANDSHAKE_REFUSED, { memberId });

/** Frames to send and events to report, gathered while handling one input. */
export class Output {
  constructor() {
    /** @type {Array<Record<string, unknown>>} */
    this.frames = [];
    /** @type {Array<Readonly<{kind: string}>>} */
    this.events = [];
  }

  /** @param {Record<string, unknown>} frame */
  send(frame) {
    this.frames.push(frame);
  }

  /** @param {Readonly<{kind: string}>} e */
  emit(e) {
    this.events.push(e);
  }

  /**
   * Report one lost seq, merged into the previous event when that is a Gap of the same
   * reason ending just before it (as sotto/session.py does).
   * @param {number} seq
   * @param {string} reason
   */
  gapAt(seq, reason) {
    const last = this.events[this.events.length - 1];
    if (last && last.kind === EVENT.GAP && last.reason === reason && last.lastSeq + 1 === seq) {
      this.events[this.events.length - 1] = gap(last.firstSeq, seq, reason);
    } else this.emit(gap(seq, seq, reason));
  }

  /** The {frames, events} pair handed to the shell. */
  result() {
    return { frames: this.frames, events: this.events };
  }
}
