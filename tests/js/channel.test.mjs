/** Pairwise channels, the sender-key ratchet and broadcast bodies. */

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  checkSignature, messageAad, openBroadcast, parseBroadcast, sealBroadcast, textPlaintext,
} from "../../frontend/js/core/broadcast.js";
import { parseJsonObject, toJson } from "../../frontend/js/core/encoding.js";
import {
  AuthenticationError, EncodingError, RatchetError,
} from "../../frontend/js/core/errors.js";
import {
  PairChannel, pairKeyBytes, parseSenderKey, senderKeyPlaintext,
} from "../../frontend/js/core/pairwise.js";
import { ReceiveChain, SendChain } from "../../frontend/js/core/ratchet.js";
import { SigningKey, VerifyKey } from "../../frontend/js/core/signing.js";
import { seededRandom, toHexString } from "./support.mjs";

const ROOM = "AAAAAAAAAAAAAAAAAAAAAA";
const ALICE = "aaaaaaaaaaaaaaaaaaaaaa";
const BOB = "bbbbbbbbbbbbbbbbbbbbbb";

test("pair keys differ per direction and match between the two ends", async () => {
  const ke = seededRandom(5)(16);
  const ab = await pairKeyBytes(ke, ROOM, ALICE, BOB);
  const ba = await pairKeyBytes(ke, ROOM, BOB, ALICE);
  assert.notEqual(toHexString(ab), toHexString(ba));
  const a = await PairChannel.derive(ke, ROOM, ALICE, BOB);
  const b = await PairChannel.derive(ke, ROOM, BOB, ALICE);
  const body = await a.seal(senderKeyPlaintext(0, 3, new Uint8Array(32).fill(9)),
    new Uint8Array(12));
  const opened = await b.open(parseJsonObject(body));
  assert.deepEqual(parseSenderKey(opened),
    { epoch: 0, index: 3, chainKey: new Uint8Array(32).fill(9) });
});

test("a sealed direct does not open in the wrong direction or when tampered", async () => {
  const ke = seededRandom(6)(16);
  const a = await PairChannel.derive(ke, ROOM, ALICE, BOB);
  const b = await PairChannel.derive(ke, ROOM, BOB, ALICE);
  const body = parseJsonObject(await a.seal({ k: "sender_key" }, new Uint8Array(12)));
  await assert.rejects(a.open(body), AuthenticationError);
  const flipped = { ...body, ct: body.ct.slice(0, -2) + (body.ct.endsWith("AA") ? "AQ" : "AA") };
  await assert.rejects(b.open(flipped), AuthenticationError);
  await assert.rejects(b.open({ ...body, n: "AAAA" }), EncodingError);
});

test("parseSenderKey refuses wrong kinds, negative numbers and short keys", () => {
  const ok = senderKeyPlaintext(1, 2, new Uint8Array(32));
  assert.throws(() => parseSenderKey({ ...ok, k: "other" }), EncodingError);
  assert.throws(() => parseSenderKey({ ...ok, epoch: -1 }), EncodingError);
  assert.throws(() => parseSenderKey({ ...ok, index: 1.5 }), EncodingError);
  assert.throws(() => parseSenderKey({ ...ok, ck: "AAAA" }), EncodingError);
});

/** Seal `count` messages on a fresh chain; returns the bodies and the receiver's start. */
async function sealRun(count, seed = 7) {
  const random = seededRandom(seed);
  const signer = await SigningKey.generate(random);
  const chain = new SendChain(2, random(32));
  const start = chain.snapshot();
  const bodies = [];
  for (let n = 0; n < count; n += 1) {
    const { index, key } = await chain.next();
    bodies.push(await sealBroadcast({ roomId: ROOM, senderId: ALICE, epoch: 2, index, key,
      signer, plaintext: textPlaintext(`m${n}`, 1000 + n), nonce: random(12) }));
  }
  return { bodies, start, verifier: await VerifyKey.fromRaw(signer.publicKey) };
}

/** Receive one body on a chain, committing on success; returns the text. */
async function receive(chain, body, verifier) {
  const f = parseBroadcast(body);
  await checkSignature(f, ROOM, ALICE, verifier);
  const { key, commit } = await chain.prepare(f.index);
  const plain = await openBroadcast(f, ROOM, ALICE, key);
  commit();
  return plain.body;
}

test("a ratchet run decrypts in and out of order, and each key works once", async () => {
  const { bodies, start, verifier } = await sealRun(5);
  const chain = new ReceiveChain(start.epoch, start.index, start.chainKey);
  assert.equal(await receive(chain, bodies[2], verifier), "m2");
  assert.equal(chain.skipped.size, 2);
  assert.equal(await receive(chain, bodies[0], verifier), "m0");
  assert.equal(await receive(chain, bodies[4], verifier), "m4");
  assert.equal(await receive(chain, bodies[1], verifier), "m1");
  assert.equal(await receive(chain, bodies[3], verifier), "m3");
  assert.equal(chain.skipped.size, 0);
  await assert.rejects(receive(chain, bodies[3], verifier), RatchetError);
});

test("a forged signature is refused before any key is spent", async () => {
  const { bodies, start } = await sealRun(1);
  const other = await VerifyKey.fromRaw((await SigningKey.generate(seededRandom(99))).publicKey);
  const chain = new ReceiveChain(start.epoch, start.index, start.chainKey);
  await assert.rejects(receive(chain, bodies[0], other), AuthenticationError);
  assert.equal(chain.index, 0);
});

test("a frame that fails to decrypt does not advance the chain", async () => {
  const { bodies, start } = await sealRun(2);
  const chain = new ReceiveChain(start.epoch, start.index, start.chainKey);
  const f = parseBroadcast(bodies[1]);
  const { key } = await chain.prepare(f.index);
  await assert.rejects(openBroadcast({ ...f, index: 0 }, ROOM, ALICE, key), AuthenticationError);
  assert.equal(chain.index, 0);
  assert.equal(chain.skipped.size, 0);
});

test("the chain refuses to advance more than 2 000 steps at once", async () => {
  const chain = new ReceiveChain(0, 0, new Uint8Array(32));
  await assert.rejects(chain.prepare(2001), RatchetError);
  const { commit } = await chain.prepare(2000);
  commit();
  assert.equal(chain.skipped.size, 2000);
  const next = await chain.prepare(2005);
  next.commit();
  assert.equal(chain.skipped.size, 2000);
  assert.equal(chain.skipped.has(0), false, "the oldest skipped keys are dropped first");
});

test("messageAad ends with u32 epoch and index after a 0x00", () => {
  assert.equal(toHexString(messageAad(ROOM, ALICE, 1, 258)).slice(-18), "000000000100000102");
});

test("parseBroadcast refuses malformed bodies", () => {
  const good = { e: 0, i: 0, n: "AAAAAAAAAAAAAAAA", ct: "AAAA", sig: "A".repeat(86) };
  assert.equal(parseBroadcast(toJson(good)).sig.length, 64);
  for (const bad of [{ ...good, e: -1 }, { ...good, i: "1" }, { ...good, n: "AAAA" },
    { ...good, sig: "AAAA" }, { ...good, ct: "A+AA" }]) {
    assert.throws(() => parseBroadcast(toJson(bad)), EncodingError);
  }
});
