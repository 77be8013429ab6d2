/** RoomSession in memory: peer JSON nested too deep, and numbers as both cores read them. */

import assert from "node:assert/strict";
import { test } from "node:test";

import { EVENT } from "../../frontend/js/core/constants.js";
import { b64encode, parseJsonObject, toJson } from "../../frontend/js/core/encoding.js";
import { room, sealAs, sealDirectText, texts } from "./relay.mjs";

const reasons = (relay, id) => relay.kinds(id, EVENT.REJECTED).map((e) => e.reason);

test("deeply nested direct bodies are malformed, never an exception", async () => {
  const { relay, member } = room("deep direct");
  const a = await member("a");
  const b = await member("b");
  const bodies = ["[".repeat(2000), `{"k":"x","d":${"[".repeat(2000)}${"]".repeat(2000)}}`,
    `{"k":"pake1","pA":${'{"a":'.repeat(5000)}{}${"}".repeat(5001)}`,
    `{"k":"x","d":${"[".repeat(8)}${"]".repeat(8)}}`];
  for (const body of bodies) await relay.deliver(b, { type: "direct", from: a, body });
  assert.deepEqual(reasons(relay, b), Array(bodies.length).fill("malformed"));
  await relay.deliver(b, { type: "direct", from: a, body: '{"k":"x","d":[]}' });
  await relay.deliver(b, { type: "direct", from: a,
    body: `{"k":"x","d":${"[".repeat(7)}${"]".repeat(7)}}` });
  assert.equal(reasons(relay, b).length, bodies.length);
  await relay.say(a, "still talking");
  assert.deepEqual(texts(relay, b), [[a, "still talking"]]);
});

test("plaintext numbers: 1.0 is 1; fractions, NaN, Infinity, unsafe integers are malformed",
  async () => {
    const { relay, member } = room("plain numbers");
    const a = await member("a");
    const b = await member("b");
    const session = relay.members.get(a).session;
    const good = ['{"t":"text","body":"one","ts":1.0}', '{"t":"text","body":"e","ts":1e3}'];
    const bad = ['{"t":"text","body":"x","ts":1.5}', '{"t":"text","body":"x","ts":NaN}',
      '{"t":"text","body":"x","ts":Infinity}', '{"t":"text","body":"x","ts":9007199254740992}',
      '{"t":"text","body":"x","ts":-9007199254740992}',
      `{"t":"text","body":"x","ts":${"9".repeat(400)}}`,
      `{"t":"text","body":"x","ts":1,"deep":${"[".repeat(8)}${"]".repeat(8)}}`,
      `{"t":"text","body":"x","ts":1,"deep":${"[".repeat(3000)}${"]".repeat(3000)}}`];
    for (const [n, text] of [...good, ...bad].entries()) {
      const body = await sealAs(session, text, new Uint8Array(12).fill(n));
      relay.route(a, [{ type: "broadcast", body }]);
    }
    await relay.pump();
    const read = relay.kinds(b, EVENT.MESSAGE_RECEIVED).map((e) => [e.text, e.ts]);
    assert.deepEqual(read, [["one", 1], ["e", 1000]]);
    assert.deepEqual(reasons(relay, b), Array(bad.length).fill("malformed"));
  });

test("integral floats in broadcast and sender-key fields are the integers they stand for",
  async () => {
    const { relay, member } = room("float fields");
    const a = await member("a");
    const b = await member("b");
    const session = relay.members.get(a).session;
    const body = parseJsonObject(await sealAs(session, '{"t":"text","body":"f","ts":2}',
      new Uint8Array(12)));
    const text = toJson(body).replace(`"e":${body.e},`, `"e":${body.e}.0,`)
      .replace(`"i":${body.i},`, `"i":${body.i}.0,`);
    assert.ok(text.includes(".0,"));
    relay.route(a, [{ type: "broadcast", body: text }]);
    await relay.pump();
    assert.deepEqual(texts(relay, b), [[a, "f"]]);
    const ck = b64encode(new Uint8Array(32));
    const payloads = [`{"k":"sender_key","epoch":0.0,"index":0.0,"ck":"${ck}"}`,
      `{"k":"sender_key","epoch":1.5,"index":0,"ck":"${ck}"}`,
      `{"k":"sender_key","epoch":4294967296,"index":0,"ck":"${ck}"}`,
      `{"k":"sender_key","epoch":NaN,"index":0,"ck":"${ck}"}`];
    for (const [n, payload] of payloads.entries()) {
      const sealed = await sealDirectText(session, b, payload, new Uint8Array(12).fill(n));
      await relay.deliver(b, { type: "direct", from: a, body: sealed });
    }
    assert.deepEqual(reasons(relay, b), ["bad_direct", "bad_direct", "bad_direct"]);
    assert.deepEqual([...relay.members.get(b).session.s.peers.get(a).chains.keys()], [0]);
  });
