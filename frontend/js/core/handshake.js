/**
 * The per-peer SPAKE2 handshake of section 5 as a state machine.
 *
 * Theory of operation (as sotto/handshake.py): the member whose id sorts lower is A.
 * A calls `start` and sends pake1 {pA}; B answers pake2 {pB, cB}; A checks cB and sends
 * pake3 {cA} (or pake_fail); B checks cA (or sends pake_fail). Each waiting step has a
 * 10 s deadline; `timedOut` reports a missed one once, but a late answer to the step
 * still outstanding is still accepted. A verified machine ignores everything; a failed
 * one accepts a new pake1 (B) or `start` (A). Bodies that do not fit the state are
 * ignored: the table TRANSITIONS says which (role, state, kind) triples act at all. An
 * invalid share or a malformed field fails as invalid_share and is answered with
 * pake_fail too. B answers a repeat of the pake1 it already answered (same pA, sent again
 * after A resumed) with the same pake2, so both sides keep one set of keys.
 * @module core/handshake
 */

import { DIRECT_KIND, FAIL_REASON, LIMIT, SIZE } from "./constants.js";
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
    /** @type {string|null} the last body we sent, re-sent after a resume */
    this.lastBody = null;
    /** @private @type {string|null} (B) the pA text of the pake1 we answered */
    this.answered = null;
  }

  /** @private */
  newSpake(random) {
    return new Spake2(this.role, this.w, this.ids[0], this.ids[1], this.aad,
      randomScalar(random));
  }

  /**
   * True if a body of this kind is acted on in the current state.
   * @param {unknown} kind
   * @returns {boolean}
   */
  accepts(kind) {
    const allowed = TRANSITIONS[this.role][this.state] ?? [];
    return typeof kind === "string" && allowed.includes(kind);
  }

  /**
   * (B) True for the pake1 already answered while we wait for pake3.
   * @param {Record<string, unknown>} body
   * @returns {boolean}
   */
  repeats(body) {
    return this.state === STATE.WAIT_PAKE3 && body.k === DIRECT_KIND.PAKE1
      && this.answered !== null && body.pA === this.answered;
  }

  /**
   * The outstanding step to send again after a resume, with a fresh deadline; else null.
   * @param {number} now ms
   * @returns {string|null}
   */
  resend(now) {
    if (!this.inProgress || !this.lastBody) return null;
    this.deadline = now + LIMIT.HANDSHAKE_TIMEOUT_MS;
    return this.lastBody;
  }

  /**
   * A starts (or restarts) the exchange: returns the pake1 body to send.
   * @param {(n: number) => Uint8Array} random
   * @param {number} now ms
   * @returns {string}
   */
  start(random, now) {
    if (this.role !== ROLE.A) throw new UsageError("only A sends pake1");
    this.clear();
    this.spake = this.newSpake(random);
    this.setState(STATE.WAIT_PAKE2, now);
    this.lastBody = toJson({ k: DIRECT_KIND.PAKE1, pA: b64encode(this.spake.share) });
    return this.lastBody;
  }

  /**
   * Feed one parsed pake body (k = pake1, pake2, pake3 or pake_fail) from the peer.
   * @param {Record<string, unknown>} body
   * @param {(n: number) => Uint8Array} random
   * @param {number} now ms
   * @returns {Promise<Step>}
   */
  async receive(body, random, now) {
    const kind = /** @type {string} */ (body.k);
    if (!this.accepts(kind)) return { reply: null, outcome: "ignored" };
    try {
      if (kind === DIRECT_KIND.PAKE_FAIL) return this.fail(FAIL_REASON.WRONG_PASSWORD, false);
      if (kind === DIRECT_KIND.PAKE1) return await this.onPake1(body, random, now);
      if (kind === DIRECT_KIND.PAKE2) return await this.onPake2(body);
      return await this.onPake3(body);
    } catch (err) {
      if (err instanceof InvalidShare) return this.fail(FAIL_REASON.INVALID_SHARE, true);
      if (err instanceof EncodingError) return this.fail(FAIL_REASON.INVALID_SHARE, true);
      throw err;
    }
  }

  /** @private */
  async onPake1(body, random, now) {
    if (this.repeats(body)) {
      // A sent it again (it resumed): a fresh answer would leave A's first answer stale.
      this.deadline = now + LIMIT.HANDSHAKE_TIMEOUT_MS;
      return { reply: this.lastBody, outcome: "waiting" };
    }
    const pA = b64decode(body.pA, SIZE.SHARE);
    this.spake = this.newSpake(random);
    const keys = await this.spake.finish(pA);
    this.keep(keys);
    this.setState(STATE.WAIT_PAKE3, now);
    this.lastBody = toJson({ k: DIRECT_KIND.PAKE2, pB: b64encode(this.spake.share),
      cB: b64encode(keys.ourMac) });
    this.answered = /** @type {string} */ (body.pA);
    return { reply: this.lastBody, outcome: "waiting" };
  }

  /** @private */
  async onPake2(body) {
    const pB = b64decode(body.pB, SIZE.SHARE);
    const cB = b64decode(body.cB, SIZE.MAC);
    const keys = await /** @type {Spake2} */ (this.spake).finish(pB);
    this.keep(keys);
    if (!(await this.confirm(cB))) return this.fail(FAIL_REASON.WRONG_PASSWORD, true);
    const reply = toJson({ k: DIRECT_KIND.PAKE3, cA: b64encode(keys.ourMac) });
    const done = this.verified();
    this.lastBody = reply;
    return { ...done, reply };
  }

  /** @private */
  async onPake3(body) {
    const cA = b64decode(body.cA, SIZE.MAC);
    if (!(await this.confirm(cA))) return this.fail(FAIL_REASON.WRONG_PASSWORD, true);
    return this.verified();
  }

  /** @private keep what the confirmation step needs */
  keep(keys) {
    this.expected = keys.peerKey;
    this.tt = keys.tt;
    this.Ke = keys.Ke;
  }

  /** @private check the peer's MAC in constant time */
  confirm(mac) {
    return verifyConfirmation(/** @type {Uint8Array} */ (this.expected), mac,
      /** @type {Uint8Array} */ (this.tt));
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
    this.lastBody = null;
    return { reply: tellPeer ? PAKE_FAIL_BODY : null, outcome: /** @type {const} */ ("failed"),
      reason };
  }

  /** @private */
  clear() {
    this.answered = null;
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
   * True, once, when the outstanding step's deadline has passed (the state is kept, so a
   * late answer still counts).
   * @param {number} now ms
   * @returns {boolean}
   */
  timedOut(now) {
    if (this.deadline === null || now < this.deadline) return false;
    this.deadline = null;
    return true;
  }

  /** True while a step is outstanding. */
  get inProgress() {
    return this.state === STATE.WAIT_PAKE2 || this.state === STATE.WAIT_PAKE3;
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
