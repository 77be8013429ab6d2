/**
 * Fuzzing the JS core's parsers with a seeded random corpus (the same cases every run).
 *
 * 1. The strict parsers alone, 10 000 inputs each: b64decode, parseJsonObject, unpad,
 *    parseBroadcast, parseSenderKey, decodeShare: a result that checks out against a
 *    reference, or a ProtocolError, nothing else.
 * 2. 10 000 hostile server frames into RoomSession.receive: it always resolves with
 *    frames and events, and nothing made without the password verifies or is read.
 * 3. 10 000 direct bodies (from a verified peer, a peer waiting for its pake1 and an
 *    unannounced id) and 10 000 broadcast bodies from a verified peer, then 2 000
 *    real texts of any shape that must be read back exactly (or, holding a lone
 *    surrogate, refused by sendText).
 */

import assert from "node:assert/strict";
import { test } from "node:test";

import { EVENT } from "../../frontend/js/core/constants.js";
import { parseBroadcast } from "../../frontend/js/core/broadcast.js";
import { b64decode, b64encode, parseJsonObject } from "../../frontend/js/core/encoding.js";
import { ProtocolError, UsageError } from "../../frontend/js/core/errors.js";
import { unpad } from "../../frontend/js/core/padding.js";
import { parseSenderKey } from "../../frontend/js/core/pairwise.js";
import { RoomSession } from "../../frontend/js/core/session.js";
import { computeShare, decodeShare } from "../../frontend/js/core/spake2.js";
import { manualClock, seededRandom } from "./support.mjs";
import { room } from "./relay.mjs";

const CASES = 10000;
const KINDS = new Set(Object.values(EVENT));
// Real points on P-256 (w = 7): made once, as each costs two scalar multiplications.
const VALID_SHARES = Array.from({ length: 12 }, (_, i) => computeShare("A", 7n, BigInt(i + 2)));

/** A small seeded PRNG (mulberry32): the corpus is the same on every run. */
function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(next() * n);
  const pick = (list) => list[int(list.length)];
  const bytes = (n) => Uint8Array.from({ length: n }, () => int(256));
  const chars = [..."AZaz09-_+/=. \u00e9\u2028\u0000\"\\{}[]:,", "\ud800", "\udfff", "😀"];
  const text = (max = 40) => Array.from({ length: int(max + 1) }, () =>
    next() < 0.7 ? String.fromCharCode(32 + int(95)) : pick(chars)).join("");
  const b64ish = () => pick([
    () => b64encode(bytes(int(80))),
    () => b64encode(bytes(32)),
    () => b64encode(bytes(65)),
    () => Buffer.from(bytes(32)).toString("base64"),
    () => `${b64encode(bytes(32)).slice(0, -1)}B`,
    () => `${b64encode(bytes(int(40)))}A`,
    () => text(50),
  ])();
  const scalar = () => pick([null, true, false, 0, 1, -1, 2 ** 32, 2 ** 53, 1.5, NaN, "1", ""]);
  const json = (depth = 2) => {
    const r = int(depth > 0 ? 9 : 6);
    if (r < 5) return pick([scalar, text, b64ish, () => int(1000), () => -int(1000)])();
    if (r === 5) return text(10);
    if (r === 6) return Array.from({ length: int(4) }, () => json(depth - 1));
    return Object.fromEntries(Array.from({ length: int(4) }, () => [text(6), json(depth - 1)]));
  };
  /** An object with any subset of `fields` (each well-formed or hostile) plus a stray one. */
  const shaped = (fields) => {
    const obj = {};
    for (const [name, make] of Object.entries(fields)) {
      if (next() < 0.75) obj[name] = next() < 0.7 ? make() : json(1);
    }
    if (next() < 0.2) obj[text(5)] = json(1);
    return obj;
  };
  const mangle = (s) => s.slice(0, int(s.length + 1)) + pick(["", "}", "\"", ",", "]", text(3)]);
  return { next, int, pick, bytes, text, b64ish, json, shaped, mangle };
}

/** Assert fn(input) returns (and check() holds) or throws a ProtocolError; count outcomes. */
function mustParseOrRefuse(fn, input, check, counts) {
  let result;
  try {
    result = fn(input);
  } catch (err) {
    assert.ok(err instanceof ProtocolError, `${fn.name} threw ${err?.constructor?.name}: ${err}`);
    counts.refused += 1;
    return;
  }
  check(result, input);
  counts.parsed += 1;
}

test("strict parsers: 10 000 inputs each, a checked result or a ProtocolError", () => {
  const r = prng(1);
  const targets = {
    b64decode: [() => r.b64ish(), (out, text) => {
      assert.equal(Buffer.from(out).toString("base64url"), text);
    }],
    parseJsonObject: [() => r.pick([() => JSON.stringify(r.json()), () => r.mangle(
      JSON.stringify(r.json())), () => r.text()])(), (out) => {
      assert.ok(out !== null && typeof out === "object" && !Array.isArray(out));
    }],
    unpad: [() => r.pick([() => r.bytes(r.int(200)), () => {
      const body = r.bytes(r.int(100));
      const padded = new Uint8Array(Math.ceil((body.length + 1) / 64) * 64);
      padded.set(body);
      padded[body.length] = 0x80;
      return padded;
    }])(), (out, input) => {
      assert.equal(input.length % 64, 0);
      assert.equal(input[out.length], 0x80);
      assert.ok(input.subarray(out.length + 1).every((b) => b === 0));
    }],
    parseBroadcast: [() => {
      const obj = r.shaped({ e: () => r.int(5), i: () => r.int(5), n: () => b64encode(r.bytes(12)),
        ct: () => r.b64ish(), sig: () => b64encode(r.bytes(64)) });
      return r.next() < 0.8 ? JSON.stringify(obj) : r.mangle(JSON.stringify(obj));
    }, (out) => {
      assert.equal(out.nonce.length, 12);
      assert.equal(out.sig.length, 64);
      assert.ok(Number.isInteger(out.epoch) && Number.isInteger(out.index));
    }],
    parseSenderKey: [() => r.shaped({ k: () => r.pick(["sender_key", "x"]), epoch: () => r.int(9),
      index: () => r.int(9), ck: () => b64encode(r.bytes(r.pick([31, 32, 33]))) }), (out) => {
      assert.equal(out.chainKey.length, 32);
      assert.ok(out.epoch >= 0 && out.index >= 0);
    }],
    decodeShare: [() => r.pick([
      () => r.bytes(r.pick([0, 1, 33, 64, 65, 66])),
      () => Uint8Array.from([4, ...r.bytes(64)]),
      () => r.pick(VALID_SHARES),
      () => Uint8Array.from([4, ...new Uint8Array(64)]),
    ])(), (out) => {
      assert.ok(!out.is0());
    }],
  };
  for (const [name, [make, check]] of Object.entries(targets)) {
    const counts = { parsed: 0, refused: 0 };
    const fn = { b64decode, parseJsonObject, unpad, parseBroadcast, parseSenderKey,
      decodeShare }[name];
    for (let i = 0; i < CASES; i += 1) mustParseOrRefuse(fn, make(), check, counts);
    assert.equal(counts.parsed + counts.refused, CASES);
    // Both outcomes reached: the corpus is not all junk, nor all well formed.
    assert.ok(counts.parsed >= 50 && counts.refused >= 50, `${name}: ${JSON.stringify(counts)}`);
  }
});

/** Check one receive result's shape; return its events. */
function checked(result) {
  assert.ok(Array.isArray(result.frames) && Array.isArray(result.events));
  for (const f of result.frames) {
    assert.equal(f.type, "direct");
    assert.equal(typeof f.to, "string");
    assert.equal(typeof f.body, "string");
  }
  for (const e of result.events) assert.ok(KINDS.has(e.kind), `unknown event ${e.kind}`);
  return result.events;
}

const lowestId = "-".repeat(21) + "A";

test("10 000 hostile server frames: receive always resolves, nothing verifies or is read", async () => {
  const r = prng(2);
  const session = await RoomSession.create({ roomName: "fuzz room", password: "fuzz password",
    random: seededRandom("js fuzz server frames"), now: manualClock() });
  const me = "M".repeat(21) + "A";
  const key = b64encode(session.publicKey);
  const id = () => r.pick([() => me, () => lowestId, () => b64encode(r.bytes(16)),
    () => r.text(23)])();
  const meta = () => r.shaped({ color: () => r.text(7), key: () => r.pick([key, r.b64ish()]),
    joined_at: () => r.int(100) });
  const table = () => Object.fromEntries(Array.from({ length: r.int(3) }, () => [id(),
    meta()]));
  const frame = () => r.pick([
    () => ({ type: "welcome", ...r.shaped({ v: () => r.pick([1, 2, "1"]), you: id,
      color: () => r.text(7), members: table, seq: () => r.int(5), resume: () => r.text(5),
      resumed: () => r.next() < 0.5 }) }),
    () => ({ type: "presence", ...r.shaped({ joins: table, leaves: table }) }),
    () => ({ type: "direct", ...r.shaped({ from: id, body: () => r.text(60) }) }),
    () => ({ type: "message", ...r.shaped({ from: id, seq: () => r.int(2 ** 33),
      body: () => r.pick([r.text(60), JSON.stringify(r.json())]) }) }),
    () => ({ type: "error", ...r.shaped({ code: () => r.text(8), message: () => r.text(8) }) }),
    () => ({ type: r.pick(["pong", "", "WELCOME", r.text(5)]), ...r.shaped({ body: r.text }) }),
    () => r.json(),
  ])();
  const welcome = { type: "welcome", v: 1, you: me, color: "#123456",
    members: { [me]: { color: "#123456", key, joined_at: 1 } }, seq: 0, resume: "t",
    resumed: false };
  let cases = 0;
  const seen = new Map();
  for (let batch = 0; batch < CASES / 5; batch += 1) {
    if (batch % 2 === 0) checked(await session.receive(welcome));
    for (let i = 0; i < 5; i += 1) {
      const events = checked(await session.receive(frame()));
      cases += 1;
      for (const e of events) {
        assert.notEqual(e.kind, EVENT.MESSAGE_RECEIVED);
        assert.notEqual(e.kind, EVENT.PEER_VERIFIED);
        seen.set(e.kind, (seen.get(e.kind) ?? 0) + 1);
      }
    }
  }
  assert.equal(cases, CASES);
  // The corpus got past the shape checks: members were announced, errors shown, gaps found.
  for (const kind of [EVENT.REJECTED, EVENT.MEMBER_JOINED, EVENT.SERVER_ERROR, EVENT.GAP]) {
    assert.ok((seen.get(kind) ?? 0) >= 10, `${kind}: ${JSON.stringify([...seen])}`);
  }
});

test("10 000 direct and 10 000 broadcast bodies, then 2 000 real texts read back exactly",
  async () => {
    const r = prng(3);
    const { relay, member, now } = room("js fuzz bodies");
    const victim = await member("victim", "correct horse", "M".repeat(21) + "A");
    const peer = await member("peer", "correct horse", "Z".repeat(21) + "A");
    const v = relay.members.get(victim).session;
    const p = relay.members.get(peer).session;
    assert.equal(relay.kinds(victim, EVENT.PEER_VERIFIED).length, 1);
    // A member that never speaks, lower than the victim: the victim waits for its pake1.
    const key = relay.members.get(peer).meta.key;
    checked(await v.receive({ type: "presence",
      joins: { [lowestId]: { color: "#000000", key, joined_at: 1 } }, leaves: {} }));
    const share = () => r.pick([() => b64encode(r.pick(VALID_SHARES)),
      r.b64ish, () => b64encode(Uint8Array.from([4, ...new Uint8Array(64)]))])();
    const direct = () => r.pick([
      () => JSON.stringify({ k: r.pick(["pake1", "pake2", "pake3", "pake_fail"]),
        ...r.shaped({ pA: share, pB: share, cB: r.b64ish, cA: r.b64ish }) }),
      () => JSON.stringify({ k: "sealed", ...r.shaped({ n: r.b64ish, ct: r.b64ish }) }),
      () => r.mangle(JSON.stringify({ k: "pake1", pA: share() })),
      () => JSON.stringify(r.json()),
      () => r.text(60),
    ])();
    let cases = 0;
    const failures = new Map();
    for (let batch = 0; batch < CASES / 5; batch += 1) {
      now.advance(61000); // clear the failure window, so every pake1 is run
      for (let i = 0; i < 5; i += 1) {
        const from = r.pick([peer, lowestId, "q".repeat(21) + "A"]);
        const events = checked(await v.receive({ type: "direct", from, body: direct() }));
        cases += 1;
        for (const e of events) {
          assert.ok([EVENT.REJECTED, EVENT.PEER_FAILED, EVENT.HANDSHAKE_REFUSED].includes(e.kind),
            `unexpected ${e.kind}`);
          const key = `${e.kind}:${e.reason}`;
          failures.set(key, (failures.get(key) ?? 0) + 1);
        }
      }
    }
    // The waiting peer's handshake was run and failed both ways, many times.
    for (const key of ["peer_failed:invalid_share", "peer_failed:wrong_password"]) {
      assert.ok((failures.get(key) ?? 0) >= 5, `${key}: ${JSON.stringify([...failures])}`);
    }
    let seq = 1000;
    const envelope = () => {
      const obj = r.shaped({ e: () => r.int(3), i: () => r.int(3), n: () => b64encode(r.bytes(12)),
        ct: () => b64encode(r.bytes(r.int(90))), sig: () => b64encode(r.bytes(64)) });
      return r.pick([() => JSON.stringify(obj), () => r.mangle(JSON.stringify(obj)), r.text])();
    };
    for (let i = 0; i < CASES; i += 1) {
      seq += 1;
      const events = checked(await v.receive({ type: "message", from: peer, seq,
        body: envelope() }));
      cases += 1;
      assert.ok(!events.some((e) => e.kind === EVENT.MESSAGE_RECEIVED));
    }
    assert.equal(cases, 2 * CASES);
    let refused = 0;
    for (let i = 0; i < CASES / 5; i += 1) {
      const text = r.pick([() => r.text(80), () => JSON.stringify(r.json()), () => "\u0000",
        () => "x".repeat(r.int(3000))])();
      if (!text.isWellFormed()) {
        // A lone surrogate is not Unicode text: refused before anything is sealed.
        await assert.rejects(p.sendText(text), UsageError);
        refused += 1;
        continue;
      }
      const { frames } = await p.sendText(text);
      seq += 1;
      const events = checked(await v.receive({ type: "message", from: peer, seq,
        body: frames[0].body }));
      const read = events.filter((e) => e.kind === EVENT.MESSAGE_RECEIVED);
      assert.deepEqual(read.map((e) => [e.sender, e.text]), [[peer, text]]);
    }
    assert.ok(refused >= 10 && refused <= CASES / 10, `refused ${refused}`);
  });
