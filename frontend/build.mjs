// Build the page's bundles: one esbuild step from frontend/js/app.js and
// frontend/css/app.css into content-hashed files in frontend/static/frontend/dist/,
// plus manifest.json mapping each logical name to its file and its SHA-384
// Subresource Integrity value, which the Django template reads.
//
//   node frontend/build.mjs          minified bundles, external source maps
//
// The source maps are written without a sourceMappingURL comment on purpose:
// Django's manifest static storage rewrites such comments, which would change
// the bytes after we hashed them and break the integrity check.

import { createHash } from "node:crypto";
import { mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

import * as esbuild from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.join(here, "static", "frontend", "dist");

/** Logical name -> entry point; the template asks for the logical name. */
const ENTRIES = {
  app: path.join(here, "js", "app.js"),
  style: path.join(here, "css", "app.css"),
};

/** Return the SRI value ("sha384-<base64>") of some bytes. */
function integrity(bytes) {
  return `sha384-${createHash("sha384").update(bytes).digest("base64")}`;
}

/** Remove the previous build so stale hashed files do not pile up. */
async function clean() {
  await mkdir(outdir, { recursive: true });
  for (const name of await readdir(outdir)) {
    await rm(path.join(outdir, name), { recursive: true, force: true });
  }
}

async function main() {
  await clean();
  const result = await esbuild.build({
    entryPoints: ENTRIES,
    outdir,
    entryNames: "[name]-[hash]",
    bundle: true,
    format: "esm",
    minify: true,
    sourcemap: "external",
    target: ["chrome120", "firefox128", "safari17"],
    metafile: true,
    logLevel: "warning",
  });

  const manifest = {};
  for (const [outPath, meta] of Object.entries(result.metafile.outputs)) {
    if (!meta.entryPoint) continue;
    const entry = path.resolve(meta.entryPoint);
    const logical = Object.keys(ENTRIES).find((name) => ENTRIES[name] === entry);
    if (!logical) continue;
    const file = path.basename(outPath);
    const key = `${logical}${path.extname(file)}`;
    const bytes = await readFile(path.resolve(outPath));
    manifest[key] = { file, integrity: integrity(bytes), bytes: bytes.length };
  }
  for (const name of Object.keys(ENTRIES)) {
    if (!Object.keys(manifest).some((key) => key.startsWith(`${name}.`))) {
      throw new Error(`build: no output for entry ${name}`);
    }
  }
  await writeFile(path.join(outdir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  const summary = Object.entries(manifest)
    .map(([key, value]) => `${key} -> ${value.file} (${value.bytes} bytes)`)
    .join("\n");
  console.log(summary);
}

main().catch((error) => {
  console.error(error.message ?? error);
  process.exit(1);
});
