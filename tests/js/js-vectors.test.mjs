/** The JS-generated vector file is exactly what the generator writes now (it is deterministic). */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { OUTPUT, render } from "./generate-vectors.mjs";

test("tests/vectors/js-generated.json matches a fresh run of generate-vectors.mjs", async () => {
  const committed = readFileSync(OUTPUT, "utf8");
  const fresh = await render();
  assert.ok(fresh.length > 10000);
  assert.equal(committed, fresh, "run `node tests/js/generate-vectors.mjs` and review the diff");
});
