/** Room ids, the password scalar, padding, fingerprints and Ed25519 keys. */

import assert from "node:assert/strict";
import { test } from "node:test";

import { b64decode } from "../../frontend/js/core/encoding.js";
import { EncodingError, UsageError } from "../../frontend/js/core/errors.js";
import { fingerprint } from "../../frontend/js/core/fingerprint.js";
import { pad, unpad } from "../../frontend/js/core/padding.js";
import { P256_ORDER, passwordScalar } from "../../frontend/js/core/password.js";
import { isRoomId, normRoomName, roomIdFor } from "../../frontend/js/core/roomid.js";
import { SigningKey, VerifyKey } from "../../frontend/js/core/signing.js";
import { seededRandom } from "./support.mjs";

test("normRoomName collapses White_Space, folds case and compatibility forms", () => {
  assert.equal(normRoomName("  Tea\t\u00a0 Room\u3000"), "tea room");
  assert.equal(normRoomName("Straße"), "straße");
  assert.equal(normRoomName("ΣΑΣ"), "σας");
  assert.equal(normRoomName("ＡＢＣ"), "abc");
  assert.equal(normRoomName("ℌello"), "hello");
  // U+FEFF is in JS \s but is not White_Space; U+0085 is White_Space but not in JS \s.
  assert.equal(normRoomName("a\u0085b"), "a b");
  assert.equal(normRoomName("a\ufeffb"), "a\ufeffb");
});

test("an empty or blank room name is refused", () => {
  assert.throws(() => normRoomName(" \t\u3000"), UsageError);
  assert.throws(() => normRoomName(""), UsageError);
});

test("roomIdFor gives 22 base64url characters, equal for equivalent names", async () => {
  const a = await roomIdFor("Tea Room");
  assert.equal(isRoomId(a), true);
  assert.equal(b64decode(a).length, 16);
  assert.equal(await roomIdFor("  tea\u2003ROOM "), a);
  assert.notEqual(await roomIdFor("tea rooms"), a);
});

test("passwordScalar is below the group order and depends on password and room", async () => {
  const w1 = await passwordScalar("correct horse", "AAAAAAAAAAAAAAAAAAAAAA");
  const w2 = await passwordScalar("correct horse", "AAAAAAAAAAAAAAAAAAAAAQ");
  const w3 = await passwordScalar("correct horsf", "AAAAAAAAAAAAAAAAAAAAAA");
  assert.ok(w1 < P256_ORDER && w1 > 0n);
  assert.notEqual(w1, w2);
  assert.notEqual(w1, w3);
  // NFKC: the full-width form is the same password, case is kept.
  assert.equal(await passwordScalar("ｃorrect horse", "AAAAAAAAAAAAAAAAAAAAAA"), w1);
  assert.notEqual(await passwordScalar("Correct horse", "AAAAAAAAAAAAAAAAAAAAAA"), w1);
});

test("pad always adds the marker and reaches a multiple of 64", () => {
  for (const n of [0, 1, 62, 63, 64, 65, 127, 128]) {
    const padded = pad(new Uint8Array(n).fill(7));
    assert.equal(padded.length % 64, 0);
    assert.ok(padded.length > n);
    assert.equal(padded[n], 0x80);
    assert.deepEqual(unpad(padded), new Uint8Array(n).fill(7));
  }
});

test("unpad refuses bad lengths and a missing marker", () => {
  assert.throws(() => unpad(new Uint8Array(0)), EncodingError);
  assert.throws(() => unpad(new Uint8Array(63)), EncodingError);
  assert.throws(() => unpad(new Uint8Array(64)), EncodingError);
  const noMark = new Uint8Array(64).fill(1);
  assert.throws(() => unpad(noMark), EncodingError);
});

test("fingerprint is five zero-padded groups of five digits", async () => {
  const fp = await fingerprint("AAAAAAAAAAAAAAAAAAAAAA", new Uint8Array(32));
  assert.match(fp, /^\d{5} \d{5} \d{5} \d{5} \d{5}$/);
  assert.notEqual(await fingerprint("AAAAAAAAAAAAAAAAAAAAAQ", new Uint8Array(32)), fp);
});

test("Ed25519 from a seed is deterministic, signs and verifies; tampering fails", async () => {
  const a = await SigningKey.generate(seededRandom(3));
  const b = await SigningKey.generate(seededRandom(3));
  assert.deepEqual(a.publicKey, b.publicKey);
  const data = new Uint8Array([1, 2, 3]);
  const sig = await a.sign(data);
  assert.deepEqual(await b.sign(data), sig);
  const vk = await VerifyKey.fromRaw(a.publicKey);
  assert.equal(await vk.verify(sig, data), true);
  assert.equal(await vk.verify(sig, new Uint8Array([1, 2, 4])), false);
  assert.equal(await vk.verify(sig.subarray(0, 63), data), false);
});

test("RFC 8032 test 1: the seed gives the RFC's public key and signature", async () => {
  const seed = Buffer.from(
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", "hex");
  const key = await SigningKey.generate(() => new Uint8Array(seed));
  assert.equal(Buffer.from(key.publicKey).toString("hex"),
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  const sig = Buffer.from(await key.sign(new Uint8Array(0))).toString("hex");
  assert.equal(sig, "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
    + "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
});

test("generated keys are non-extractable on the private side", async () => {
  const key = await SigningKey.generate(undefined);
  assert.equal(key.publicKey.length, 32);
  assert.equal(key.privateKey.extractable, false);
  const seeded = await SigningKey.generate(seededRandom(4));
  assert.equal(seeded.privateKey.extractable, false);
});
