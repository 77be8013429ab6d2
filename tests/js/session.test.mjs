/** RoomSession in memory: rooms of 2 and 3, wrong passwords, leaves, tampering and replays. */

import assert from "node:assert/strict";
import { test } from "node:test";

import { EVENT } from "../../frontend/js/core/constants.js";
import { b64decode, b64encode, parseJsonObject, toJson } from "../../frontend/js/core/encoding.js";
import { UsageError } from "../../frontend/js/core/errors.js";
import { RoomSession } from "../../frontend/js/core/session.js";
import { Relay } from "./relay.mjs";
import { manualClock, seededRandom } from "./support.mjs";

/** A relay and a clock shared by sessions made with `member`. */
function room(label) {
  const now = manualClock();
  const relay = new Relay(seededRandom(`${label} relay`), now);
  const member = async (name, password = "correct horse", id = undefined) => {
    const session = await RoomSession.create({ roomName: "Kitchen", password,
      random: seededRandom(`${label} ${name}`), now });
    return relay.join(session, id);
  };
  return { now, relay, member };
}

const texts = (relay, id) => relay.kinds(id, EVENT.MESSAGE_RECEIVED).map((e) => [e.sender, e.text]);

test("two members verify each other with matching fingerprints and talk both ways", async () => {
  const { relay, member } = room("two");
  const a = await member("a");
  const b = await member("b");
  const [va] = relay.kinds(a, EVENT.PEER_VERIFIED);
  const [vb] = relay.kinds(b, EVENT.PEER_VERIFIED);
  assert.equal(va.memberId, b);
  assert.equal(vb.memberId, a);
  const sa = relay.members.get(a).session;
  const sb = relay.members.get(b).session;
  assert.equal(va.fingerprint, await sb.fingerprint());
  assert.equal(vb.fingerprint, await sa.fingerprint());
  assert.equal(await sa.fingerprint(b), va.fingerprint);
  await relay.say(a, "hello from a");
  await relay.say(b, "und zurück 🔐");
  assert.deepEqual(texts(relay, b), [[a, "hello from a"], [b, "und zurück 🔐"]]);
  assert.deepEqual(texts(relay, a), [[a, "hello from a"], [b, "und zurück 🔐"]]);
  assert.deepEqual(relay.kinds(a, EVENT.MESSAGE_SENT).map((e) => e.seq), [1]);
  const own = relay.kinds(a, EVENT.MESSAGE_RECEIVED)[0];
  assert.equal(own.own, true);
  assert.equal(relay.kinds(b, EVENT.MESSAGE_RECEIVED)[0].own, false);
  assert.deepEqual(relay.kinds(a, EVENT.REJECTED), []);
  assert.deepEqual(relay.kinds(b, EVENT.REJECTED), []);
});

test("three members all verify pairwise and each reads the other two", async () => {
  const { relay, member } = room("three");
  const ids = [await member("a"), await member("b"), await member("c")];
  for (const id of ids) {
    const peers = relay.kinds(id, EVENT.PEER_VERIFIED).map((e) => e.memberId).sort();
    assert.deepEqual(peers, ids.filter((x) => x !== id).sort());
  }
  for (const [n, id] of ids.entries()) await relay.say(id, `from ${n}`);
  for (const id of ids) {
    assert.deepEqual(texts(relay, id), ids.map((sender, n) => [sender, `from ${n}`]));
  }
});

test("a newcomer reads only what is sent after it joined", async () => {
  const { relay, member } = room("newcomer");
  const a = await member("a");
  const b = await member("b");
  await relay.say(a, "before c");
  const c = await member("c");
  await relay.say(a, "after c");
  assert.deepEqual(texts(relay, c), [[a, "after c"]]);
  assert.deepEqual(texts(relay, b), [[a, "before c"], [a, "after c"]]);
});

test("a wrong password fails on both sides and its messages are never shown", async () => {
  const { relay, member, now } = room("wrong");
  const a = await member("a");
  const b = await member("b");
  const c = await member("c", "wrong horse");
  for (const [x, y] of [[a, c], [b, c], [c, a], [c, b]]) {
    const failed = relay.kinds(x, EVENT.PEER_FAILED).filter((e) => e.memberId === y);
    assert.equal(failed.length, 1, `${x} sees ${y} fail`);
    assert.equal(failed[0].reason, "wrong_password");
  }
  assert.equal(relay.kinds(c, EVENT.PEER_VERIFIED).length, 0);
  await relay.say(c, "let me in");
  await relay.say(a, "members only");
  assert.deepEqual(texts(relay, a), [[a, "members only"]]);
  assert.deepEqual(texts(relay, b), [[a, "members only"]]);
  assert.deepEqual(texts(relay, c), [[c, "let me in"]]);
  now.advance(30_001);
  await relay.tick();
  assert.deepEqual(relay.kinds(a, EVENT.GAP).map((g) => [g.firstSeq, g.reason]), [[1, "expired"]]);
  assert.deepEqual(relay.kinds(c, EVENT.GAP).map((g) => [g.firstSeq, g.reason]), [[2, "expired"]]);
});

test("a leave rotates keys once and the leaver cannot read what follows", async () => {
  const { relay, member } = room("leave");
  const a = await member("a");
  const b = await member("b");
  const c = await member("c");
  const cSession = relay.members.get(c).session;
  await relay.leave(c);
  assert.deepEqual(relay.kinds(a, EVENT.KEYS_ROTATED).map((e) => e.epoch), [1]);
  assert.deepEqual(relay.kinds(b, EVENT.KEYS_ROTATED).map((e) => e.epoch), [1]);
  assert.deepEqual(relay.kinds(a, EVENT.MEMBER_LEFT).map((e) => e.memberId), [c]);
  const sent = relay.log.length;
  await relay.say(a, "after c left");
  assert.deepEqual(texts(relay, b).at(-1), [a, "after c left"]);
  // Hand the leaver the frame anyway (as a hostile server could): it stays unreadable.
  const message = relay.log.slice(sent).find((d) => d.frame.type === "message").frame;
  const { events } = await cSession.receive(message);
  assert.equal(events.filter((e) => e.kind === EVENT.MESSAGE_RECEIVED).length, 0);
});

test("the leave of a member that never verified causes no rotation", async () => {
  const { relay, member } = room("noverify");
  const a = await member("a");
  const b = await member("b");
  const c = await member("c", "wrong");
  await relay.leave(c);
  assert.deepEqual(relay.kinds(a, EVENT.KEYS_ROTATED), []);
  assert.deepEqual(relay.kinds(b, EVENT.KEYS_ROTATED), []);
});

/** A room of two where a's next broadcast passes through `alter` on its way to b. */
async function alteredTo(label, alter) {
  const { relay, member } = room(label);
  const a = await member("a");
  const b = await member("b");
  relay.filter = (to, frame) => (to === b && frame.type === "message" && frame.from === a
    ? alter(frame) : frame);
  await relay.say(a, "original");
  return { relay, a, b };
}

/** Change one base64url field of a broadcast body by flipping a bit. */
function flip(frame, field) {
  const body = parseJsonObject(frame.body);
  const bytes = b64decode(body[field]);
  bytes[0] ^= 1;
  return { ...frame, body: toJson({ ...body, [field]: b64encode(bytes) }) };
}

test("a tampered ciphertext or signature is rejected and nothing is shown", async () => {
  for (const field of ["ct", "sig", "n"]) {
    const { relay, b } = await alteredTo(`tamper ${field}`, (f) => flip(f, field));
    assert.deepEqual(texts(relay, b), []);
    assert.deepEqual(relay.kinds(b, EVENT.REJECTED).map((e) => e.reason), ["bad_signature"]);
  }
});

test("a broadcast relabelled with another sender is rejected", async () => {
  const { relay, member } = room("relabel");
  const a = await member("a");
  const b = await member("b");
  const c = await member("c");
  relay.filter = (to, frame) => (to === c && frame.type === "message" && frame.from === a
    ? { ...frame, from: b } : frame);
  await relay.say(a, "mine");
  assert.deepEqual(texts(relay, c), []);
  assert.deepEqual(relay.kinds(c, EVENT.REJECTED).map((e) => e.reason), ["bad_signature"]);
});

test("replayed frames are rejected, with the same seq or a new one", async () => {
  const { relay, member } = room("replay");
  const a = await member("a");
  const b = await member("b");
  await relay.say(a, "once");
  const original = relay.log.find((d) => d.to === b && d.frame.type === "message").frame;
  await relay.deliver(b, original);
  await relay.deliver(b, { ...original, seq: original.seq + 1 });
  assert.deepEqual(texts(relay, b), [[a, "once"]]);
  assert.deepEqual(relay.kinds(b, EVENT.REJECTED).map((e) => e.reason), ["replay", "replay"]);
});

test("a skipped seq is reported as a gap", async () => {
  const { relay, a, b } = await alteredTo("gap", (f) => ({ ...f, seq: f.seq + 2 }));
  assert.deepEqual(texts(relay, b), [[a, "original"]]);
  assert.deepEqual(relay.kinds(b, EVENT.GAP).map((g) => [g.firstSeq, g.lastSeq, g.reason]),
    [[1, 2, "missing"]]);
});

test("a broadcast that arrives before its sender key is held, then shown", async () => {
  const { relay, member } = room("held");
  const a = await member("a");
  let heldKey = null;
  relay.filter = (to, frame) => {
    // Hold back the first sealed direct from a to the newcomer until a has spoken.
    if (frame.type === "direct" && frame.from === a && heldKey === null
      && frame.body.includes('"sealed"')) {
      heldKey = { to, frame };
      return null;
    }
    return frame;
  };
  const b = await member("b");
  await relay.say(a, "early");
  assert.deepEqual(texts(relay, b), []);
  relay.filter = (_to, frame) => frame;
  await relay.deliver(heldKey.to, heldKey.frame);
  assert.deepEqual(texts(relay, b), [[a, "early"]]);
});

test("a handshake with no answer is reported as not answering after 10 s", async () => {
  const { relay, member, now } = room("silent");
  const a = await member("a");
  relay.filter = (to, frame) => (frame.type === "direct" ? null : frame);
  const b = await member("b");
  now.advance(9_999);
  await relay.tick();
  assert.deepEqual(relay.kinds(a, EVENT.PEER_NOT_ANSWERING), []);
  now.advance(2);
  await relay.tick();
  const lower = a < b ? a : b;
  const higher = a < b ? b : a;
  assert.deepEqual(relay.kinds(lower, EVENT.PEER_NOT_ANSWERING).map((e) => e.memberId), [higher]);
  assert.deepEqual(relay.kinds(lower, EVENT.PEER_FAILED), []);
});

test("after five failures in a minute new pake1 frames are refused", async () => {
  const { relay, member, now } = room("ratelimit");
  // The highest base64url id ("z" is the largest code point): every newcomer sorts lower,
  // so it is A and sends pake1.
  const a = await member("a", "correct horse", "z".repeat(22));
  for (let n = 0; n < 7; n += 1) await member(`x${n}`, `guess ${n}`);
  assert.equal(relay.kinds(a, EVENT.PEER_FAILED).length, 5);
  assert.equal(relay.kinds(a, EVENT.HANDSHAKE_REFUSED).length, 2);
  now.advance(60_001);
  await member("late", "guess late");
  assert.equal(relay.kinds(a, EVENT.PEER_FAILED).length, 6);
  const friend = await member("friend");
  assert.deepEqual(relay.kinds(a, EVENT.PEER_VERIFIED).map((e) => e.memberId), [friend]);
});

test("malformed frames become rejections, never exceptions", async () => {
  const { relay, member } = room("bad");
  const a = await member("a");
  const session = relay.members.get(a).session;
  for (const frame of [null, 5, [], "text", { type: "nope" }, { type: "message", seq: -1 },
    { type: "presence", joins: [] }, { type: "direct", from: "x", body: "{}" },
    { type: "welcome", v: 2 }]) {
    const { events, frames } = await session.receive(frame);
    assert.deepEqual(frames, []);
    assert.equal(events.length, 1);
    assert.equal(events[0].kind, EVENT.REJECTED);
  }
  const { events } = await session.receive({ type: "error", code: "rate_limited",
    message: "Slow down." });
  assert.deepEqual(events, [{ kind: EVENT.SERVER_ERROR, code: "rate_limited",
    message: "Slow down." }]);
});

test("sendText refuses texts over 16 384 bytes and use before the welcome", async () => {
  const early = await RoomSession.create({ roomName: "k", password: "p",
    random: seededRandom("early") });
  await assert.rejects(early.sendText("hi"), UsageError);
  const { relay, member } = room("long");
  const a = await member("a");
  const session = relay.members.get(a).session;
  await assert.rejects(session.sendText("é".repeat(8193)), UsageError);
  const { frames } = await session.sendText("é".repeat(8192));
  assert.equal(frames.length, 1);
});

test("wipe forgets keys: the session can no longer send", async () => {
  const { relay, member } = room("wipe");
  const a = await member("a");
  const session = relay.members.get(a).session;
  session.wipe();
  await assert.rejects(session.sendText("after wipe"));
});
