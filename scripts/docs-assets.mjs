// Copies Scalar's standalone API-reference bundle (the /docs page's script) from node_modules
// into the Workers static-assets directory, so /docs needs no CDN: the version is the one
// package-lock.json pins for @scalar/api-reference. Run by wrangler before `wrangler dev` and
// `wrangler deploy` ([build] in wrangler.toml); `--check` only verifies the copy is current.
//
// Plain JavaScript on purpose: wrangler runs the build command with whichever `node` is first on
// PATH, which may be an older Node than the pinned one (no TypeScript type stripping there).
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const packageDir = path.join(root, "node_modules", "@scalar", "api-reference");
const source = path.join(packageDir, "dist", "browser", "standalone.js");
const targetDir = path.join(root, "public", "docs", "vendor");
const target = path.join(targetDir, "scalar-api-reference.js");

const sha256 = (file) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");

if (!fs.existsSync(source)) {
  console.error(`docs-assets: ${path.relative(root, source)} is missing; run npm install`);
  process.exit(1);
}
const version = JSON.parse(fs.readFileSync(path.join(packageDir, "package.json"), "utf8")).version;
const current = fs.existsSync(target) && sha256(target) === sha256(source);

if (process.argv.includes("--check")) {
  if (!current) {
    console.error(
      "docs-assets: public/docs/vendor is not the pinned @scalar/api-reference bundle; run node scripts/docs-assets.mjs",
    );
    process.exit(1);
  }
  console.log(`docs-assets: @scalar/api-reference ${version} in place`);
} else if (!current) {
  fs.mkdirSync(targetDir, { recursive: true });
  // Write-then-rename: several `wrangler dev` (parallel test files) may run this at once.
  const temporary = `${target}.${process.pid}.tmp`;
  fs.copyFileSync(source, temporary);
  fs.renameSync(temporary, target);
  console.log(`docs-assets: copied @scalar/api-reference ${version} to public/docs/vendor/`);
}
