/** SPAKE2 (RFC 9382, P-256): the RFC's vectors and the project's refused shares. */

import assert from "node:assert/strict";
import { test } from "node:test";

import { InvalidShare } from "../../frontend/js/core/errors.js";
import {
  computeK, computeShare, decodeShare, keySchedule, ROLE, Spake2, transcript, verifyConfirmation,
} from "../../frontend/js/core/spake2.js";
import { utf8 } from "../../frontend/js/core/encoding.js";
import { hex, loadVectors, toHexString } from "./support.mjs";

const rfc = loadVectors("rfc9382-p256.json");
const big = (h) => BigInt("0x" + h);

for (const [i, v] of rfc.vectors.entries()) {
  test(`RFC 9382 vector ${i}: shares, K, transcript and every derived key match`, async () => {
    const w = big(v.w);
    assert.equal(toHexString(computeShare(ROLE.A, w, big(v.x))), v.pA);
    assert.equal(toHexString(computeShare(ROLE.B, w, big(v.y))), v.pB);
    const kA = computeK(ROLE.A, w, big(v.x), hex(v.pB));
    const kB = computeK(ROLE.B, w, big(v.y), hex(v.pA));
    assert.equal(toHexString(kA), v.K);
    assert.equal(toHexString(kB), v.K);
    const tt = transcript({ idA: utf8(v.A), idB: utf8(v.B), pA: hex(v.pA), pB: hex(v.pB),
      K: kA, w });
    assert.equal(toHexString(tt), v.TT);
    const ks = await keySchedule(tt, hex(rfc.aad));
    for (const name of ["Ke", "Ka", "KcA", "KcB", "cA", "cB"]) {
      assert.equal(toHexString(ks[name]), v[name], name);
    }
    assert.equal(await verifyConfirmation(ks.KcB, hex(v.cB), tt), true);
  });

  test(`RFC 9382 vector ${i}: both Spake2 halves agree and confirm each other`, async () => {
    const w = big(v.w);
    const a = new Spake2(ROLE.A, w, utf8(v.A), utf8(v.B), new Uint8Array(0), big(v.x));
    const b = new Spake2(ROLE.B, w, utf8(v.A), utf8(v.B), new Uint8Array(0), big(v.y));
    assert.equal(toHexString(a.share), v.pA);
    const ra = await a.finish(b.share);
    const rb = await b.finish(a.share);
    assert.equal(toHexString(ra.ourMac), v.cA);
    assert.equal(toHexString(rb.ourMac), v.cB);
    assert.equal(await verifyConfirmation(ra.peerKey, rb.ourMac, ra.tt), true);
    assert.equal(await verifyConfirmation(rb.peerKey, ra.ourMac, rb.tt), true);
    assert.equal(toHexString(ra.Ke), toHexString(rb.Ke));
  });
}

for (const bad of rfc.invalid_shares) {
  test(`refused share: ${bad.why}`, () => {
    const w = big(bad.w ?? "01");
    assert.throws(() => computeK(ROLE.B, w, 12345n, hex(bad.share)), InvalidShare);
  });
}

test("a confirmation under a different password does not verify", async () => {
  const v = rfc.vectors[0];
  const a = new Spake2(ROLE.A, big(v.w), utf8(v.A), utf8(v.B), new Uint8Array(0), big(v.x));
  const b = new Spake2(ROLE.B, big(v.w) + 1n, utf8(v.A), utf8(v.B), new Uint8Array(0), big(v.y));
  const ra = await a.finish(b.share);
  const rb = await b.finish(a.share);
  assert.equal(await verifyConfirmation(ra.peerKey, rb.ourMac, ra.tt), false);
});

test("decodeShare accepts the generator and refuses non-Uint8Array input", () => {
  const g = computeShare(ROLE.A, 0n, 1n);
  assert.equal(decodeShare(g).is0(), false);
  assert.throws(() => decodeShare(Array.from(g)), InvalidShare);
});
