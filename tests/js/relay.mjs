/**
 * An in-memory stand-in for the relay server, for session tests without sockets: it hands
 * out member ids, stamps seqs, routes directs and fans out broadcasts as section 4 says,
 * one frame at a time, with hooks to drop or alter frames on the way.
 */

import { messageAad, sealBroadcast } from "../../frontend/js/core/broadcast.js";
import { DIRECT_KIND, EVENT } from "../../frontend/js/core/constants.js";
import { b64encode, concat, toJson, utf8 } from "../../frontend/js/core/encoding.js";
import { pad } from "../../frontend/js/core/padding.js";
import { directAad } from "../../frontend/js/core/pairwise.js";
import { aesGcmEncrypt } from "../../frontend/js/core/webcrypto.js";
import { RoomSession } from "../../frontend/js/core/session.js";
import { manualClock, seededRandom } from "./support.mjs";

export class Relay {
  /**
   * @param {(n: number) => Uint8Array} random
   * @param {() => number} now
   */
  constructor(random, now) {
    this.random = random;
    this.now = now;
    this.seq = 0;
    /** @type {Map<string, {session: any, meta: object}>} */
    this.members = new Map();
    /** @type {Array<{to: string, frame: object}>} */
    this.queue = [];
    /** @type {Map<string, Array<{kind: string}>>} events each member reported */
    this.events = new Map();
    /** Every frame delivered, for replay tests. */
    this.log = [];
    /** @type {(to: string, frame: object) => object|null} alter or drop (null) a frame */
    this.filter = (_to, frame) => frame;
  }

  /** Admit a session: welcome to it, a presence join to the others; returns its id. */
  async join(session, id = b64encode(this.random(16))) {
    const color = "#" + Buffer.from(this.random(3)).toString("hex");
    const meta = { color, key: session.joinFrame().key, joined_at: this.now() };
    this.members.set(id, { session, meta });
    this.events.set(id, []);
    const members = Object.fromEntries([...this.members].map(([k, v]) => [k, v.meta]));
    this.queue.push({ to: id, frame: { type: "welcome", v: 1, you: id, color, members,
      seq: this.seq, resume: b64encode(this.random(16)), resumed: false } });
    this.toOthers(id, { type: "presence", joins: { [id]: meta }, leaves: {} });
    await this.pump();
    return id;
  }

  /**
   * A member's connection blipped and it resumed: a resumed welcome, then the directs the
   * server held for it meanwhile (`held`, as {to, frame}); nobody else notices.
   */
  async resume(id, held = []) {
    const { session, meta } = this.members.get(id);
    const members = Object.fromEntries([...this.members].map(([k, v]) => [k, v.meta]));
    const token = session.joinFrame().resume;
    this.queue.push({ to: id, frame: { type: "welcome", v: 1, you: id, color: meta.color,
      members, seq: this.seq, resume: token, resumed: true } }, ...held);
    await this.pump();
  }

  /** A resume that failed: the member comes back under a new id, the others see leave + join. */
  async rejoin(oldId) {
    const { session, meta: oldMeta } = this.members.get(oldId);
    this.members.delete(oldId);
    const id = b64encode(this.random(16));
    const meta = { ...oldMeta, joined_at: this.now() };
    this.members.set(id, { session, meta });
    this.events.set(id, this.events.get(oldId));
    const members = Object.fromEntries([...this.members].map(([k, v]) => [k, v.meta]));
    this.queue.push({ to: id, frame: { type: "welcome", v: 1, you: id, color: meta.color,
      members, seq: this.seq, resume: b64encode(this.random(16)), resumed: false } });
    this.toOthers(id, { type: "presence", joins: { [id]: meta }, leaves: { [oldId]: oldMeta } });
    await this.pump();
    return id;
  }

  /** A member leaves: the others get a presence leave. */
  async leave(id) {
    const { meta } = this.members.get(id);
    this.members.delete(id);
    this.toOthers(id, { type: "presence", joins: {}, leaves: { [id]: meta } });
    await this.pump();
  }

  /** Feed a session's output frames in as the server would route them. */
  route(from, frames) {
    for (const frame of frames) {
      if (frame.type === "direct") {
        if (this.members.has(frame.to)) {
          this.queue.push({ to: frame.to, frame: { type: "direct", from, body: frame.body } });
        }
      } else if (frame.type === "broadcast") {
        this.seq += 1;
        const message = { type: "message", from, seq: this.seq, body: frame.body };
        for (const id of this.members.keys()) this.queue.push({ to: id, frame: message });
      } else {
        throw new Error(`relay got an unexpected frame type ${frame.type}`);
      }
    }
  }

  /** Deliver queued frames until none are left. */
  async pump() {
    while (this.queue.length > 0) {
      const { to, frame } = this.queue.shift();
      const member = this.members.get(to);
      if (!member) continue;
      const altered = this.filter(to, frame);
      if (altered === null) continue;
      this.log.push({ to, frame: altered });
      await this.deliver(to, altered);
    }
  }

  /** Hand one frame to a member and route what it answers. */
  async deliver(to, frame) {
    const { session } = this.members.get(to);
    const { frames, events } = await session.receive(frame);
    this.events.get(to).push(...events);
    this.route(to, frames);
  }

  /** A member sends text; everything it causes is delivered. */
  async say(id, text) {
    const { frames, events } = await this.members.get(id).session.sendText(text);
    this.events.get(id).push(...events);
    this.route(id, frames);
    await this.pump();
  }

  /** Run every member's timers. */
  async tick() {
    for (const [id, { session }] of this.members) {
      const { frames, events } = await session.tick();
      this.events.get(id).push(...events);
      this.route(id, frames);
    }
    await this.pump();
  }

  /** Events of one member with the given kind. */
  kinds(id, kind) {
    return this.events.get(id).filter((e) => e.kind === kind);
  }

  /** Queue a frame for the others of `id`. */
  toOthers(id, frame) {
    for (const other of this.members.keys()) {
      if (other !== id) this.queue.push({ to: other, frame });
    }
  }
}

/** A relay and a clock shared by sessions made with `member`. */
export function room(label) {
  const now = manualClock();
  const relay = new Relay(seededRandom(`${label} relay`), now);
  const member = async (name, password = "correct horse", id = undefined) => {
    const session = await RoomSession.create({ roomName: "Kitchen", password,
      random: seededRandom(`${label} ${name}`), now });
    return relay.join(session, id);
  };
  return { now, relay, member };
}

/** The (sender, text) pairs a member was shown. */
export const texts = (relay, id) => relay.kinds(id, EVENT.MESSAGE_RECEIVED).map((e) => [e.sender, e.text]);

/**
 * A broadcast body sealed with a member's own chain and key around any plaintext object, or
 * any JSON text given as a string (`1.0`, `NaN`), as a buggy or hostile client could send it
 * (sendText would refuse some of these texts).
 */
export async function sealAs(session, plaintext, nonce) {
  const s = session.s;
  const { index, key } = await s.chain.next();
  const epoch = s.chain.epoch;
  if (typeof plaintext !== "string") {
    return sealBroadcast({ roomId: s.roomId, senderId: s.memberId, epoch, index, key,
      signer: s.signer, plaintext, nonce });
  }
  const aad = messageAad(s.roomId, s.memberId, epoch, index);
  const ct = await aesGcmEncrypt(key, nonce, pad(utf8(plaintext)), aad);
  const sig = await s.signer.sign(concat(aad, nonce, ct));
  return toJson({ e: epoch, i: index, n: b64encode(nonce), ct: b64encode(ct),
    sig: b64encode(sig) });
}

/** A sealed direct body from `from` to `to` around any plaintext text, with `from`'s pair key. */
export async function sealDirectText(session, to, text, nonce) {
  const s = session.s;
  const aad = directAad(s.roomId, s.memberId, to);
  // The channel's send key is private to the core; a hostile client holds its own anyway.
  const key = s.peers.get(to).channel.sendKey;
  const ct = await aesGcmEncrypt(key, nonce, utf8(text), aad);
  return toJson({ k: DIRECT_KIND.SEALED, n: b64encode(nonce), ct: b64encode(ct) });
}
