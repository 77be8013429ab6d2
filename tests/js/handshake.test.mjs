/** The per-peer handshake machine and the Ed25519 public-key check, in isolation. */

import assert from "node:assert/strict";
import { test } from "node:test";

import { b64encode, parseJsonObject, toJson } from "../../frontend/js/core/encoding.js";
import { Handshake, STATE } from "../../frontend/js/core/handshake.js";
import { isEd25519Point, SigningKey } from "../../frontend/js/core/signing.js";
import { seededRandom } from "./support.mjs";

const ROOM = "AAAAAAAAAAAAAAAAAAAAAA";
const LOW = "AAAAAAAAAAAAAAAAAAAAAQ";
const HIGH = "zzzzzzzzzzzzzzzzzzzzzw";

/** Two machines, A (LOW) and B (HIGH), with passwords wA and wB. */
async function pair(wA = 7n, wB = 7n) {
  const ka = (await SigningKey.generate(seededRandom("hs a"))).publicKey;
  const kb = (await SigningKey.generate(seededRandom("hs b"))).publicKey;
  const a = new Handshake({ roomId: ROOM, w: wA, me: LOW, myKey: ka, peer: HIGH, peerKey: kb });
  const b = new Handshake({ roomId: ROOM, w: wB, me: HIGH, myKey: kb, peer: LOW, peerKey: ka });
  return { a, b, random: seededRandom("hs draws") };
}

test("the lower id is A; B cannot start and A ignores pake1", async () => {
  const { a, b, random } = await pair();
  assert.equal(a.role, "A");
  assert.equal(b.role, "B");
  assert.throws(() => b.start(random, 0));
  const step = await a.receive({ k: "pake1", pA: "AA" }, random, 0);
  assert.equal(step.outcome, "ignored");
  assert.equal(a.state, STATE.IDLE);
});

test("a missed deadline is reported once and a late answer still completes", async () => {
  const { a, b, random } = await pair();
  const pake1 = a.start(random, 1000);
  assert.equal(a.timedOut(10_999), false);
  assert.equal(a.timedOut(11_000), true);
  assert.equal(a.timedOut(50_000), false);
  assert.equal(a.state, STATE.WAIT_PAKE2);
  const two = await b.receive(parseJsonObject(pake1), random, 60_000);
  const three = await a.receive(parseJsonObject(two.reply), random, 60_000);
  assert.equal(three.outcome, "verified");
  assert.equal((await b.receive(parseJsonObject(three.reply), random, 60_000)).outcome,
    "verified");
});

test("different passwords fail on both sides as wrong_password", async () => {
  const { a, b, random } = await pair(7n, 8n);
  const two = await b.receive(parseJsonObject(a.start(random, 0)), random, 0);
  const three = await a.receive(parseJsonObject(two.reply), random, 0);
  assert.deepEqual([three.outcome, three.reason, three.reply], ["failed", "wrong_password",
    toJson({ k: "pake_fail" })]);
  const four = await b.receive(parseJsonObject(three.reply), random, 0);
  assert.deepEqual([four.outcome, four.reason, four.reply], ["failed", "wrong_password", null]);
});

test("a malformed share or confirmation is an invalid_share failure", async () => {
  const { a, b, random } = await pair();
  const bad = await b.receive({ k: "pake1", pA: b64encode(new Uint8Array(65)) }, random, 0);
  assert.deepEqual([bad.outcome, bad.reason], ["failed", "invalid_share"]);
  const two = await b.receive(parseJsonObject(a.start(random, 0)), random, 0);
  const body = parseJsonObject(two.reply);
  const short = await a.receive({ ...body, cB: "AAAA" }, random, 0);
  assert.deepEqual([short.outcome, short.reason], ["failed", "invalid_share"]);
});

test("a verified machine ignores every further body", async () => {
  const { a, b, random } = await pair();
  const pake1 = a.start(random, 0);
  const two = await b.receive(parseJsonObject(pake1), random, 0);
  const three = await a.receive(parseJsonObject(two.reply), random, 0);
  await b.receive(parseJsonObject(three.reply), random, 0);
  for (const body of [pake1, two.reply, three.reply, toJson({ k: "pake_fail" })]) {
    assert.equal((await b.receive(parseJsonObject(body), random, 0)).outcome, "ignored");
    assert.equal((await a.receive(parseJsonObject(body), random, 0)).outcome, "ignored");
  }
  assert.equal(a.isVerified && b.isVerified, true);
});

test("isEd25519Point accepts real keys and refuses non-canonical or off-curve bytes", async () => {
  const key = (await SigningKey.generate(seededRandom("point"))).publicKey;
  assert.equal(isEd25519Point(key), true);
  assert.equal(isEd25519Point(new Uint8Array(32)), true, "y = 0 is on the curve");
  assert.equal(isEd25519Point(new Uint8Array(32).fill(0xff)), false, "y >= p");
  const xZeroSignOne = new Uint8Array(32);
  xZeroSignOne[0] = 1;
  xZeroSignOne[31] = 0x80;
  assert.equal(isEd25519Point(xZeroSignOne), false, "x = 0 with the sign bit set");
  const notSquare = new Uint8Array(32);
  notSquare[0] = 2;
  assert.equal(isEd25519Point(notSquare), false, "y = 2 has no x");
  assert.equal(isEd25519Point(key.subarray(0, 31)), false);
});

test("B answers a repeated pake1 with its stored pake2, drawing nothing; a new pA restarts",
  async () => {
    const { a, b, random } = await pair();
    const pake1 = parseJsonObject(a.start(random, 0));
    const first = await b.receive(pake1, random, 0);
    const noDraw = () => { throw new Error("a repeat must draw no new scalar"); };
    const again = await b.receive({ ...pake1 }, noDraw, 5_000);
    assert.deepEqual([again.outcome, again.reply], ["waiting", first.reply]);
    assert.equal(b.deadline, 15_000);
    const restarted = await b.receive(parseJsonObject(a.start(random, 0)), random, 0);
    assert.notEqual(restarted.reply, first.reply);
    const three = await a.receive(parseJsonObject(restarted.reply), random, 0);
    assert.equal((await b.receive(parseJsonObject(three.reply), random, 0)).outcome,
      "verified");
  });
