/** Shared helpers of the JS core tests: vector loading and deterministic randomness. */

import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Directory of the project's vector files (tests/vectors). */
export const VECTORS_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "vectors");

/**
 * Parse one vector file of tests/vectors.
 * @param {string} name file name, e.g. "rfc9382-p256.json"
 */
export function loadVectors(name) {
  return JSON.parse(readFileSync(join(VECTORS_DIR, name), "utf8"));
}

/** Names of every JSON vector file present in tests/vectors. */
export function vectorFiles() {
  return readdirSync(VECTORS_DIR).filter((n) => n.endsWith(".json")).sort();
}

/**
 * The vectors' SeededRandom(label): SHA-256(label || u32(0)) || SHA-256(label || u32(1)) || ...
 * read front to back (tests/vectors/generate.py); test use only. Records every draw.
 * @param {string} label ASCII
 */
export function seededRandom(label) {
  let counter = 0;
  let buffer = new Uint8Array(0);
  const given = [];
  /** @param {number} n */
  function random(n) {
    while (buffer.length < n) {
      const block = createHash("sha256").update(String(label)).update(u32be(counter)).digest();
      counter += 1;
      const grown = new Uint8Array(buffer.length + block.length);
      grown.set(buffer);
      grown.set(block, buffer.length);
      buffer = grown;
    }
    const out = buffer.slice(0, n);
    buffer = buffer.slice(n);
    given.push(out.slice());
    return out;
  }
  random.given = given;
  return random;
}

function u32be(n) {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/**
 * A byte source that replays a fixed stream and fails loudly when it runs dry.
 * @param {Uint8Array} stream
 */
export function streamRandom(stream) {
  let offset = 0;
  /** @param {number} n */
  function random(n) {
    if (offset + n > stream.length) throw new Error("pinned randomness exhausted");
    const out = stream.slice(offset, offset + n);
    offset += n;
    return out;
  }
  random.remaining = () => stream.length - offset;
  return random;
}

/** A settable millisecond clock. */
export function manualClock(start = 1_700_000_000_000) {
  let t = start;
  const now = () => t;
  now.advance = (ms) => {
    t += ms;
  };
  return now;
}

/** Bytes from hex. */
export function hex(h) {
  return Uint8Array.from(Buffer.from(h, "hex"));
}

/** Hex of bytes. */
export function toHexString(bytes) {
  return Buffer.from(bytes).toString("hex");
}
