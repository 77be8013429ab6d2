/** Strict base64url and the byte helpers of core/encoding.js. */

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  b64decode, b64encode, bigIntToBytes, bytesToBigInt, concat, isText, joinZero, parseJsonObject,
  toJson, u32, u64le,
} from "../../frontend/js/core/encoding.js";
import { LIMIT } from "../../frontend/js/core/constants.js";
import { EncodingError } from "../../frontend/js/core/errors.js";
import { seededRandom, toHexString } from "./support.mjs";

test("b64encode matches Node's base64url for every length 0..70", () => {
  const random = seededRandom(1);
  for (let n = 0; n <= 70; n += 1) {
    const bytes = random(n);
    const text = b64encode(bytes);
    assert.equal(text, Buffer.from(bytes).toString("base64url"));
    assert.deepEqual(b64decode(text), bytes);
  }
});

test("b64decode refuses padding, the standard alphabet, junk and non-canonical tails", () => {
  for (const bad of ["AA==", "AAA=", "+AAA", "/AAA", "AA AA", "A", "AAAAA", "AB", "AAB", "é",
    "AA\n", null, 12]) {
    assert.throws(() => b64decode(bad), EncodingError, String(bad));
  }
  assert.deepEqual(b64decode("AA"), new Uint8Array([0]));
  assert.deepEqual(b64decode("AAE"), new Uint8Array([0, 1]));
});

test("b64decode enforces an expected length", () => {
  assert.throws(() => b64decode("AAAA", 2), EncodingError);
  assert.equal(b64decode("AAAA", 3).length, 3);
});

test("u32 is big-endian and u64le little-endian", () => {
  assert.equal(toHexString(u32(0x01020304)), "01020304");
  assert.equal(toHexString(u64le(65)), "4100000000000000");
  assert.throws(() => u32(-1), RangeError);
  assert.throws(() => u32(2 ** 32), RangeError);
});

test("joinZero separates parts with single 0x00 bytes", () => {
  assert.equal(toHexString(joinZero("a", new Uint8Array([1]), "b")), "610001006" + "2");
  assert.equal(toHexString(concat("a", "b")), "6162");
});

test("bigint conversions round-trip at fixed length", () => {
  assert.equal(bytesToBigInt(bigIntToBytes(258n, 32)), 258n);
  assert.throws(() => bigIntToBytes(1n << 256n, 32), RangeError);
});

test("toJson is compact, keeps key order and writes non-ASCII as is", () => {
  assert.equal(toJson({ t: "text", body: "é\n\u0001\"", ts: 5 }),
    '{"t":"text","body":"é\\n\\u0001\\"","ts":5}');
});

test("parseJsonObject refuses non-objects", () => {
  for (const bad of ["[]", "null", "3", "\"x\"", "{", 5]) {
    assert.throws(() => parseJsonObject(bad), EncodingError);
  }
  assert.deepEqual(parseJsonObject('{"a":1}'), { a: 1 });
});

test("isText agrees with String.prototype.isWellFormed on strings of any surrogates", () => {
  const random = seededRandom("is text");
  const alphabet = ["a", "é", "😀", "\u0000", "\ud800", "\udbff", "\udc00", "\udfff"];
  let refused = 0;
  for (let n = 0; n < 2000; n += 1) {
    const picks = random(random(1)[0] % 6);
    const text = Array.from(picks, (b) => alphabet[b % alphabet.length]).join("");
    assert.equal(isText(text), text.isWellFormed(), JSON.stringify(text));
    if (!isText(text)) refused += 1;
  }
  assert.ok(refused > 100 && refused < 1900, `refused ${refused}`);
});

test("parseJsonObject refuses a lone surrogate anywhere, keeps an escaped pair", () => {
  for (const bad of ['{"a":"\\ud800"}', '{"a":"x\\udc00y"}', '{"\\udbff":1}',
    '{"a":[1,{"b":["\\udfff"]}]}', '{"a":"\\ude00\\ud83d"}', '{"a":"\ud800"}',
    `{"a":${"[".repeat(5000)}"\\ud800"${"]".repeat(5000)}}`]) {
    assert.throws(() => parseJsonObject(bad), EncodingError, bad.slice(0, 40));
  }
  assert.deepEqual(parseJsonObject('{"a":"\\ud83d\\ude00"}'), { a: "😀" });
  assert.deepEqual(parseJsonObject('{"a":"\ud83d\ude00"}'), { a: "😀" });
});

/** A JSON object nested `depth` containers deep: objects in objects, or arrays in one. */
function nested(depth, shape) {
  if (shape === "objects") return '{"a":'.repeat(depth - 1) + "{}" + "}".repeat(depth - 1);
  return depth === 1 ? "{}" : '{"a":' + "[".repeat(depth - 1) + "]".repeat(depth - 1) + "}";
}

test("parseJsonObject refuses nesting deeper than the limit, for depths 1..5000", () => {
  assert.equal(LIMIT.MAX_JSON_DEPTH, 8);
  for (const shape of ["objects", "arrays"]) {
    for (let depth = 1; depth <= 5000; depth += 1) {
      const text = nested(depth, shape);
      if (depth <= LIMIT.MAX_JSON_DEPTH) assert.equal(typeof parseJsonObject(text), "object");
      else assert.throws(() => parseJsonObject(text), EncodingError, `${shape} ${depth}`);
    }
  }
  for (const bad of ["[".repeat(2000), '{"a":'.repeat(2000), '{"a":' + "[".repeat(100000)]) {
    assert.throws(() => parseJsonObject(bad), EncodingError);
  }
});

test("parseJsonObject refuses NaN and Infinity and reads huge literals as infinity", () => {
  for (const literal of ["NaN", "Infinity", "-Infinity", "[NaN]"]) {
    assert.throws(() => parseJsonObject(`{"ts":${literal}}`), EncodingError, literal);
  }
  assert.equal(parseJsonObject(`{"x":${"9".repeat(5000)}}`).x, Infinity);
  assert.equal(parseJsonObject('{"x":1.0}').x, 1);
});
