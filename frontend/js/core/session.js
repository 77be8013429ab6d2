/**
 * RoomSession: the sans-I/O state machine of one member in one room, mirroring
 * sotto/session.py (same frames, same events, same order, same draws from `random`).
 *
 * Theory of operation. The shell hands `receive` every parsed server frame and calls
 * `tick` now and then; each call resolves to {frames, events}: frames to send to the
 * server and events for the person. Nothing here touches a socket or sleeps;
 * randomness (`random(n)`) and time (`now()`, ms) are injected.
 * - `welcome` gives us an id (roster.js); for every pair the lower id is A and starts the SPAKE2
 *   handshake (handshake.js, directs.js); presence joins are handled alike.
 * - A verified handshake gives one pair key per direction; both sides then send their
 *   sender key (epoch, index, CK) sealed. Group messages are inbox.js.
 * - The leave of a verified member starts our next epoch, sent to every verified peer.
 * Calls are serialised (each waits for the previous one): the WebCrypto steps inside
 * are asynchronous and must not interleave on shared state.
 * @module core/session
 */

import { FRAME, GAP, REJECT, SIZE, VERSION } from "./constants.js";
import { onDirect, overLimit } from "./directs.js";
import { b64encode } from "./encoding.js";
import * as ev from "./events.js";
import { UsageError } from "./errors.js";
import { fingerprint } from "./fingerprint.js";
import { expireHeld, onMessage, sealText } from "./inbox.js";
import { passwordScalar } from "./password.js";
import { SendChain } from "./ratchet.js";
import { onPresence, onWelcome } from "./roster.js";
import { roomIdFor } from "./roomid.js";
import { SigningKey } from "./signing.js";
import { randomBytes } from "./webcrypto.js";

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
 * @property {Set<number>} missing seqs reported missing that may still arrive
 * @property {SendChain} chain our sender-key chain
 * @property {Map<string, import("./peers.js").Peer>} peers
 * @property {Map<string, string[]>} unannounced direct bodies from ids not yet announced
 * @property {Map<string, {peer: import("./peers.js").Peer, until: number}>} departed
 *   members who left, kept 10 s so their frames still in flight can be read
 * @property {number[]} failures times of failed handshakes (ms)
 * @property {Map<string, {text: string, ts: number}>} pending our bodies awaiting their echo
 */

/** @typedef {{frames: Array<Record<string, unknown>>, events: Array<{kind: string}>}} Result */

/** One member's view of one room. */
export class RoomSession {
  /** @param {SessionState} state */
  constructor(state) {
    /** @private */ this.s = state;
    /** @private */ this.queue = Promise.resolve();
    /** @private @type {Map<unknown, (f: Record<string, unknown>, out: ev.Output) => unknown>} */
    this.handlers = new Map([
      [FRAME.WELCOME, (f, out) => onWelcome(this.s, f, out)],
      [FRAME.PRESENCE, (f, out) => onPresence(this.s, f, out)],
      [FRAME.DIRECT, (f, out) => onDirect(this.s, f, out)],
      [FRAME.MESSAGE, (f, out) => onMessage(this.s, f, out)],
      [FRAME.ERROR, (f, out) => out.emit(ev.serverError(String(f.code ?? ""),
        String(f.message ?? "")))],
      [FRAME.PONG, () => undefined],
    ]);
  }

  /**
   * Derive the room id and w, make our signing key (32 bytes of `random` when injected,
   * else WebCrypto's non-extractable key) and our first chain (32 bytes).
   * @param {{roomName: string, password: string, random?: (n: number) => Uint8Array,
   *   now?: () => number}} options
   * @returns {Promise<RoomSession>}
   */
  static async create({ roomName, password, random, now }) {
    const roomId = await roomIdFor(roomName);
    const w = await passwordScalar(password, roomId);
    const signer = await SigningKey.generate(random);
    const rng = random ?? randomBytes;
    return new RoomSession({ roomId, w, signer, random: rng, now: now ?? Date.now,
      memberId: null, color: null, resume: null, lastSeq: 0, missing: new Set(),
      chain: new SendChain(0, rng(SIZE.CHAIN_KEY)), peers: new Map(), unannounced: new Map(),
      departed: new Map(), failures: [], pending: new Map() });
  }

  /** The room id, all the server learns of the room name. */
  get roomId() { return this.s.roomId; }

  /** Our raw 32-byte Ed25519 public key. */
  get publicKey() { return this.s.signer.publicKey; }

  /** Our member id, once welcomed. */
  get memberId() { return this.s.memberId; }

  /** Our colour, once welcomed. */
  get color() { return this.s.color; }

  /** Our current sender-key epoch. */
  get epoch() { return this.s.chain.epoch; }

  /** Highest room seq seen (sent as `last_seq` when resuming). */
  get lastSeq() { return this.s.lastSeq; }

  /** Ids of the members that proved the password. */
  verifiedPeers() {
    return [...this.s.peers.values()].filter((p) => p.verified).map((p) => p.id);
  }

  /**
   * The `join` frame for a new connection (with `resume` and `last_seq` after a welcome).
   * @returns {Record<string, unknown>}
   */
  joinFrame() {
    const frame = { type: FRAME.JOIN, v: VERSION, key: b64encode(this.s.signer.publicKey) };
    if (this.s.resume !== null) {
      Object.assign(frame, { resume: this.s.resume, last_seq: this.s.lastSeq });
    }
    return frame;
  }

  /**
   * Process one parsed server frame; a malformed one becomes a Rejected event, never a throw.
   * @param {unknown} frame
   * @returns {Promise<Result>}
   */
  receive(frame) {
    return this.serial(async (out) => {
      if (frame === null || typeof frame !== "object" || Array.isArray(frame)
        || typeof (/** @type {any} */ (frame)).type !== "string") {
        out.emit(ev.rejected(null, REJECT.BAD_FRAME));
        return;
      }
      const f = /** @type {Record<string, unknown>} */ (frame);
      const handler = this.handlers.get(f.type);
      if (handler === undefined) out.emit(ev.rejected(null, REJECT.UNKNOWN_FRAME));
      else await handler(f, out);
    });
  }

  /**
   * Seal one text message as a broadcast frame.
   * @param {string} text
   * @returns {Promise<Result>}
   */
  sendText(text) {
    return this.serial((out) => sealText(this.s, text, out));
  }

  /**
   * Run the timers: handshake answers, held broadcasts, old epochs, the failure window.
   * @returns {Promise<Result>}
   */
  tick() {
    return this.serial(async (out) => {
      const now = this.s.now();
      for (const peer of [...this.s.peers.values()]) {
        if (peer.handshake.timedOut(now)) {
          peer.notAnswering = true;
          out.emit(ev.peerNotAnswering(peer.id));
        }
        expireHeld(peer, now, out);
        peer.expireChains(now);
      }
      for (const [id, { peer, until }] of [...this.s.departed]) {
        if (now >= until) {
          this.s.departed.delete(id);
          for (const held of peer.heldBroadcasts) out.gapAt(held.seq, GAP.SENDER_LEFT);
          peer.wipe();
        }
      }
      overLimit(this.s, now);
    });
  }

  /**
   * Our fingerprint, or a peer's.
   * @param {string} [memberId]
   * @returns {Promise<string>}
   */
  async fingerprint(memberId) {
    if (memberId === undefined || memberId === null || memberId === this.s.memberId) {
      return fingerprint(this.s.roomId, this.s.signer.publicKey);
    }
    const peer = this.s.peers.get(memberId);
    if (peer === undefined) throw new UsageError("No such member in the room.");
    return fingerprint(this.s.roomId, peer.key);
  }

  /** Forget every key and secret this session holds. */
  wipe() {
    const s = this.s;
    for (const peer of s.peers.values()) peer.wipe();
    for (const { peer } of s.departed.values()) peer.wipe();
    s.peers.clear();
    s.departed.clear();
    s.signer.wipe();
    s.chain.wipe();
    s.pending.clear();
    s.unannounced.clear();
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
}

/** Byte limit of one text, for shells that show a counter. */
export const MAX_TEXT_BYTES = SIZE.MAX_TEXT;
