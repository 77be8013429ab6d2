/** RoomSession in memory: rooms of 2 and 3, wrong passwords, leaves and key rotation. */

import assert from "node:assert/strict";
import { test } from "node:test";

import { EVENT } from "../../frontend/js/core/constants.js";
import { parseJsonObject } from "../../frontend/js/core/encoding.js";
import { room, texts } from "./relay.mjs";

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
  const { relay, member } = room("wrong");
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
  const gaps = (id) => relay.kinds(id, EVENT.GAP).map((g) => [g.firstSeq, g.lastSeq, g.reason]);
  assert.deepEqual(gaps(a), [[1, 1, "sender_unverified"]]);
  assert.deepEqual(gaps(b), [[1, 1, "sender_unverified"]]);
  assert.deepEqual(gaps(c), [[2, 2, "sender_unverified"]]);
  assert.deepEqual(relay.kinds(a, EVENT.REJECTED).map((e) => [e.memberId, e.reason]),
    [[c, "unverified_sender"]]);
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

test("a leaver's text still in flight is read for 10 s after its leave", async () => {
  const { relay, member, now } = room("departed");
  const a = await member("a");
  const b = await member("b");
  const bSession = relay.members.get(b).session;
  const early = await bSession.sendText("just before leaving");
  const late = await bSession.sendText("too late");
  await relay.leave(b);
  relay.route(b, early.frames);
  await relay.pump();
  assert.deepEqual(texts(relay, a), [[b, "just before leaving"]]);
  now.advance(10_000);
  await relay.tick();
  relay.route(b, late.frames);
  await relay.pump();
  assert.deepEqual(texts(relay, a), [[b, "just before leaving"]]);
  assert.deepEqual(relay.kinds(a, EVENT.REJECTED).map((e) => e.reason), ["unknown_sender"]);
});

test("a text sent before our copy of the sender key is a before_key gap", async () => {
  const { relay, member } = room("beforekey");
  const a = await member("a");
  // Every direct waits, so a seals its text before the handshake with b completes.
  const delayed = [];
  relay.filter = (to, frame) => {
    if (frame.type !== "direct") return frame;
    delayed.push({ to, frame });
    return null;
  };
  const b = await member("b");
  await relay.say(a, "before b had the key");
  relay.filter = (to, frame) => frame;
  relay.queue.push(...delayed);
  await relay.pump();
  assert.equal(relay.kinds(b, EVENT.PEER_VERIFIED).length, 1);
  await relay.say(a, "after");
  assert.deepEqual(texts(relay, b), [[a, "after"]]);
  assert.deepEqual(relay.kinds(b, EVENT.GAP).map((g) => [g.firstSeq, g.lastSeq, g.reason]),
    [[1, 1, "before_key"]]);
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

/** A room of two whose directs matching `lose(to, frame)` are lost (kept in `lost`). */
async function pairLosing(label, lose) {
  const { relay, member, now } = room(label);
  const lost = [];
  relay.filter = (to, frame) => {
    if (frame.type !== "direct" || !lose(to, frame)) return frame;
    lost.push({ to, frame });
    return null;
  };
  const ids = [await member("a"), await member("b")].sort();
  relay.filter = (_to, frame) => frame;
  return { relay, member, now, lost, low: ids[0], high: ids[1] };
}

/** The kinds of the direct bodies delivered to `to` from `from` since log entry `mark`. */
const directKinds = (relay, mark, from, to) => relay.log.slice(mark)
  .filter((d) => d.to === to && d.frame.type === "direct" && d.frame.from === from)
  .map((d) => parseJsonObject(d.frame.body).k);

test("a resumed A re-sends its pending pake1 and starts no second one", async () => {
  const { relay, now, lost, low, high } = await pairLosing("stalled", () => true);
  now.advance(11_000);
  await relay.tick();
  assert.deepEqual(relay.kinds(low, EVENT.PEER_NOT_ANSWERING).map((e) => e.memberId), [high]);
  const pending = lost.find((d) => d.to === high).frame.body;
  const mark = relay.log.length;
  await relay.resume(low);
  const resent = relay.log.slice(mark).filter((d) => d.to === high
    && d.frame.type === "direct" && parseJsonObject(d.frame.body).k === "pake1");
  assert.deepEqual(resent.map((d) => d.frame.body), [pending]);
  for (const [me, them] of [[low, high], [high, low]]) {
    assert.deepEqual(relay.kinds(me, EVENT.PEER_VERIFIED).map((e) => e.memberId), [them]);
    assert.deepEqual(relay.kinds(me, EVENT.PEER_FAILED), []);
  }
});

test("a step re-sent after a resume gets a fresh deadline and is retried later", async () => {
  const { relay, member, now, low, high } = await pairLosing("stalled again", () => true);
  now.advance(11_000);
  await relay.tick();
  relay.filter = (_to, frame) => (frame.type === "direct" ? null : frame);
  await relay.resume(low);
  now.advance(10_000);
  await relay.tick();
  assert.deepEqual(relay.kinds(low, EVENT.PEER_NOT_ANSWERING).map((e) => e.memberId),
    [high, high]);
  relay.filter = (_to, frame) => frame;
  await member("c");
  assert.ok(relay.kinds(low, EVENT.PEER_VERIFIED).some((e) => e.memberId === high));
});

/** Loses B's pake2 (the only one in a room of two). */
const pake2 = (_to, frame) => frame.body.includes('"pake2"');

test("B answers a repeated pake1 with the same pake2, so a late first answer fits", async () => {
  const { relay, lost, low, high } = await pairLosing("repeat", pake2);
  assert.deepEqual(lost.map((d) => parseJsonObject(d.frame.body).k), ["pake2"]);
  const mark = relay.log.length;
  // The server delivers the pake2 it held for A right after A's resumed welcome.
  await relay.resume(low, lost);
  const answers = relay.log.slice(mark).filter((d) => d.to === low && d.frame.type === "direct"
    && parseJsonObject(d.frame.body).k === "pake2").map((d) => d.frame.body);
  assert.equal(answers.length, 2);
  assert.equal(answers[0], answers[1]);
  assert.deepEqual(directKinds(relay, mark, low, high), ["pake1", "pake3", "sealed"]);
  for (const [me, them] of [[low, high], [high, low]]) {
    assert.deepEqual(relay.kinds(me, EVENT.PEER_VERIFIED).map((e) => e.memberId), [them]);
    assert.deepEqual(relay.kinds(me, EVENT.PEER_FAILED), []);
  }
});

test("a repeated pake1 is answered even past the failure limit", async () => {
  const { relay, member, low, high } = await pairLosing("repeat limit", pake2);
  for (let n = 0; n < 5; n += 1) await member(`bad ${n}`, `guess ${n}`);
  assert.equal(relay.kinds(high, EVENT.PEER_FAILED).length, 5);
  const pake1 = relay.log.find((d) => d.to === high && d.frame.from === low).frame;
  const { frames, events } = await relay.members.get(high).session.receive(pake1);
  assert.deepEqual(events, []);
  assert.deepEqual(frames.map((f) => parseJsonObject(f.body).k), ["pake2"]);
});

test("after a resume a member re-sends its sender key, so a key lost in flight is recovered",
  async () => {
    const { relay, member } = room("lost key");
    const a = await member("a");
    relay.filter = (_to, frame) => (frame.type === "direct" && frame.from === a
      && frame.body.includes('"sealed"') ? null : frame);
    const b = await member("b");
    relay.filter = (_to, frame) => frame;
    assert.deepEqual(relay.kinds(b, EVENT.PEER_VERIFIED).map((e) => e.memberId), [a]);
    const mark = relay.log.length;
    await relay.resume(a);
    assert.deepEqual(directKinds(relay, mark, a, b), ["sealed"]);
    await relay.say(a, "after the blip");
    assert.deepEqual(texts(relay, b), [[a, "after the blip"]]);
    // The same re-send to a peer that already holds the key changes nothing there.
    const before = relay.events.get(a).length;
    await relay.resume(b);
    assert.deepEqual(relay.events.get(a).slice(before), []);
    await relay.say(b, "still fine");
    assert.deepEqual(texts(relay, a), [[a, "after the blip"], [b, "still fine"]]);
  });
