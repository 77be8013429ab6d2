/** RoomSession in memory: tampered, replayed, held, late and malformed frames, and limits. */

import assert from "node:assert/strict";
import { test } from "node:test";

import { EVENT } from "../../frontend/js/core/constants.js";
import { b64decode, b64encode, parseJsonObject, toJson } from "../../frontend/js/core/encoding.js";
import { UsageError } from "../../frontend/js/core/errors.js";
import { RoomSession } from "../../frontend/js/core/session.js";
import { room, sealAs, texts } from "./relay.mjs";
import { seededRandom } from "./support.mjs";

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
  assert.deepEqual(relay.kinds(b, EVENT.REJECTED).map((e) => e.reason), ["replayed", "replayed"]);
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
    // Hold back the newcomer's sealed direct to a until the newcomer has spoken.
    if (frame.type === "direct" && frame.from !== a && heldKey === null
      && frame.body.includes('"sealed"')) {
      heldKey = { to, frame };
      return null;
    }
    return frame;
  };
  const b = await member("b");
  await relay.say(b, "early");
  assert.deepEqual(texts(relay, a), []);
  relay.filter = (_to, frame) => frame;
  await relay.deliver(heldKey.to, heldKey.frame);
  assert.deepEqual(texts(relay, a), [[b, "early"]]);
});

test("a broadcast whose key never comes is dropped after 30 s as a key_missing gap", async () => {
  const { relay, member, now } = room("keymissing");
  const a = await member("a");
  relay.filter = (to, frame) => (to === a && frame.type === "direct"
    && frame.body.includes('"sealed"') ? null : frame);
  const b = await member("b");
  await relay.say(b, "lost");
  now.advance(29_999);
  await relay.tick();
  assert.deepEqual(relay.kinds(a, EVENT.GAP), []);
  now.advance(1);
  await relay.tick();
  assert.deepEqual(relay.kinds(a, EVENT.GAP).map((g) => [g.firstSeq, g.reason]),
    [[1, "key_missing"]]);
  assert.deepEqual(texts(relay, a), []);
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
  // Nearly the highest canonical id ("z" is the largest base64url character; the last one
  // must leave 4 bits clear): every newcomer sorts lower, so it is A and sends pake1.
  const a = await member("a", "correct horse", "z".repeat(21) + "w");
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

test("a plaintext that is not Unicode text is malformed, never shown, and uses up its key",
  async () => {
    const { relay, member } = room("surrogate");
    const a = await member("a");
    const b = await member("b");
    const session = relay.members.get(a).session;
    const plaintexts = [{ t: "text", body: "\ud800", ts: 1 },
      { t: "text", body: "fine", ts: 1, x: { "\udc00": 0 } }, { t: "typing", v: ["\udbff"] }];
    const bodies = [];
    for (const [n, p] of plaintexts.entries()) {
      bodies.push(await sealAs(session, p, new Uint8Array(12).fill(n)));
    }
    for (const body of bodies) relay.route(a, [{ type: "broadcast", body }]);
    await relay.pump();
    assert.deepEqual(texts(relay, b), []);
    assert.deepEqual(relay.kinds(b, EVENT.REJECTED).map((e) => e.reason),
      ["malformed", "malformed", "malformed"]);
    // Authentic frames: their keys are spent, so a copy is a replay, and the chain goes on.
    relay.route(a, [{ type: "broadcast", body: bodies[0] }]);
    await relay.say(a, "after them");
    assert.equal(relay.kinds(b, EVENT.REJECTED).at(-1).reason, "replayed");
    assert.deepEqual(texts(relay, b), [[a, "after them"]]);
  });

test("sendText refuses a lone surrogate with a readable UsageError and sends nothing",
  async () => {
    const { relay, member } = room("surrogate send");
    const a = await member("a");
    const b = await member("b");
    const session = relay.members.get(a).session;
    for (const text of ["\ud800", "x\udfffy", "\ude00\ud83d"]) {
      await assert.rejects(session.sendText(text), (err) => err instanceof UsageError
        && /lone surrogate/.test(err.message));
    }
    await relay.say(a, "\ud83d\ude00 ok");
    assert.deepEqual(texts(relay, b), [[a, "😀 ok"]]);
  });

test("a direct body or sealed plaintext that is not Unicode text is refused", async () => {
  const { relay, member } = room("surrogate direct");
  const a = await member("a");
  const b = await member("b");
  const receiver = relay.members.get(b).session;
  for (const body of ['{"k":"pake1","pA":"\\ud800"}', '{"k":"later","x":"\ud800"}']) {
    await relay.deliver(b, { type: "direct", from: a, body });
  }
  assert.deepEqual(relay.kinds(b, EVENT.REJECTED).map((e) => e.reason),
    ["malformed", "malformed"]);
  const channel = relay.members.get(a).session.s.peers.get(b).channel;
  const sealed = await channel.seal({ k: "sender_key", epoch: 9, index: 0,
    ck: b64encode(new Uint8Array(32)), x: "\udfff" }, new Uint8Array(12));
  await relay.deliver(b, { type: "direct", from: a, body: sealed });
  assert.equal(relay.kinds(b, EVENT.REJECTED).at(-1).reason, "bad_direct");
  assert.ok(!receiver.s.peers.get(a).chains.has(9));
});
