/** RoomSession in memory: rooms of 2 and 3, wrong passwords, leaves and key rotation. */

import assert from "node:assert/strict";
import { test } from "node:test";

import { EVENT } from "../../frontend/js/core/constants.js";
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
