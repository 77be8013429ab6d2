/**
 * RoomSession: the sans-I/O client of one room, mirroring sotto/session.py. Fed parsed
 * server frames, it returns frames to send and events to show; it never touches a socket.
 *
 * Calls are serialised internally (each waits for the previous one), because the
 * WebCrypto steps inside are asynchronous and must not interleave on shared state.
 * @module core/session
 */

import { FRAME, REASON, SIZE, VERSION } from "./constants.js";
import { b64encode, isUint } from "./encoding.js";
import * as ev from "./events.js";
import { ProtocolError, UsageError } from "./errors.js";
import { fingerprint } from "./fingerprint.js";
import { GroupKeys } from "./group.js";
import { expireHeld, onMessage, sealText } from "./inbox.js";
import { passwordScalar } from "./password.js";
import {
  addPeer, onDirect, parseMeta, resendAfterResume, sendSenderKey, startHandshake,
} from "./peers.js";
import { roomIdFor } from "./roomid.js";
import { SigningKey } from "./signing.js";
import { STATE } from "./handshake.js";
import { randomBytes } from "./webcrypto.js";

const MEMBER_ID = /^[A-Za-z0-9_-]{22}$/;

/**
 * @typedef {object} SessionState
 * @property {string} roomId
 * @property {bigint} w
 * @property {SigningKey} signer
 * @property {(n: number) => Uint8Array} random
 * @property {() => number} now unix ms
 * @property {string|null} memberId
 * @property {string|null} color
 * @property {string|null} resume token from the last welcome
 * @property {number} lastSeq highest room seq seen
 * @property {Map<string, import("./peers.js").Peer>} peers
 * @property {Map<string, Array<{from: string, body: string}>>} unannounced held directs
 * @property {GroupKeys} group
 * @property {number[]} failures times of failed handshakes
 * @property {Map<string, {text: string, ts: number}>} pending our bodies awaiting their echo
 */

/** @typedef {{frames: Array<Record<string, unknown>>, events: Array<{kind: string}>}} Result */

/** One member's view of one room. */
export class RoomSession {
  /** @param {SessionState} state */
  constructor(state) {
    /** @private */ this.s = state;
    /** @private */ this.queue = Promise.resolve();
  }

  /**
   * Derive the room id and w, make our signing key and first chain.
   * @param {{roomName: string, password: string, random?: (n: number) => Uint8Array,
   *   now?: () => number}} options random and now are injectable for tests
   * @returns {Promise<RoomSession>}
   */
  static async create({ roomName, password, random, now }) {
    const roomId = await roomIdFor(roomName);
    const w = await passwordScalar(password, roomId);
    const signer = await SigningKey.generate(random);
    const rng = random ?? randomBytes;
    return new RoomSession({ roomId, w, signer, random: rng, now: now ?? Date.now,
      memberId: null, color: null, resume: null, lastSeq: 0, peers: new Map(),
      unannounced: new Map(), group: new GroupKeys(rng), failures: [], pending: new Map() });
  }

  /** The room id, all the server learns of the room name. */
  get roomId() {
    return this.s.roomId;
  }

  /** Our raw 32-byte Ed25519 public key. */
  get publicKey() {
    return this.s.signer.publicKey;
  }

  /** Our member id, once welcomed. */
  get memberId() {
    return this.s.memberId;
  }

  /** Our colour, once welcomed. */
  get color() {
    return this.s.color;
  }

  /**
   * The `join` frame; after a welcome it carries `resume` and `last_seq` for a reconnect.
   * @returns {Record<string, unknown>}
   */
  joinFrame() {
    const frame = { type: FRAME.JOIN, v: VERSION, key: b64encode(this.s.signer.publicKey) };
    if (this.s.resume !== null) Object.assign(frame, { resume: this.s.resume,
      last_seq: this.s.lastSeq });
    return frame;
  }

  /**
   * Feed one parsed server frame; a malformed one becomes a Rejected event, never a throw.
   * @param {unknown} frame
   * @returns {Promise<Result>}
   */
  receive(frame) {
    return this.serial(async (out) => {
      try {
        await this.dispatch(frame, out);
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        out.emit(ev.rejected(null, REASON.BAD_FRAME));
      }
    });
  }

  /**
   * Seal one text for the room (peers that verify later read only what follows).
   * @param {string} text
   * @returns {Promise<Result>}
   */
  sendText(text) {
    return this.serial((out) => sealText(this.s, text, out));
  }

  /**
   * Run the timers: handshakes not answering, held broadcasts expiring, old epochs deleted.
   * @returns {Promise<Result>}
   */
  tick() {
    return this.serial(async (out) => {
      const now = this.s.now();
      for (const peer of this.s.peers.values()) {
        if (peer.handshake.expire(now)) out.emit(ev.peerNotAnswering(peer.id));
      }
      expireHeld(this.s, out);
      this.s.group.expire(now);
    });
  }

  /**
   * The fingerprint of a member's key in this room (ours when memberId is omitted).
   * @param {string} [memberId]
   * @returns {Promise<string>}
   */
  async fingerprint(memberId) {
    if (memberId === undefined || memberId === this.s.memberId) {
      return fingerprint(this.s.roomId, this.s.signer.publicKey);
    }
    const peer = this.s.peers.get(memberId);
    if (!peer) throw new UsageError("No such member.");
    return fingerprint(this.s.roomId, peer.key);
  }

  /** Forget every key and message; the session is unusable afterwards. */
  wipe() {
    const s = this.s;
    for (const peer of s.peers.values()) peer.wipe();
    s.peers.clear();
    s.unannounced.clear();
    s.pending.clear();
    s.group.wipe();
    s.signer.wipe();
    s.w = 0n;
  }

  /** @private run `fn` after every earlier call, collecting its output */
  serial(fn) {
    const run = this.queue.then(async () => {
      const out = new ev.Output();
      await fn(out);
      return out.result();
    });
    this.queue = run.then(() => undefined, () => undefined);
    return run;
  }

  /** @private */
  async dispatch(frame, out) {
    if (frame === null || typeof frame !== "object" || Array.isArray(frame)) {
      throw new ProtocolError("frame is not an object");
    }
    const f = /** @type {Record<string, unknown>} */ (frame);
    if (f.type === FRAME.ERROR) {
      out.emit(ev.serverError(String(f.code), String(f.message)));
      return;
    }
    if (f.type === FRAME.PONG) return;
    if (f.type === FRAME.WELCOME) {
      await this.onWelcome(f, out);
      return;
    }
    if (this.s.memberId === null) throw new ProtocolError("frame before welcome");
    if (f.type === FRAME.PRESENCE) await this.onPresence(f, out);
    else if (f.type === FRAME.MESSAGE) await onMessage(this.s, f, out);
    else if (f.type === FRAME.DIRECT) {
      if (!isMemberId(f.from) || typeof f.body !== "string") {
        throw new ProtocolError("bad direct");
      }
      await onDirect(this.s, { from: /** @type {string} */ (f.from), body: f.body }, out);
    } else throw new ProtocolError("unknown frame type");
  }

  /** @private our (re)welcome: a fresh membership, or a resumed one */
  async onWelcome(f, out) {
    if (f.v !== VERSION || !isMemberId(f.you) || typeof f.color !== "string"
      || !isUint(f.seq, Number.MAX_SAFE_INTEGER) || typeof f.resume !== "string"
      || typeof f.resumed !== "boolean" || !isObject(f.members)) {
      throw new ProtocolError("bad welcome");
    }
    const s = this.s;
    const seq = /** @type {number} */ (f.seq);
    const resumed = f.resumed && f.you === s.memberId;
    if (!resumed) {
      if (s.memberId !== null) this.reset(seq, out);
      s.memberId = /** @type {string} */ (f.you);
      s.color = f.color;
      s.lastSeq = seq;
    }
    s.resume = f.resume;
    const members = Object.create(null);
    const metas = new Map();
    for (const [id, raw] of Object.entries(f.members)) {
      const meta = parsePeerMeta(id, raw, out);
      if (meta === null) continue;
      members[id] = Object.freeze({ color: meta.color, key: raw.key, joinedAt: meta.joinedAt });
      if (id !== s.memberId) metas.set(id, meta);
    }
    if (resumed) {
      await this.applyDiff(metas, new Set([...s.peers.keys()].filter((id) => !metas.has(id))),
        out);
      await resendAfterResume(s, out);
      return;
    }
    out.emit(ev.joined(s.memberId, s.color, Object.freeze(members)));
    for (const [id, meta] of metas) await addPeer(s, id, meta, out);
  }

  /** @private a fresh welcome after we had one: the old membership and its keys are gone */
  reset(seq, out) {
    const s = this.s;
    if (seq > s.lastSeq) out.emit(ev.gap(s.lastSeq + 1, seq, REASON.NOT_RESUMED));
    for (const peer of s.peers.values()) peer.wipe();
    s.peers.clear();
    s.unannounced.clear();
    s.pending.clear();
    s.group.restart();
  }

  /** @private a presence diff */
  async onPresence(f, out) {
    if (!isObject(f.joins) || !isObject(f.leaves)) throw new ProtocolError("bad presence");
    const joins = new Map();
    for (const [id, raw] of Object.entries(f.joins)) {
      if (id === this.s.memberId) continue;
      const meta = parsePeerMeta(id, raw, out);
      if (meta !== null) joins.set(id, meta);
    }
    const leaves = new Set(Object.keys(f.leaves).filter((id) => !joins.has(id)));
    await this.applyDiff(joins, leaves, out);
  }

  /** @private leaves (one epoch bump if any verified peer left), joins, retries of A */
  async applyDiff(joins, leaves, out) {
    const s = this.s;
    let rotate = false;
    for (const id of leaves) {
      const peer = s.peers.get(id);
      if (!peer) continue;
      rotate ||= peer.verified;
      peer.wipe();
      s.peers.delete(id);
      s.group.forget(id);
      out.emit(ev.memberLeft(id));
    }
    const retry = [...s.peers.values()].filter((p) => p.handshake.role === "A"
      && p.handshake.state === STATE.IDLE);  // "not answering" earlier: A tries again
    for (const [id, meta] of joins) {
      if (s.peers.has(id)) continue;
      out.emit(ev.memberJoined(id, meta.color));
      await addPeer(s, id, meta, out);
    }
    for (const peer of retry) startHandshake(s, peer, out);
    if (rotate) await this.rotate(out);
  }

  /** @private start our next epoch and send its key to every verified peer */
  async rotate(out) {
    const epoch = this.s.group.rotate();
    out.emit(ev.keysRotated(epoch));
    for (const peer of this.s.peers.values()) {
      if (peer.verified) await sendSenderKey(this.s, peer, out);
    }
  }
}

/** @param {unknown} x */
function isObject(x) {
  return x !== null && typeof x === "object" && !Array.isArray(x);
}

/** @param {unknown} x */
function isMemberId(x) {
  return typeof x === "string" && MEMBER_ID.test(x);
}

/** Parse one member's meta, reporting (not throwing) a bad entry. */
function parsePeerMeta(id, raw, out) {
  try {
    if (!isMemberId(id)) throw new ProtocolError("bad member id");
    return parseMeta(raw);
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    out.emit(ev.rejected(isMemberId(id) ? id : null, REASON.BAD_FRAME));
    return null;
  }
}

/** Byte length limit of one text, for shells that show a counter. */
export const MAX_TEXT_BYTES = SIZE.MAX_TEXT;
