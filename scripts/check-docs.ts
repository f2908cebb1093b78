/**
 * Does /docs work for someone without internet? Starts the Worker in `wrangler dev` (production
 * settings, so the production document and CSP), opens /docs in headless Debian Chromium driven by
 * playwright-core with every host but 127.0.0.1 unreachable, and checks that the page renders the
 * operation list: every tag and every operation summary of /openapi.json is on the page. Fails on
 * any attempt to leave 127.0.0.1, any CSP violation, any page error. Saves a screenshot.
 *
 *   npm run check:docs                 (CHROMIUM=/path/to/chromium to use another build)
 *   DOCS_SCREENSHOT=out.png npm run check:docs
 *
 * Chromium is Debian's package (`apt-get install chromium`; .ci/run installs it when missing).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { freePort, startWranglerDev } from "./lib/wrangler.ts";

const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const screenshotPath = path.resolve(process.env.DOCS_SCREENSHOT ?? path.join(os.tmpdir(), "culturebridge-docs.png"));
const RENDER_TIMEOUT_MS = 60_000;

interface ApiDocument {
  tags?: { name: string }[];
  paths: Record<string, Record<string, { summary?: string; operationId?: string }>>;
}

class CheckFailed extends Error {}

function fail(message: string): never {
  throw new CheckFailed(message);
}

if (!fs.existsSync(executablePath)) {
  console.error(`check-docs: FAILED: no Chromium at ${executablePath} (apt-get install chromium, or set CHROMIUM)`);
  process.exit(1);
}

const port = await freePort();
const storage = fs.mkdtempSync(path.join(os.tmpdir(), "culturebridge-docs-"));
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "culturebridge-chromium-"));
const workerLog: string[] = [];
const worker = startWranglerDev({
  port,
  persistTo: storage,
  output: (chunk) => workerLog.push(chunk),
  vars: {
    // Production settings: the page must work with the production document and CSP.
    ENVIRONMENT: "production",
    // Never reached: /docs and /openapi.json need no database.
    DATABASE_URL: "postgresql://docs-check@127.0.0.1:9/none",
    JWT_SECRET: "docs-check-0123456789-abcdefghijklmnopqrstuvwxyz",
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
  },
});

const problems: string[] = [];
let context: Awaited<ReturnType<typeof chromium.launchPersistentContext>> | undefined;
let exitCode = 0;
try {
  await worker.ready(90_000).catch((error: unknown) => fail(`wrangler dev: ${String(error)}\n${workerLog.join("")}`));
  const base = worker.url;
  const apiDocument = (await (await fetch(`${base}/openapi.json`)).json()) as ApiDocument;
  const summaries = Object.values(apiDocument.paths).flatMap((item) =>
    Object.values(item)
      .map((operation) => operation.summary)
      .filter((summary): summary is string => Boolean(summary)),
  );
  const tags = (apiDocument.tags ?? []).map((tag) => tag.name);
  if (summaries.length === 0) fail("the document has no operation summaries");

  // An empty profile of its own (the persistent context's user data dir).
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      // No network but loopback, even for DNS: every other host fails to resolve.
      "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ],
  });
  const outside: string[] = [];
  await context.route("**/*", async (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === "127.0.0.1" || url.protocol === "data:" || url.protocol === "blob:") return route.continue();
    outside.push(url.href);
    return route.abort("internetdisconnected");
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) problems.push(`CSP: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  const answer = await page.goto(`${base}/docs`, { waitUntil: "load" });
  if (answer?.status() !== 200) fail(`/docs answered ${answer?.status()}`);
  const csp = answer.headers()["content-security-policy"] ?? "";
  if (/https?:/.test(csp)) problems.push(`the docs CSP names an outside host: ${csp}`);

  // Rendered: the sidebar lists the document's tags and operations.
  const deadline = Date.now() + RENDER_TIMEOUT_MS;
  let missingTags = tags;
  let missingSummaries = summaries;
  while (Date.now() < deadline) {
    // biome-ignore lint/performance/useDomNodeTextContent: what is rendered, not hidden DOM text, is the point
    const text = await page.locator("body").innerText();
    missingTags = tags.filter((tag) => !text.includes(tag));
    missingSummaries = summaries.filter((summary) => !text.includes(summary));
    if (missingTags.length === 0 && missingSummaries.length === 0) break;
    await page.waitForTimeout(500);
  }
  await page.screenshot({ path: screenshotPath, fullPage: false });
  if (missingTags.length > 0) problems.push(`tags not rendered: ${missingTags.join(", ")}`);
  if (missingSummaries.length > 0)
    problems.push(`${missingSummaries.length} of ${summaries.length} operations not rendered, e.g. ${missingSummaries[0]}`);
  if (outside.length > 0) problems.push(`requests leaving 127.0.0.1: ${[...new Set(outside)].join(", ")}`);
  if (problems.length > 0) fail(problems.join("\n  "));
  const size = fs.statSync(screenshotPath).size;
  console.log(
    `check-docs: /docs rendered ${tags.length} tags and ${summaries.length} operations offline; screenshot ` +
      `${screenshotPath} (${size} bytes)`,
  );
} catch (error) {
  console.error(`check-docs: FAILED: ${error instanceof CheckFailed ? error.message : String(error)}`);
  exitCode = 1;
} finally {
  await context?.close();
  await worker.stop();
  fs.rmSync(storage, { recursive: true, force: true });
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(exitCode);
