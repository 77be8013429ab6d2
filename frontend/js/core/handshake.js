/**
 * The per-peer SPAKE2 handshake of section 5 as a state machine.
 *
 * Theory of operation: the member whose id sorts lower is A. A calls `start` and sends
 * pake1 {pA}; B answers pake2 {pB, cB}; A checks cB and sends pake3 {cA} (or pake_fail);
 * B checks cA (or sends pake_fail). Each step that waits has a 10 s deadline; `tick`
 * turns a missed deadline into "not answering" and returns the machine to IDLE, so A
 * can start again. A verified machine ignores everything; a failed one accepts a new
 * pake1 (B) or `start` (A). B answers a repeated identical pake1 with the same pake2, so
 * re-sending a step after a resume never splits the two sides' keys. Frames that do not fit the state are ignored. The table
 * TRANSITIONS below says which (state, kind) pairs do anything at all.
 * @module core/handshake
 */

import { DIRECT_KIND, LIMIT, REASON, SIZE } from "./constants.js";
import { b64decode, b64encode, toJson, utf8 } from "./encoding.js";
import { EncodingError, InvalidShare, UsageError } from "./errors.js";
import { identity, randomScalar, ROLE, Spake2, verifyConfirmation } from "./spake2.js";

/** Handshake states. */
export const STATE = Object.freeze({
  IDLE: "idle",
  WAIT_PAKE2: "wait_pake2",
  WAIT_PAKE3: "wait_pake3",
  VERIFIED: "verified",
  FAILED: "failed",
});

/** Which body kinds each role handles in each state; anything else is ignored. */
const TRANSITIONS = Object.freeze({
  [ROLE.A]: {
    [STATE.WAIT_PAKE2]: [DIRECT_KIND.PAKE2, DIRECT_KIND.PAKE_FAIL],
  },
  [ROLE.B]: {
    [STATE.IDLE]: [DIRECT_KIND.PAKE1],
    [STATE.WAIT_PAKE3]: [DIRECT_KIND.PAKE1, DIRECT_KIND.PAKE3, DIRECT_KIND.PAKE_FAIL],
    [STATE.FAILED]: [DIRECT_KIND.PAKE1],
  },
});

/**
 * @typedef {object} Step
 * @property {string|null} reply a direct body string to send to the peer, if any
 * @property {"verified"|"failed"|"ignored"|"waiting"} outcome
 * @property {string} [reason] for "failed": wrong_password or invalid_share
 * @property {Uint8Array} [Ke] for "verified": the shared secret for the pair keys
 */

const PAKE_FAIL_BODY = toJson({ k: DIRECT_KIND.PAKE_FAIL });

/** One member's handshake with one peer. */
export class Handshake {
  /**
   * @param {object} p
   * @param {string} p.roomId
   * @param {bigint} p.w password scalar
   * @param {string} p.me our member id
   * @param {Uint8Array} p.myKey our Ed25519 public key
   * @param {string} p.peer the peer's member id
   * @param {Uint8Array} p.peerKey the peer's Ed25519 public key
   */
  constructor({ roomId, w, me, myKey, peer, peerKey }) {
    if (me === peer) throw new UsageError("no handshake with ourselves");
    this.peer = peer;
    this.role = me < peer ? ROLE.A : ROLE.B;
    this.state = STATE.IDLE;
    /** @type {number|null} ms deadline of the step we wait for */
    this.deadline = null;
    const [a, b] = this.role === ROLE.A ? [[me, myKey], [peer, peerKey]] : [[peer, peerKey],
      [me, myKey]];
    /** @private */ this.ids = [identity(a[0], a[1]), identity(b[0], b[1])];
    /** @private */ this.aad = utf8(roomId);
    /** @private */ this.w = w;
    /** @private @type {Spake2|null} */ this.spake = null;
    /** @private @type {Uint8Array|null} */ this.expected = null;
    /** @private @type {Uint8Array|null} */ this.tt = null;
    /** @private @type {Uint8Array|null} */ this.Ke = null;
    /** @private @type {string|null} the pA we answered, and our answer */
    this.answered = null;
    /** @private @type {string|null} */ this.pake2 = null;
  }

  /** @private */
  newSpake(random) {
    return new Spake2(this.role, this.w, this.ids[0], this.ids[1], this.aad,
      randomScalar(random));
  }

  /**
   * A starts (or restarts) the exchange: returns the pake1 body to send.
   * @param {(n: number) => Uint8Array} random
   * @param {number} now ms
   * @returns {string}
   */
  start(random, now) {
    if (this.role !== ROLE.A) throw new UsageError("only A sends pake1");
    if (this.state === STATE.VERIFIED) throw new UsageError("already verified");
    this.spake = this.newSpake(random);
    this.setState(STATE.WAIT_PAKE2, now);
    return toJson({ k: DIRECT_KIND.PAKE1, pA: b64encode(this.spake.share) });
  }

  /**
   * Feed one parsed pake body (k = pake1, pake2, pake3 or pake_fail) from the peer.
   * @param {Record<string, unknown>} body
   * @param {(n: number) => Uint8Array} random
   * @param {number} now ms
   * @returns {Promise<Step>}
   */
  async receive(body, random, now) {
    const allowed = TRANSITIONS[this.role][this.state] || [];
    const kind = /** @type {string} */ (body.k);
    if (!allowed.includes(kind)) return { reply: null, outcome: "ignored" };
    try {
      if (kind === DIRECT_KIND.PAKE_FAIL) return this.fail(REASON.WRONG_PASSWORD, false);
      if (kind === DIRECT_KIND.PAKE1) return await this.onPake1(body, random, now);
      if (kind === DIRECT_KIND.PAKE2) return await this.onPake2(body);
      return await this.onPake3(body);
    } catch (err) {
      if (err instanceof InvalidShare) return this.fail(REASON.INVALID_SHARE, true);
      if (err instanceof EncodingError) return this.fail(REASON.INVALID_SHARE, true);
      throw err;
    }
  }

  /** @private */
  async onPake1(body, random, now) {
    if (this.state === STATE.WAIT_PAKE3 && body.pA === this.answered) {
      // The same pake1 again (A re-sent it after a resume): the same answer, no restart.
      return { reply: this.pake2, outcome: "waiting" };
    }
    const pA = b64decode(body.pA);
    this.spake = this.newSpake(random);
    const keys = await this.spake.finish(pA);
    this.keep(keys);
    this.setState(STATE.WAIT_PAKE3, now);
    this.answered = /** @type {string} */ (body.pA);
    this.pake2 = toJson({ k: DIRECT_KIND.PAKE2, pB: b64encode(this.spake.share),
      cB: b64encode(keys.ourMac) });
    return { reply: this.pake2, outcome: "waiting" };
  }

  /** @private */
  async onPake2(body) {
    const pB = b64decode(body.pB);
    const keys = await /** @type {Spake2} */ (this.spake).finish(pB);
    this.keep(keys);
    if (!(await this.confirm(body.cB))) return this.fail(REASON.WRONG_PASSWORD, true);
    const reply = toJson({ k: DIRECT_KIND.PAKE3, cA: b64encode(keys.ourMac) });
    return { ...this.verified(), reply };
  }

  /** @private */
  async onPake3(body) {
    if (!(await this.confirm(body.cA))) return this.fail(REASON.WRONG_PASSWORD, true);
    return this.verified();
  }

  /** @private keep what the confirmation step needs */
  keep(keys) {
    this.expected = keys.peerKey;
    this.tt = keys.tt;
    this.Ke = keys.Ke;
  }

  /** @private check the peer's MAC; a malformed one simply does not verify */
  async confirm(mac) {
    let bytes;
    try {
      bytes = b64decode(mac, SIZE.MAC);
    } catch {
      return false;
    }
    return verifyConfirmation(/** @type {Uint8Array} */ (this.expected),
      bytes, /** @type {Uint8Array} */ (this.tt));
  }

  /** @private */
  verified() {
    const Ke = /** @type {Uint8Array} */ (this.Ke);
    this.clear();
    this.state = STATE.VERIFIED;
    this.deadline = null;
    return { reply: null, outcome: /** @type {const} */ ("verified"), Ke };
  }

  /** @private */
  fail(reason, tellPeer) {
    if (this.Ke) this.Ke.fill(0);
    this.clear();
    this.state = STATE.FAILED;
    this.deadline = null;
    return { reply: tellPeer ? PAKE_FAIL_BODY : null, outcome: /** @type {const} */ ("failed"),
      reason };
  }

  /** @private */
  clear() {
    this.answered = null;
    this.pake2 = null;
    this.spake = null;
    this.expected = null;
    this.tt = null;
    this.Ke = null;
  }

  /** @private */
  setState(state, now) {
    this.state = state;
    this.deadline = now + LIMIT.HANDSHAKE_TIMEOUT_MS;
  }

  /**
   * True when we wait for a step whose deadline has passed; the machine returns to IDLE.
   * @param {number} now ms
   * @returns {boolean}
   */
  expire(now) {
    if (this.deadline === null || now < this.deadline) return false;
    this.clear();
    this.state = STATE.IDLE;
    this.deadline = null;
    return true;
  }

  /** True once the peer proved the password. */
  get isVerified() {
    return this.state === STATE.VERIFIED;
  }

  /** Forget every secret. */
  wipe() {
    if (this.Ke) this.Ke.fill(0);
    this.clear();
    this.w = 0n;
  }
}
