/**
 * Write tests/vectors/js-generated.json: vectors produced by the JS core, for the Python
 * suite (tests/test_core_js_vectors.py) to reproduce. Run `node tests/js/generate-vectors.mjs`.
 * Every random input comes from SeededRandom(label) (SHA-256(label || u32 counter) blocks,
 * the same stream as tests/vectors/generate.py) and is written out too.
 */

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { messageAad, sealBroadcast, textPlaintext } from "../../frontend/js/core/broadcast.js";
import { b64encode, parseJsonObject, toJson } from "../../frontend/js/core/encoding.js";
import { Handshake } from "../../frontend/js/core/handshake.js";
import {
  directAad, PairChannel, pairKeyBytes, senderKeyPlaintext,
} from "../../frontend/js/core/pairwise.js";
import { passwordScalar, scalarBytes } from "../../frontend/js/core/password.js";
import { step } from "../../frontend/js/core/ratchet.js";
import { normRoomName, roomIdFor } from "../../frontend/js/core/roomid.js";
import { RoomSession } from "../../frontend/js/core/session.js";
import { SigningKey } from "../../frontend/js/core/signing.js";
import { randomScalar } from "../../frontend/js/core/spake2.js";
import { importAesKey } from "../../frontend/js/core/webcrypto.js";
import { Relay, sealAs, sealDirectText } from "./relay.mjs";
import { manualClock, seededRandom, toHexString, VECTORS_DIR } from "./support.mjs";

/** Where the file goes. */
export const OUTPUT = join(VECTORS_DIR, "js-generated.json");

const DESCRIPTION = "Vectors written by the JS core (tests/js/generate-vectors.mjs) that the "
  + "Python core must reproduce exactly (tests/test_core_js_vectors.py). room_ids: {name, "
  + "norm, room_id} as room_id.json. sealed_direct: as sealed_direct.json. broadcast: one body "
  + "at a later chain index: the chain is stepped from ck0_hex to index, then sealed as "
  + "broadcast.json. spake2: a whole handshake between two RoomSession-style members, as "
  + "spake2_session.json. session: a recorded room (a, b, d, e, g right password, c "
  + "wrong): each member is RoomSession(room_name, password, rng=SeededRandom(rng_label), "
  + "clock) with the clock at now_ms of each step (whole seconds); steps are {member, "
  + "now_ms, call, arg, frames, events}: call is receive (arg = the server frame), send_text "
  + "(arg = the text) or tick; frames and events are exactly what the call returned (events "
  + "as {kind, fields} with snake_case names, Joined.members as id -> colour). Its last "
  + "broadcast is a's, sealed around the text \"\\ud800\" (a lone surrogate, not Unicode text): "
  + "every verified reader refuses it as malformed. Then a's client tests section 2.1 on d and "
  + "the room: directs nested too deep, plaintext ts values 1.0, NaN, 1.5, 2^53 and -0.0, a "
  + "broadcast with e and i written N.0, sender keys with epoch N.0, 1.5 or index 2^32.";
const RNG = "Random inputs come from SeededRandom(label): the byte stream SHA-256(label || u32(0)) "
  + "|| SHA-256(label || u32(1)) || ..., read front to back (label is ASCII), as in "
  + "tests/vectors/generate.py. Every value drawn from it is also written out.";
const FORMAT = "Written as JSON.stringify(obj, null, 1) + '\\n'. Byte strings are lowercase "
  + "hex in fields ending _hex, strict unpadded base64url where the protocol sends them that way. "
  + "Bodies are compact JSON.";

const ROOM_NAMES = ["Café Ünïcode", "  Tab\tand\u2003em space ", "ＦＵＬＬ\u3000width",
  "ǅungla", "İstanbul", "ΌΣΟΣ ΣΟΦΌΣ", "ﬀ ligature", "①②③ Ⅻ", "x\u00a0\u00a0y\u2028z",
  "ß", "Mixed\u0085Case\u200aGAP", "ℍ𝕆𝕄𝔼"];

async function roomIds() {
  const out = [];
  for (const name of ROOM_NAMES) {
    out.push({ name, norm: normRoomName(name), room_id: await roomIdFor(name) });
  }
  return out;
}

const memberId = (random) => b64encode(random(16));

async function sealedDirect() {
  const random = seededRandom("js sealed-direct");
  const roomId = await roomIdFor("Café Ünïcode");
  const from = memberId(random);
  const to = memberId(random);
  const key = random(32);
  const nonce = random(12);
  const ck = random(32);
  const plaintext = senderKeyPlaintext(7, 4242, ck);
  const channel = await PairChannel.fromRawKeys(roomId, from, to, key.slice(), new Uint8Array(32));
  return { room_id: roomId, from, to, key_hex: toHexString(key), nonce_hex: toHexString(nonce),
    plaintext: toJson(plaintext), aad_hex: toHexString(directAad(roomId, from, to)),
    body: await channel.seal(plaintext, nonce) };
}

async function broadcast() {
  const random = seededRandom("js broadcast");
  const roomId = await roomIdFor("ΌΣΟΣ ΣΟΦΌΣ");
  const sender = memberId(random);
  const seed = random(32);
  const signer = await SigningKey.generate(() => seed.slice());
  const ck0 = random(32);
  const epoch = 5;
  const index = 3;
  let ck = ck0;
  let mk;
  for (let i = 0; i <= index; i += 1) [mk, ck] = await step(ck);
  const nonce = random(12);
  const text = "JS → Python: «quotes» \"and\" \\ back\u2028slash 🔐 <b>&amp;</b>";
  const ts = 1_764_000_000_123;
  const plaintext = textPlaintext(text, ts);
  const body = await sealBroadcast({ roomId, senderId: sender, epoch, index,
    key: await importAesKey(mk.slice()), signer, plaintext, nonce });
  return { room_id: roomId, sender, seed_hex: toHexString(seed), key: b64encode(signer.publicKey),
    epoch, ck0_hex: toHexString(ck0), index, mk_hex: toHexString(mk),
    nonce_hex: toHexString(nonce), text, ts, plaintext: toJson(plaintext),
    aad_hex: toHexString(messageAad(roomId, sender, epoch, index)), body };
}

async function spake2() {
  const random = seededRandom("js spake2");
  const roomName = "ﬀ ligature";
  const password = "Pässwörd with spaces ";
  const roomId = await roomIdFor(roomName);
  const w = await passwordScalar(password, roomId);
  const ids = [memberId(random), memberId(random)].sort();
  const seeds = [random(32), random(32)];
  const keys = [];
  for (const seed of seeds) keys.push((await SigningKey.generate(() => seed.slice())).publicKey);
  const xDraw = random(40);
  const yDraw = random(40);
  const make = (me, peer) => new Handshake({ roomId, w, me: ids[me], myKey: keys[me],
    peer: ids[peer], peerKey: keys[peer] });
  const a = make(0, 1);
  const b = make(1, 0);
  const pake1 = a.start(() => xDraw.slice(), 0);
  const two = await b.receive(parseJsonObject(pake1), () => yDraw.slice(), 0);
  const three = await a.receive(parseJsonObject(two.reply), () => new Uint8Array(0), 0);
  const four = await b.receive(parseJsonObject(three.reply), () => new Uint8Array(0), 0);
  if (three.outcome !== "verified" || four.outcome !== "verified") throw new Error("no verify");
  return { room_name: roomName, password, room_id: roomId, w_hex: toHexString(scalarBytes(w)),
    member_a: ids[0], member_b: ids[1], seed_a_hex: toHexString(seeds[0]),
    seed_b_hex: toHexString(seeds[1]), key_a: b64encode(keys[0]), key_b: b64encode(keys[1]),
    x_draw_hex: toHexString(xDraw),
    x_hex: toHexString(scalarBytes(randomScalar(() => xDraw.slice()))),
    y_draw_hex: toHexString(yDraw), pake1, pake2: two.reply, pake3: three.reply,
    Ke_hex: toHexString(three.Ke),
    pair_a_to_b_hex: toHexString(await pairKeyBytes(three.Ke, roomId, ids[0], ids[1])),
    pair_b_to_a_hex: toHexString(await pairKeyBytes(three.Ke, roomId, ids[1], ids[0])) };
}

const SNAKE = { memberId: "member_id", firstSeq: "first_seq", lastSeq: "last_seq" };

/** An event as the Python suite writes it: kind plus snake_case fields. */
function eventJson(e) {
  return Object.fromEntries(Object.entries(e).map(([k, v]) => [SNAKE[k] ?? k,
    k === "members" ? { ...v } : v]));
}

/** A relay that records every call it makes on a session, with its exact output. */
class RecordingRelay extends Relay {
  constructor(random, now, names) {
    super(random, now);
    this.names = names;
    this.steps = [];
  }

  record(id, call, arg, result) {
    this.steps.push({ member: this.names.get(this.members.get(id).session), now_ms: this.now(),
      call, arg, frames: result.frames, events: result.events.map(eventJson) });
  }

  async deliver(to, frame) {
    const { session } = this.members.get(to);
    const result = await session.receive(frame);
    this.record(to, "receive", frame, result);
    this.events.get(to).push(...result.events);
    this.route(to, result.frames);
  }

  async say(id, text) {
    const result = await this.members.get(id).session.sendText(text);
    this.record(id, "send_text", text, result);
    this.route(id, result.frames);
    await this.pump();
  }

  async tick() {
    for (const [id, { session }] of this.members) {
      const result = await session.tick();
      this.record(id, "tick", null, result);
      this.route(id, result.frames);
    }
    await this.pump();
  }
}

async function session() {
  const roomName = "The JS Room";
  const now = manualClock(1_764_000_000_000);
  const names = new Map();
  const relay = new RecordingRelay(seededRandom("js session relay"), now, names);
  const members = [["a", "shared secret"], ["b", "shared secret"], ["c", "not the secret"],
    ["d", "shared secret"]];
  const specs = [];
  const ids = {};
  for (const [name, password] of members.slice(0, 3)) {
    const rngLabel = `js session ${name}`;
    const s = await RoomSession.create({ roomName, password, random: seededRandom(rngLabel),
      now });
    names.set(s, name);
    specs.push({ name, password, rng_label: rngLabel });
    ids[name] = await relay.join(s);
    now.advance(1000);
  }
  await relay.say(ids.a, "hello from JS");
  now.advance(1000);
  await relay.say(ids.b, "réponse ✓");
  await relay.say(ids.c, "I should not be read");
  now.advance(11_000);
  await relay.tick();
  // A tampered copy and a replay of a's first message, straight to b.
  const first = relay.log.find((d) => d.to === ids.b && d.frame.type === "message").frame;
  const body = parseJsonObject(first.body);
  await relay.deliver(ids.b, { ...first, seq: relay.seq + 1,
    body: toJson({ ...body, i: body.i + 1 }) });
  relay.seq += 1;
  await relay.deliver(ids.b, first);
  // d joins while every direct to or from it is lost: handshakes stall, a's text waits.
  ids.d = b64encode(relay.random(16));
  relay.filter = (to, frame) => (frame.type === "direct" && (to === ids.d || frame.from === ids.d)
    ? null : frame);
  const d = await RoomSession.create({ roomName, password: members[3][1],
    random: seededRandom("js session d"), now });
  names.set(d, "d");
  specs.push({ name: "d", password: members[3][1], rng_label: "js session d" });
  await relay.join(d, ids.d);
  await relay.say(ids.a, "while d waits");
  now.advance(11_000);
  await relay.tick();
  now.advance(20_000);
  await relay.tick();
  // The network heals; d's connection blips and resumes, re-sending its pending pake1 to a
  // and b as it was (the resume restarts neither), so each answers once and d verifies both.
  relay.filter = (_to, frame) => frame;
  await relay.resume(ids.d);
  // c's resume fails: it comes back under a new id; the others retry stalled handshakes.
  now.advance(1000);
  ids.c = await relay.rejoin(ids.c);
  await relay.say(ids.d, "d is in");
  // b's last text reaches the server just after b's leave: a still reads it for 10 s.
  const late = await relay.members.get(ids.b).session.sendText("b's last words");
  relay.record(ids.b, "send_text", "b's last words", late);
  await relay.leave(ids.b);
  relay.route(ids.b, late.frames);
  await relay.pump();
  // e joins; its handshakes are delayed past a's next text, which e therefore cannot read.
  const delayed = [];
  relay.filter = (to, frame) => {
    if (frame.type !== "direct" || (to !== ids.e && frame.from !== ids.e)) return frame;
    delayed.push({ to, frame });
    return null;
  };
  const e = await RoomSession.create({ roomName, password: "shared secret",
    random: seededRandom("js session e"), now });
  names.set(e, "e");
  specs.push({ name: "e", password: "shared secret", rng_label: "js session e" });
  ids.e = b64encode(relay.random(16));
  await relay.join(e, ids.e);
  await relay.say(ids.a, "sent before e had the key");
  relay.filter = (_to, frame) => frame;
  relay.queue.push(...delayed);
  await relay.pump();
  now.advance(1000);
  await relay.say(ids.a, "after b left");
  now.advance(31_000);
  await relay.tick();
  // g joins while every direct to it waits at the server. Its connection blips; on resuming
  // it re-sends its pending pake1 frames, which overtake nothing: the held answers arrive
  // first, then each peer answers the repeat with the same pake2, so both sides still agree.
  const g = await RoomSession.create({ roomName, password: "shared secret",
    random: seededRandom("js session g"), now });
  names.set(g, "g");
  specs.push({ name: "g", password: "shared secret", rng_label: "js session g" });
  ids.g = b64encode(relay.random(16));
  const waiting = [];
  relay.filter = (to, frame) => {
    if (frame.type !== "direct" || to !== ids.g) return frame;
    waiting.push({ to, frame });
    return null;
  };
  await relay.join(g, ids.g);
  relay.filter = (_to, frame) => frame;
  await relay.resume(ids.g, waiting);
  // a blips too: it re-sends its sender key to every verified peer, which each ignore.
  await relay.resume(ids.a);
  await relay.say(ids.g, "g is in");
  // Last, as a's chain moves outside any recorded call: a's client seals a text that is not
  // Unicode text (a lone surrogate, which sendText refuses). Every verified reader refuses
  // it as malformed and shows nothing; a itself sees no echo it sent.
  const notText = await sealAs(relay.members.get(ids.a).session,
    textPlaintext("\ud800", now()), relay.random(12));
  relay.route(ids.a, [{ type: "broadcast", body: notText }]);
  await relay.pump();
  await peerNumbersAndNesting(relay, relay.members.get(ids.a).session, ids.a, ids.d);
  return { room_name: roomName, members: specs, steps: relay.steps };
}

/**
 * Section 2.1's rules for JSON from a peer, as a's hostile client tests them on d and the
 * room: directs nested too deep (malformed) or just deep enough (ignored kind); plaintexts
 * whose ts is 1.0 (read as 1), NaN, 1.5 or past 2^53 (malformed); a broadcast whose e and i
 * are written 5.0; sender keys whose epoch is written 3.0 (the held one: ignored) or 1.5.
 */
async function peerNumbersAndNesting(relay, a, idA, idD) {
  const nest = (n) => "[".repeat(n) + "]".repeat(n);
  const directs = ["[".repeat(2000), `{"k":"x","d":${nest(2000)}}`, `{"k":"x","d":${nest(8)}}`,
    `{"k":"x","d":${nest(7)}}`];
  relay.route(idA, directs.map((body) => ({ type: "direct", to: idD, body })));
  await relay.pump();
  for (const ts of ["1.0", "NaN", "1.5", "9007199254740992", "-0.0"]) {
    const body = await sealAs(a, `{"t":"text","body":"ts ${ts}","ts":${ts}}`, relay.random(12));
    relay.route(idA, [{ type: "broadcast", body }]);
  }
  const fields = parseJsonObject(await sealAs(a, textPlaintext("e and i as 5.0", 7),
    relay.random(12)));
  relay.route(idA, [{ type: "broadcast", body: toJson(fields)
    .replace(`"e":${fields.e},`, `"e":${fields.e}.0,`)
    .replace(`"i":${fields.i},`, `"i":${fields.i}.0,`) }]);
  await relay.pump();
  const { epoch } = a.s.chain;
  const ck = b64encode(relay.random(32));
  for (const [e, i] of [[`${epoch}.0`, "0.0"], ["1.5", "0"], [`${epoch}`, "4294967296"]]) {
    const plain = `{"k":"sender_key","epoch":${e},"index":${i},"ck":"${ck}"}`;
    const body = await sealDirectText(a, idD, plain, relay.random(12));
    relay.route(idA, [{ type: "direct", to: idD, body }]);
  }
  await relay.pump();
}

/** Build the whole vector object. */
export async function buildVectors() {
  return { description: DESCRIPTION, rng: RNG, format: FORMAT, room_ids: await roomIds(),
    sealed_direct: await sealedDirect(), broadcast: await broadcast(), spake2: await spake2(),
    session: await session() };
}

/** The exact file text. */
export async function render() {
  return JSON.stringify(await buildVectors(), null, 1) + "\n";
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(OUTPUT, await render());
  console.log(`wrote ${OUTPUT}`);
}
