/** Every vector file in tests/vectors reproduced exactly by the JS core. */

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  checkSignature, messageAad, openBroadcast, parseBroadcast, sealBroadcast, textPlaintext,
} from "../../frontend/js/core/broadcast.js";
import {
  b64decode, b64encode, parseJsonObject, toJson, utf8,
} from "../../frontend/js/core/encoding.js";
import {
  EncodingError, InvalidShare, SottoError, UsageError,
} from "../../frontend/js/core/errors.js";
import { fingerprint } from "../../frontend/js/core/fingerprint.js";
import { Handshake, STATE } from "../../frontend/js/core/handshake.js";
import { pad } from "../../frontend/js/core/padding.js";
import { directAad, PairChannel, pairKeyBytes } from "../../frontend/js/core/pairwise.js";
import {
  passwordSalt, passwordScalar, scalarBytes, stretchPassword,
} from "../../frontend/js/core/password.js";
import { ReceiveChain, step } from "../../frontend/js/core/ratchet.js";
import { normRoomName, roomIdFor } from "../../frontend/js/core/roomid.js";
import { SigningKey, VerifyKey } from "../../frontend/js/core/signing.js";
import {
  computeK, computeShare, identity, keySchedule, randomScalar, ROLE, transcript,
} from "../../frontend/js/core/spake2.js";
import { importAesKey } from "../../frontend/js/core/webcrypto.js";
import { hex, loadVectors, streamRandom, toHexString, vectorFiles } from "./support.mjs";

const big = (h) => BigInt("0x" + h);
const fixed = (bytes) => () => bytes.slice();

/** Open a broadcast body from `sender` on `chain`, committing only on success. */
async function receiveBroadcast(chain, body, v, verifier) {
  const f = parseBroadcast(body);
  await checkSignature(f, v.room_id, v.sender, verifier);
  if (f.epoch !== chain.epoch) throw new SottoError("no chain for that epoch");
  const { key, commit } = await chain.prepare(f.index);
  const plain = await openBroadcast(f, v.room_id, v.sender, key);
  commit();
  return plain;
}

const CHECKS = {
  "b64.json": async (v) => {
    for (const c of v.valid) {
      assert.equal(toHexString(b64decode(c.text)), c.bytes_hex);
      assert.equal(b64encode(hex(c.bytes_hex)), c.text);
    }
    for (const text of v.invalid) assert.throws(() => b64decode(text), EncodingError, text);
  },

  "room_id.json": async (v) => {
    for (const c of v.cases) {
      assert.equal(normRoomName(c.name), c.norm, JSON.stringify(c.name));
      assert.equal(await roomIdFor(c.name), c.room_id, JSON.stringify(c.name));
    }
    for (const name of v.empty) assert.throws(() => normRoomName(name), UsageError);
  },

  "password.json": async (v) => {
    for (const c of v.cases) {
      assert.equal(toHexString(passwordSalt(c.room_id)), c.salt_hex);
      assert.equal(toHexString(await stretchPassword(c.password, c.room_id)), c.pbkdf2_hex);
      assert.equal(toHexString(scalarBytes(await passwordScalar(c.password, c.room_id))), c.w_hex);
    }
  },

  "spake2_invalid_shares.json": async (v) => {
    const w = big(v.w_hex);
    const secret = big(v.secret_hex);
    for (const c of v.cases) {
      assert.throws(() => computeK(c.role, w, secret, hex(c.share_hex)), InvalidShare, c.why);
    }
  },

  "spake2_session.json": async (v) => {
    const w = await passwordScalar(v.password, await roomIdFor(v.room_name));
    assert.equal(toHexString(scalarBytes(w)), v.w_hex);
    const ka = await SigningKey.generate(fixed(hex(v.seed_a_hex)));
    const kb = await SigningKey.generate(fixed(hex(v.seed_b_hex)));
    assert.equal(b64encode(ka.publicKey), v.key_a);
    assert.equal(b64encode(kb.publicKey), v.key_b);
    assert.equal(toHexString(identity(v.member_a, ka.publicKey)), v.id_a_hex);
    assert.equal(toHexString(identity(v.member_b, kb.publicKey)), v.id_b_hex);
    const x = randomScalar(streamRandom(hex(v.x_draw_hex)));
    const y = randomScalar(streamRandom(hex(v.y_draw_hex)));
    assert.equal(toHexString(scalarBytes(x)), v.x_hex);
    assert.equal(toHexString(scalarBytes(y)), v.y_hex);
    assert.equal(toHexString(computeShare(ROLE.A, w, x)), v.pA_hex);
    assert.equal(toHexString(computeShare(ROLE.B, w, y)), v.pB_hex);
    const K = computeK(ROLE.A, w, x, hex(v.pB_hex));
    assert.equal(toHexString(K), v.K_hex);
    const tt = transcript({ idA: hex(v.id_a_hex), idB: hex(v.id_b_hex), pA: hex(v.pA_hex),
      pB: hex(v.pB_hex), K, w });
    assert.equal(toHexString(tt), v.TT_hex);
    const ks = await keySchedule(tt, utf8(v.room_id));
    for (const n of ["Ke", "Ka", "KcA", "KcB", "cA", "cB"]) {
      assert.equal(toHexString(ks[n]), v[`${n}_hex`], n);
    }
    // The handshake machines, fed the same draws, write the exact bodies.
    const common = { roomId: v.room_id, w };
    const a = new Handshake({ ...common, me: v.member_a, myKey: ka.publicKey, peer: v.member_b,
      peerKey: kb.publicKey });
    const b = new Handshake({ ...common, me: v.member_b, myKey: kb.publicKey, peer: v.member_a,
      peerKey: ka.publicKey });
    const pake1 = a.start(streamRandom(hex(v.x_draw_hex)), 0);
    assert.equal(pake1, v.pake1);
    const s2 = await b.receive(parseJsonObject(pake1), streamRandom(hex(v.y_draw_hex)), 0);
    assert.equal(s2.reply, v.pake2);
    const s3 = await a.receive(parseJsonObject(s2.reply), streamRandom(new Uint8Array(0)), 0);
    assert.equal(s3.reply, v.pake3);
    assert.equal(s3.outcome, "verified");
    const s4 = await b.receive(parseJsonObject(s3.reply), streamRandom(new Uint8Array(0)), 0);
    assert.equal(s4.outcome, "verified");
    assert.equal(b.state, STATE.VERIFIED);
    assert.equal(toHexString(s3.Ke), v.Ke_hex);
    assert.equal(toHexString(s4.Ke), v.Ke_hex);
    assert.equal(toHexString(await pairKeyBytes(s3.Ke, v.room_id, v.member_a, v.member_b)),
      v.pair_a_to_b_hex);
    assert.equal(toHexString(await pairKeyBytes(s3.Ke, v.room_id, v.member_b, v.member_a)),
      v.pair_b_to_a_hex);
  },

  "pairwise.json": async (v) => {
    for (const c of v.cases) {
      assert.equal(toHexString(await pairKeyBytes(hex(c.ke_hex), c.room_id, c.from, c.to)),
        c.key_hex);
    }
  },

  "sealed_direct.json": async (v) => {
    assert.equal(toHexString(directAad(v.room_id, v.from, v.to)), v.aad_hex);
    const key = hex(v.key_hex);
    const sender = await PairChannel.fromRawKeys(v.room_id, v.from, v.to, key, new Uint8Array(32));
    const plaintext = JSON.parse(v.plaintext);
    assert.equal(toJson(plaintext), v.plaintext);
    assert.equal(await sender.seal(plaintext, hex(v.nonce_hex)), v.body);
    const recipient = await PairChannel.fromRawKeys(v.room_id, v.to, v.from, new Uint8Array(32),
      key);
    assert.equal(toJson(await recipient.open(parseJsonObject(v.body))), v.plaintext);
    for (const body of v.tampered_bodies) {
      await assert.rejects(recipient.open(parseJsonObject(body)), SottoError);
    }
    // The untouched body, opened as if it came the other way, is refused too.
    const reversed = await PairChannel.fromRawKeys(v.room_id, v.from, v.to, key, key);
    await assert.rejects(reversed.open(parseJsonObject(v.body)), SottoError);
  },

  "ratchet.json": async (v) => {
    let ck = hex(v.ck0_hex);
    for (const s of v.steps) {
      assert.equal(toHexString(ck), s.ck_hex);
      const [mk, next] = await step(ck);
      assert.equal(toHexString(mk), s.mk_hex);
      ck = next;
    }
    // The receiving chain imports keys non-extractable, so each key is checked by use:
    // an AES-GCM seal under the vector's MK must open with the key the chain yields.
    const chain = new ReceiveChain(0, 0, hex(v.ck0_hex));
    for (const d of v.delivery) {
      const { key, commit } = await chain.prepare(d.index);
      await assertSameAesKey(key, hex(d.mk_hex));
      commit();
      assert.deepEqual([...chain.skipped.keys()].sort((p, q) => p - q), d.skipped_after);
    }
    for (const d of v.delivery) await assert.rejects(chain.prepare(d.index), SottoError);
    assert.equal(v.max_skip, 2000);
    assert.equal(v.max_skipped_keys, 2000);
  },

  "fingerprint.json": async (v) => {
    for (const c of v.cases) {
      const key = b64decode(c.key, 32);
      assert.equal(await fingerprint(c.room_id, key), c.display);
      const groups = c.display.split(" ").map((g) => Number(g).toString(16).padStart(4, "0"));
      assert.equal(groups.join(""), c.fp_hex);
    }
  },

  "broadcast.json": async (v) => {
    const signer = await SigningKey.generate(fixed(hex(v.seed_hex)));
    assert.equal(b64encode(signer.publicKey), v.key);
    const verifier = await VerifyKey.fromRaw(signer.publicKey);
    let ck = hex(v.ck0_hex);
    for (const m of v.messages) {
      assert.equal(toHexString(ck), m.ck_hex);
      const [mkRaw, next] = await step(ck);
      assert.equal(toHexString(mkRaw), m.mk_hex);
      const plaintext = textPlaintext(m.text, m.ts);
      assert.equal(toJson(plaintext), m.plaintext);
      assert.equal(toHexString(pad(utf8(m.plaintext))), m.padded_hex);
      assert.equal(toHexString(messageAad(v.room_id, v.sender, v.epoch, m.index)), m.aad_hex);
      const key = await importAesKey(mkRaw);
      const body = await sealBroadcast({ roomId: v.room_id, senderId: v.sender, epoch: v.epoch,
        index: m.index, key, signer, plaintext, nonce: hex(m.nonce_hex) });
      assert.equal(body, m.body);
      ck = next;
    }
    const chain = new ReceiveChain(v.epoch, 0, hex(v.ck0_hex));
    for (const i of v.delivery_order) {
      const plain = await receiveBroadcast(chain, v.messages[i].body, v, verifier);
      assert.deepEqual(plain, JSON.parse(v.messages[i].plaintext));
    }
    for (const m of v.messages) {
      await assert.rejects(receiveBroadcast(chain, m.body, v, verifier), SottoError);
    }
    const fresh = new ReceiveChain(v.epoch, 0, hex(v.ck0_hex));
    for (const t of v.tampered) {
      await assert.rejects(receiveBroadcast(fresh, t.body, v, verifier), SottoError, t.why);
    }
    assert.equal(fresh.index, 0, "no tampered body advanced the chain");
  },
};

/** Assert two AES-GCM keys are one key: seal under one, open with the other. */
async function assertSameAesKey(key, raw) {
  const probe = await PairChannel.fromRawKeys("r", "a", "b", raw, raw);
  const body = parseJsonObject(await probe.seal({ probe: 1 }, new Uint8Array(12)));
  const viaChain = new PairChannel("r", "b", "a", key, key);
  assert.deepEqual(await viaChain.open(body), { probe: 1 });
}

test("every vector file in tests/vectors has a JS check", () => {
  const unchecked = vectorFiles().filter((n) => !(n in CHECKS) && !LISTED_ELSEWHERE.has(n));
  assert.deepEqual(unchecked, []);
});

/** Files whose checks live in their own test modules. */
const LISTED_ELSEWHERE = new Set(["rfc9382-p256.json", "js-generated.json"]);

for (const [name, check] of Object.entries(CHECKS)) {
  test(`vectors ${name} are reproduced exactly`, async () => {
    await check(loadVectors(name));
  });
}
