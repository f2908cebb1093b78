/**
 * The test stack, started once per test run in vitest's globalSetup (Node):
 * a database (TEST_DATABASE_URL, else an in-memory PGlite served on loopback)
 * with migrations applied, the WebSocket-to-TCP proxy, a fake Stripe, and
 * optionally the API itself in `wrangler dev` (real workerd).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type DatabaseHandle, startEmbeddedDatabase, useExternalDatabase } from "../../scripts/lib/database.ts";
import { freePort, startWranglerDev, type WranglerDev } from "../../scripts/lib/wrangler.ts";
import { startWsProxy, type WsProxy } from "../../scripts/lib/ws-proxy.ts";
import { type FakeStripe, startFakeStripe } from "./fake-stripe.ts";

export const TEST_JWT_SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
export const TEST_WEBHOOK_SECRET = "whsec_test_culturebridge_0123456789abcdef";
export const TEST_STRIPE_KEY = "sk_test_culturebridge_fake";

export interface DatabaseStack {
  database: DatabaseHandle;
  proxy: WsProxy;
  close(): Promise<void>;
}

export async function startDatabaseStack(): Promise<DatabaseStack> {
  const url = process.env.TEST_DATABASE_URL;
  const database = url ? await useExternalDatabase(url) : await startEmbeddedDatabase({});
  const proxy = await startWsProxy({ target: database.url });
  return {
    database,
    proxy,
    close: async () => {
      await proxy.close();
      await database.close();
    },
  };
}

export interface ApiStack extends DatabaseStack {
  baseUrl: string;
  stripe: FakeStripe;
  worker: WranglerDev;
}

/** Vars of the Worker under test; `overrides` for stacks with other settings (e.g. a low rate limit). */
export function testVars(
  stack: { databaseUrl: string; proxyUrl: string; stripeUrl: string; baseUrl: string },
  overrides: Record<string, string> = {},
) {
  return {
    ENVIRONMENT: "test",
    ALLOW_TEST_CLOCK: "1",
    DATABASE_URL: stack.databaseUrl,
    WS_PROXY: stack.proxyUrl,
    JWT_SECRET: TEST_JWT_SECRET,
    RATE_LIMIT_PER_MINUTE: "1000000",
    STRIPE_SECRET_KEY: TEST_STRIPE_KEY,
    STRIPE_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    STRIPE_API_BASE: stack.stripeUrl,
    PUBLIC_BASE_URL: stack.baseUrl,
    CORS_ORIGINS: "https://app.culturebridge.test",
    ...overrides,
  };
}

/** Starts a Worker in wrangler dev against an existing database/proxy/stripe. */
export async function startTestWorker(
  stack: { databaseUrl: string; proxyUrl: string; stripeUrl: string },
  overrides: Record<string, string> = {},
  /** Local KV/DO/cache storage; two Workers given the same directory share their KV (two "locations"). */
  persistTo = fs.mkdtempSync(path.join(os.tmpdir(), "culturebridge-wrangler-")),
): Promise<WranglerDev> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const logFile = path.join(os.tmpdir(), `culturebridge-worker-${port}.log`);
  const log = fs.createWriteStream(logFile);
  const worker = startWranglerDev({
    port,
    vars: testVars({ ...stack, baseUrl }, overrides),
    persistTo,
    output: (chunk) => log.write(chunk),
  });
  try {
    await worker.ready(90_000);
  } catch (error) {
    await worker.stop();
    throw new Error(`${String(error)}; see ${logFile}`);
  }
  return worker;
}

export async function startApiStack(): Promise<ApiStack> {
  const databaseStack = await startDatabaseStack();
  const stripe = await startFakeStripe();
  const worker = await startTestWorker({
    databaseUrl: databaseStack.database.url,
    proxyUrl: databaseStack.proxy.url,
    stripeUrl: stripe.url,
  });
  return {
    ...databaseStack,
    stripe,
    worker,
    baseUrl: worker.url,
    close: async () => {
      await worker.stop();
      await stripe.close();
      await databaseStack.close();
    },
  };
}
