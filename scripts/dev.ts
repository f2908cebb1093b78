/**
 * `npm start`: the whole local stack in one process tree.
 *
 *  1. the database: embedded PGlite persisted under .data/ (served over the
 *     Postgres wire protocol), or the Postgres given by DATABASE_URL;
 *  2. migrations; demo data on the first start of the embedded database
 *     (SEED_DEMO=0 skips, SEED_DEMO=1 also seeds a DATABASE_URL);
 *  3. the ADMIN_EMAIL / ADMIN_PASSWORD admin, when given;
 *  4. the WebSocket-to-TCP proxy the Neon driver goes through;
 *  5. `wrangler dev` (real workerd) on PORT (8787), with .dev.vars overridden
 *     by the environment;
 *  6. the cron: the Worker's scheduled handler every CRON_INTERVAL_SECONDS (60;
 *     0 turns it off), through wrangler dev's /cdn-cgi/local/scheduled (the
 *     trigger endpoint of this wrangler version; /cdn-cgi/handler/scheduled is
 *     gone and /__scheduled needs --test-scheduled), so unpaid holds expire and
 *     reminders go out locally as in production (every 5 min there);
 * and on Ctrl-C / SIGTERM it stops every child. Killed outright (SIGKILL), its
 * children follow by themselves (scripts/lib/wrangler.ts); a port still held by
 * something else is refused at start-up instead of mistaken for our server.
 * DATA_DIR (default .data) holds the embedded database and wrangler's state.
 */

import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { count } from "drizzle-orm";
import { users } from "../drizzle/schema.ts";
import { DEMO_LOGINS, DEMO_PASSWORD, seedDemoData } from "../drizzle/seed.ts";
import { ensureAdmin } from "../src/services/admins.ts";
import { type DatabaseHandle, projectRoot, startEmbeddedDatabase, useExternalDatabase } from "./lib/database.ts";
import { startFakeStripe } from "./lib/fake-stripe.ts";
import { connectNode } from "./lib/node-db.ts";
import { configWithHyperdrive, portInUse, startWranglerDev, type WranglerDev } from "./lib/wrangler.ts";
import { startWsProxy, type WsProxy } from "./lib/ws-proxy.ts";

const OVERRIDABLE = [
  "DATABASE_URL",
  "JWT_SECRET",
  "STRIPE_SECRET_KEY",
  "STRIPE_WEBHOOK_SECRET",
  "STRIPE_API_BASE",
  "CORS_ORIGINS",
  "RATE_LIMIT_PER_MINUTE",
  "ENVIRONMENT",
  "PUBLIC_BASE_URL",
  "CHECKOUT_SUCCESS_URL",
  "CHECKOUT_CANCEL_URL",
  "EMAIL_API_URL",
  "EMAIL_API_KEY",
  "EMAIL_FROM",
  "APP_VERSION",
  "ALLOW_TEST_CLOCK",
  "MEETING_BASE_URL",
  "PLATFORM_FEE_PERCENT",
  "PAYOUTS_REQUIRED",
  "CONNECT_RETURN_URL",
  "CONNECT_REFRESH_URL",
];

function log(message: string) {
  process.stdout.write(`[start] ${message}\n`);
}

function readDevVars(file: string): Record<string, string> {
  if (!fs.existsSync(file)) return {};
  const vars: Record<string, string> = {};
  for (const line of fs.readFileSync(file, "utf8").split(/\r?\n/)) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*(.*)\s*$/.exec(line);
    if (!match?.[1] || line.trimStart().startsWith("#")) continue;
    vars[match[1]] = (match[2] ?? "").replace(/^(['"])(.*)\1$/, "$2");
  }
  return vars;
}

const children: WranglerDev[] = [];
let database: DatabaseHandle | undefined;
let proxy: WsProxy | undefined;
let cron: NodeJS.Timeout | undefined;
let stopping = false;

async function stop(code: number): Promise<never> {
  if (stopping) process.exit(code);
  stopping = true;
  log("stopping...");
  clearInterval(cron);
  await Promise.all(children.map((child) => child.stop()));
  await proxy?.close().catch(() => {});
  await database?.close().catch(() => {});
  process.exit(code);
}

process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));

/** The cron expression of wrangler.toml's first trigger (what production passes as controller.cron). */
function configuredCron(): string {
  const toml = fs.readFileSync(path.join(projectRoot, "wrangler.toml"), "utf8");
  return /^\s*crons\s*=\s*\[\s*"([^"]+)"/m.exec(toml)?.[1] ?? "*/5 * * * *";
}

/**
 * Runs the Worker's scheduled handler every `seconds` through wrangler dev's
 * trigger endpoint. Quiet when it works (the handler logs its own report);
 * a failure is printed once, and again only after it recovered.
 */
function startCron(url: string, seconds: number): NodeJS.Timeout {
  const cronExpression = configuredCron();
  const trigger = `${url}/cdn-cgi/local/scheduled?cron=${encodeURIComponent(cronExpression)}&format=json`;
  let failing = false;
  let running = false;
  const timer = setInterval(async () => {
    if (running || stopping) return; // never overlap runs from here
    running = true;
    try {
      const response = await fetch(trigger, { signal: AbortSignal.timeout(Math.max(seconds, 30) * 1000) });
      const body = await response.text();
      if (!response.ok) throw new Error(`${response.status} ${body.slice(0, 200)}`);
      if (failing) log("cron: scheduled handler runs again");
      failing = false;
    } catch (error) {
      if (!failing && !stopping) log(`cron: scheduled handler failed: ${error instanceof Error ? error.message : String(error)}`);
      failing = true;
    } finally {
      running = false;
    }
  }, seconds * 1000);
  timer.unref();
  return timer;
}

async function main() {
  const started = Date.now();
  const port = Number(process.env.PORT ?? 8787);
  const host = "127.0.0.1";
  // First, before anything else starts: a listener left on the port (an orphaned wrangler of a
  // killed launcher, another project) would answer our health check and pass for us.
  if (await portInUse(port, host)) {
    log(
      `refusing to start: port ${port} on ${host} is already in use by another process ` +
        `(an earlier npm start that is still running? see \`lsof -i :${port}\` or \`fuser ${port}/tcp\`); stop it or set PORT`,
    );
    process.exit(1);
  }
  const dataDir = path.resolve(projectRoot, process.env.DATA_DIR ?? ".data");
  fs.mkdirSync(dataDir, { recursive: true });
  const fileVars = readDevVars(path.join(projectRoot, ".dev.vars"));
  const vars: Record<string, string> = { ENVIRONMENT: "development", PUBLIC_BASE_URL: "", ...fileVars };
  for (const name of OVERRIDABLE) {
    const value = process.env[name];
    if (value !== undefined) vars[name] = value;
  }
  if (!vars.PUBLIC_BASE_URL) vars.PUBLIC_BASE_URL = `http://${host}:${port}`;

  const externalUrl = process.env.DATABASE_URL;
  if (externalUrl) {
    log(`using DATABASE_URL (${externalUrl.replace(/:[^:@/]*@/, ":***@")})`);
    database = await useExternalDatabase(externalUrl);
  } else {
    log(`starting the embedded database (PGlite, ${path.relative(projectRoot, path.join(dataDir, "pglite"))})`);
    database = await startEmbeddedDatabase({ dataDir: path.join(dataDir, "pglite") });
  }
  log("migrations applied");
  vars.DATABASE_URL = database.url;

  if (!vars.JWT_SECRET) {
    // A stable per-checkout development secret, so tokens survive restarts.
    const secretFile = path.join(dataDir, "jwt-secret");
    if (!fs.existsSync(secretFile)) fs.writeFileSync(secretFile, randomBytes(48).toString("base64url"), { mode: 0o600 });
    vars.JWT_SECRET = fs.readFileSync(secretFile, "utf8").trim();
  }
  if (vars.ENVIRONMENT !== "development" && Buffer.byteLength(vars.JWT_SECRET) < 32) {
    log("refusing to start: JWT_SECRET must be at least 32 bytes outside development");
    return stop(1);
  }

  const node = connectNode(database.url);
  try {
    const seedSetting = process.env.SEED_DEMO;
    const [row] = await node.db.select({ n: count() }).from(users);
    const empty = (row?.n ?? 0) === 0;
    const shouldSeed = seedSetting === "1" ? empty : seedSetting === "0" ? false : !externalUrl && empty;
    if (shouldSeed) {
      const summary = await seedDemoData(node.db);
      log(
        `demo data seeded: ${summary.coaches} coaches, ${summary.clients} clients, ${summary.posts} posts, ${summary.resources} resources`,
      );
    } else if (!empty) {
      log("database already has data: not seeding");
    }
    if (process.env.ADMIN_EMAIL && process.env.ADMIN_PASSWORD) {
      const admin = await ensureAdmin(node.db, process.env.ADMIN_EMAIL, process.env.ADMIN_PASSWORD);
      log(`admin ${process.env.ADMIN_EMAIL} ${admin.created ? "created" : "updated"}`);
    }
  } finally {
    await node.close();
  }

  // With DATABASE_URL: the deployed path, Hyperdrive (emulated by wrangler dev: TCP to that database).
  // The embedded PGlite keeps the Neon driver path through the WebSocket proxy (the fallback path).
  let extraArgs: string[] = [];
  if (externalUrl && process.env.DEV_DATABASE_PATH !== "neon") {
    const config = configWithHyperdrive(database.url);
    process.on("exit", () => fs.rmSync(config, { force: true }));
    extraArgs = ["--config", config];
    log("database path: Hyperdrive binding (local emulation)");
  } else {
    proxy = await startWsProxy({ target: database.url });
    vars.WS_PROXY = proxy.url;
    log("database path: Neon serverless driver through the local WebSocket proxy");
  }

  // --- payments: the local Stripe stand-in (docs/PAYMENTS.md) ---
  // In development without STRIPE_SECRET_KEY, checkout and payouts onboarding work end to end against
  // scripts/lib/fake-stripe.ts (in this process, on loopback): its checkout page has Pay / Cancel and
  // delivers signed webhooks to the Worker. A real key switches it off; nothing of it is in the Worker.
  if (vars.ENVIRONMENT === "development" && !vars.STRIPE_SECRET_KEY) {
    const webhookSecret = `whsec_local_${randomBytes(24).toString("hex")}`;
    const standIn = await startFakeStripe({ webhook: { url: `http://${host}:${port}`, secret: webhookSecret } });
    Object.assign(vars, {
      STRIPE_SECRET_KEY: "sk_test_local_stand_in",
      STRIPE_API_BASE: standIn.url,
      STRIPE_WEBHOOK_SECRET: webhookSecret,
    });
    log(`payments: local Stripe stand-in on ${standIn.url} (no STRIPE_SECRET_KEY given; see docs/PAYMENTS.md)`);
  }

  const wrangler = startWranglerDev({ port, vars, persistTo: path.join(dataDir, "wrangler"), extraArgs });
  children.push(wrangler);
  wrangler.child.on("exit", (code) => {
    if (!stopping) {
      log(`wrangler exited (${code})`);
      void stop(code ?? 1);
    }
  });

  const url = wrangler.url;
  const status = await wrangler.ready(120_000);
  if (status !== 200) log(`warning: /health answered ${status}`);
  log(`CultureBridge API ready on ${url} in ${((Date.now() - started) / 1000).toFixed(1)} s (docs: ${url}/docs)`);
  const cronSeconds = Number(process.env.CRON_INTERVAL_SECONDS ?? 60);
  if (Number.isFinite(cronSeconds) && cronSeconds > 0) {
    cron = startCron(url, cronSeconds);
    log(
      `cron: the scheduled handler (expired holds, reminders, token clean-up) runs every ${cronSeconds} s ` +
        `(production: ${configuredCron()}); CRON_INTERVAL_SECONDS=0 turns it off`,
    );
  } else {
    log("cron: off (CRON_INTERVAL_SECONDS=0): unpaid holds do not expire and reminders are not sent");
  }
  if (!externalUrl || process.env.SEED_DEMO === "1") {
    log(
      `demo logins (password ${DEMO_PASSWORD}): admin ${DEMO_LOGINS.admin}, client ${DEMO_LOGINS.client}, coach ${DEMO_LOGINS.coach}`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(error);
  void stop(1);
});
