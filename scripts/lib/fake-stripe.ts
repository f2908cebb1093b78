/**
 * A local stand-in for the parts of Stripe the product uses, driven by the
 * real Stripe SDK (pointed here by STRIPE_API_BASE): checkout sessions
 * (create / retrieve / expire), refunds, Connect Express accounts and Account
 * Links, with Idempotency-Key replay as Stripe does it.
 *
 * Two users:
 * - the tests (test/helpers/fake-stripe.ts re-exports this file): every request
 *   is recorded (GET /__requests), failures can be switched on (POST /__mode),
 *   and the tests deliver the events themselves;
 * - `npm start` without STRIPE_SECRET_KEY (scripts/dev.ts): started with a
 *   webhook target, it serves the hosted pages (fake-stripe-pages.ts) --
 *   a checkout page with Pay / Cancel and an onboarding page -- and delivers
 *   properly signed events to the Worker, as Stripe would.
 * It listens on loopback only and is never part of the Worker.
 */

import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import { handleHostedPage, type WebhookTarget } from "./fake-stripe-pages.ts";

export interface RecordedRequest {
  method: string;
  path: string;
  idempotencyKey: string | undefined;
  authorization: string | undefined;
  body: Record<string, unknown>;
}

type Json = Record<string, unknown>;

/** Parses Stripe's form encoding (`a[b][0][c]=1`) into nested objects and arrays. */
export function parseStripeForm(text: string): Json {
  const root: Json = {};
  for (const [rawKey, value] of new URLSearchParams(text)) {
    const parts = rawKey.split(/\[|\]\[|\]/).filter((part) => part.length > 0);
    let node: Record<string, unknown> | unknown[] = root;
    parts.forEach((part, index) => {
      const last = index === parts.length - 1;
      const nextIsIndex = /^\d+$/.test(parts[index + 1] ?? "");
      const key: string | number = Array.isArray(node) ? Number(part) : part;
      const container = node as Record<string | number, unknown>;
      if (last) container[key] = value;
      else {
        if (container[key] === undefined) container[key] = nextIsIndex ? [] : {};
        node = container[key] as Record<string, unknown> | unknown[];
      }
    });
  }
  return root;
}

const id = (prefix: string) => `${prefix}_test_${randomBytes(12).toString("hex")}`;

export const newStripeId = id;

export interface FakeStripeState {
  url: string;
  sessions: Map<string, Json>;
  refunds: Map<string, Json>;
  accounts: Map<string, Json>;
  webhook: WebhookTarget | undefined;
}

export interface FakeStripe {
  url: string;
  port: number;
  requests: RecordedRequest[];
  sessions: Map<string, Json>;
  accounts: Map<string, Json>;
  close(): Promise<void>;
}

/**
 * mode: "error" answers 500, "hang" never answers, "lose" does the work (and
 * keeps it for idempotent replay) but drops the connection instead of
 * answering -- Stripe's answer lost on the way back; "slow" answers normally
 * after `delayMs` (a slow Stripe: what other requests may do meanwhile).
 */
type Mode = "ok" | "error" | "hang" | "lose" | "slow";

export async function startFakeStripe(options: { webhook?: WebhookTarget; host?: string } = {}): Promise<FakeStripe> {
  const requests: RecordedRequest[] = [];
  const sessions = new Map<string, Json>();
  const refunds = new Map<string, Json>();
  const accounts = new Map<string, Json>();
  const state: FakeStripeState = { url: "", sessions, refunds, accounts, webhook: options.webhook };
  const idempotent = new Map<string, { status: number; body: Json }>();
  let mode: Mode = "ok";
  /** Status of the refunds the fake creates (Stripe answers "pending" for some payment methods). */
  let refundStatus = "succeeded";
  /** When set, the error/hang mode applies only to requests whose body contains it (tests run in parallel). */
  let modeMatch: string | undefined;
  /** How long the "slow" mode waits before answering. */
  let slowDelayMs = 0;

  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", "http://stripe.local");
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json", "request-id": id("req") });
      res.end(JSON.stringify(body));
    };

    if (url.pathname === "/__requests") return send(200, { requests });
    if (await handleHostedPage(state, req, res, url, raw)) return;
    if (url.pathname === "/__sessions") return send(200, { sessions: [...sessions.values()] });
    const peekMatch = /^\/__sessions\/([^/]+)$/.exec(url.pathname);
    if (peekMatch?.[1] && req.method === "GET") {
      const session = sessions.get(peekMatch[1]);
      return session ? send(200, session) : send(404, { error: { message: "no such session" } });
    }
    if (url.pathname === "/__mode" && req.method === "POST") {
      const options = JSON.parse(raw || "{}") as { mode?: Mode; refundStatus?: string; match?: string; delayMs?: number };
      mode = options.mode ?? "ok";
      refundStatus = options.refundStatus ?? "succeeded";
      modeMatch = options.match;
      slowDelayMs = options.delayMs ?? 1000;
      return send(200, { mode, refundStatus, match: modeMatch ?? null });
    }
    if (url.pathname === "/__reset" && req.method === "POST") {
      requests.length = 0;
      mode = "ok";
      refundStatus = "succeeded";
      modeMatch = undefined;
      return send(200, {});
    }
    if (url.pathname === "/__refunds") return send(200, { refunds: [...refunds.values()] });
    // Test control: the customer paid (or not) on the hosted page. Returns the
    // completed session, as Stripe would put it in checkout.session.completed.
    const completeMatch = /^\/__sessions\/([^/]+)\/complete$/.exec(url.pathname);
    if (completeMatch?.[1] && req.method === "POST") {
      const session = sessions.get(completeMatch[1]);
      if (!session) return send(404, { error: { message: "no such session" } });
      const options = JSON.parse(raw || "{}") as { amount_total?: number; currency?: string };
      session.status = "complete";
      session.payment_status = "paid";
      session.payment_intent ??= id("pi");
      if (options.amount_total !== undefined) session.amount_total = options.amount_total;
      if (options.currency !== undefined) session.currency = options.currency;
      return send(200, session);
    }

    const body = req.headers["content-type"]?.includes("application/x-www-form-urlencoded") ? parseStripeForm(raw) : {};
    const idempotencyKey = req.headers["idempotency-key"] as string | undefined;
    requests.push({
      method: req.method ?? "GET",
      path: url.pathname,
      idempotencyKey,
      authorization: req.headers.authorization,
      body,
    });

    const affected = modeMatch === undefined || raw.includes(modeMatch) || url.pathname.includes(modeMatch);
    if (mode === "hang" && affected) return; // never answers: the SDK's timeout must handle it
    if (mode === "slow" && affected) await new Promise((resolve) => setTimeout(resolve, slowDelayMs));
    if (mode === "error" && affected) return send(500, { error: { type: "api_error", message: "fake stripe is down" } });
    const lose = mode === "lose" && affected;
    if (!req.headers.authorization?.startsWith("Bearer sk_")) {
      return send(401, { error: { type: "invalid_request_error", message: "Invalid API Key provided" } });
    }
    const replayKey = idempotencyKey ? `${req.method} ${url.pathname} ${idempotencyKey}` : undefined;
    if (replayKey && idempotent.has(replayKey)) {
      const stored = idempotent.get(replayKey) as { status: number; body: Json };
      if (lose) {
        req.socket.destroy();
        return;
      }
      res.setHeader("idempotent-replayed", "true");
      return send(stored.status, stored.body);
    }
    const reply = (status: number, payload: Json) => {
      if (replayKey) idempotent.set(replayKey, { status, body: payload });
      if (lose) {
        req.socket.destroy();
        return;
      }
      send(status, payload);
    };

    const now = Math.floor(Date.now() / 1000);
    if (req.method === "POST" && url.pathname === "/v1/checkout/sessions") {
      const lineItems = (body.line_items as Json[] | undefined) ?? [];
      const amountTotal = lineItems.reduce((sum, item) => {
        const priceData = item.price_data as Json | undefined;
        return sum + Number(priceData?.unit_amount ?? 0) * Number(item.quantity ?? 1);
      }, 0);
      const first = lineItems[0]?.price_data as Json | undefined;
      const sessionId = id("cs");
      const session: Json = {
        id: sessionId,
        object: "checkout.session",
        mode: body.mode ?? "payment",
        status: "open",
        payment_status: "unpaid",
        amount_total: amountTotal,
        currency: String(first?.currency ?? "usd").toLowerCase(),
        expires_at: Number(body.expires_at ?? now + 24 * 3600),
        created: now,
        metadata: body.metadata ?? {},
        client_reference_id: body.client_reference_id ?? null,
        customer_email: body.customer_email ?? null,
        success_url: body.success_url ?? null,
        cancel_url: body.cancel_url ?? null,
        payment_intent: null,
        payment_intent_data: body.payment_intent_data ?? null,
        // The hosted page of this stand-in (fake-stripe-pages.ts): Pay / Cancel.
        url: `${state.url}/c/pay/${sessionId}`,
        livemode: false,
      };
      sessions.set(sessionId, session);
      return reply(200, session);
    }
    const sessionMatch = /^\/v1\/checkout\/sessions\/([^/]+)(\/expire)?$/.exec(url.pathname);
    if (sessionMatch?.[1]) {
      const session = sessions.get(sessionMatch[1]);
      if (!session)
        return reply(404, {
          error: { type: "invalid_request_error", code: "resource_missing", message: "No such checkout.session" },
        });
      if (sessionMatch[2] && req.method === "POST") {
        if (session.status !== "open")
          return reply(400, { error: { type: "invalid_request_error", message: "Only open sessions can be expired" } });
        session.status = "expired";
        void deliverFakeEvent(state, "checkout.session.expired", session);
      }
      return reply(200, session);
    }
    if (req.method === "POST" && url.pathname === "/v1/refunds") {
      const refund: Json = {
        id: id("re"),
        object: "refund",
        status: affected ? refundStatus : "succeeded",
        payment_intent: body.payment_intent ?? null,
        charge: body.charge ?? null,
        amount: body.amount !== undefined ? Number(body.amount) : null,
        metadata: body.metadata ?? {},
        created: now,
      };
      refunds.set(String(refund.id), refund);
      if (refund.status === "succeeded") void deliverRefunded(state, refund);
      return reply(200, refund);
    }
    if (req.method === "POST" && url.pathname === "/v1/accounts") {
      const account: Json = {
        id: id("acct"),
        object: "account",
        type: body.type ?? "express",
        email: body.email ?? null,
        charges_enabled: false,
        payouts_enabled: false,
        details_submitted: false,
        metadata: body.metadata ?? {},
        capabilities: body.capabilities ?? {},
        created: now,
      };
      accounts.set(String(account.id), account);
      return reply(200, account);
    }
    const accountMatch = /^\/v1\/accounts\/([^/]+)$/.exec(url.pathname);
    if (accountMatch?.[1] && req.method === "GET") {
      const account = accounts.get(accountMatch[1]);
      return account ? reply(200, account) : reply(404, { error: { type: "invalid_request_error", code: "resource_missing" } });
    }
    if (req.method === "POST" && url.pathname === "/v1/account_links") {
      // The demo data's connected accounts (drizzle/seed.ts) exist here from the start.
      if (String(body.account).startsWith("acct_demo_") && !accounts.has(String(body.account))) {
        accounts.set(String(body.account), {
          id: body.account,
          object: "account",
          type: "express",
          charges_enabled: true,
          payouts_enabled: true,
          details_submitted: true,
          metadata: {},
          created: now,
        });
      }
      const account = accounts.get(String(body.account));
      if (!account) return reply(400, { error: { type: "invalid_request_error", message: "No such account" } });
      const query = new URLSearchParams({
        return_url: String(body.return_url ?? ""),
        refresh_url: String(body.refresh_url ?? ""),
      });
      return reply(200, {
        object: "account_link",
        created: now,
        expires_at: now + 300,
        url: `${state.url}/connect/onboarding/${account.id}?${query}`,
      });
    }
    return send(404, {
      error: { type: "invalid_request_error", message: `Unrecognized request URL (${req.method}: ${url.pathname})` },
    });
  });

  await new Promise<void>((resolve) => server.listen(0, options.host ?? "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  state.url = `http://127.0.0.1:${port}`;
  return {
    url: state.url,
    port,
    requests,
    sessions,
    accounts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------
// Test-side helpers: talk to the fake, build and deliver signed events
// ---------------------------------------------------------------------------

export async function fakeStripeRequests(stripeUrl: string): Promise<RecordedRequest[]> {
  const response = await fetch(`${stripeUrl}/__requests`);
  return ((await response.json()) as { requests: RecordedRequest[] }).requests;
}

export async function fakeStripeSession(stripeUrl: string, sessionId: string): Promise<Json> {
  const response = await fetch(`${stripeUrl}/__sessions/${sessionId}`);
  if (!response.ok) throw new Error(`fake stripe has no session ${sessionId}`);
  return (await response.json()) as Json;
}

/** Simulates the customer paying on the hosted page; returns the completed session. */
export async function completeFakeSession(
  stripeUrl: string,
  sessionId: string,
  overrides: { amount_total?: number; currency?: string } = {},
): Promise<Json> {
  const response = await fetch(`${stripeUrl}/__sessions/${sessionId}/complete`, {
    method: "POST",
    body: JSON.stringify(overrides),
  });
  if (!response.ok) throw new Error(`cannot complete ${sessionId}: ${response.status}`);
  return (await response.json()) as Json;
}

export async function setFakeStripeMode(
  stripeUrl: string,
  options: { mode?: Mode; refundStatus?: string; match?: string; delayMs?: number },
): Promise<void> {
  await fetch(`${stripeUrl}/__mode`, { method: "POST", body: JSON.stringify(options) });
}

/** A Stripe event envelope around an object, as Stripe sends it. */
export function stripeEvent(type: string, object: Json, eventId = id("evt")): Json {
  return {
    id: eventId,
    object: "event",
    api_version: "2025-01-01",
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    data: { object },
  };
}

/** The Stripe-Signature header for a payload, as Stripe computes it (timestamp in seconds, default now). */
export async function stripeSignature(payload: string, secret: string, timestamp?: number): Promise<string> {
  return Stripe.webhooks.generateTestHeaderStringAsync({ payload, secret, ...(timestamp !== undefined ? { timestamp } : {}) });
}

/** POSTs an event to the API's webhook, signed (unless `signature: null`). */
export async function deliverStripeEvent(
  /** the API's origin (its /payment/webhook is called) */
  apiUrl: string,
  event: Json,
  options: { secret: string; timestamp?: number; signature?: string | null; now?: Date },
): Promise<{ status: number; text: string; headers: Headers }> {
  const payload = JSON.stringify(event);
  const headers: Record<string, string> = { "content-type": "application/json; charset=utf-8" };
  const signature =
    options.signature === undefined ? await stripeSignature(payload, options.secret, options.timestamp) : options.signature;
  if (signature !== null) headers["stripe-signature"] = signature;
  if (options.now) headers["x-test-now"] = options.now.toISOString();
  const response = await fetch(`${apiUrl}/payment/webhook`, { method: "POST", headers, body: payload });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

// ---------------------------------------------------------------------------
// Events the stand-in sends itself (only when started with a webhook target)
// ---------------------------------------------------------------------------

/** Signs and POSTs one event to the configured webhook; returns its HTTP status (0 without a target). */
export async function deliverFakeEvent(state: FakeStripeState, type: string, object: Json): Promise<number> {
  if (!state.webhook) return 0;
  try {
    const result = await deliverStripeEvent(state.webhook.url, stripeEvent(type, object), { secret: state.webhook.secret });
    return result.status;
  } catch (error) {
    process.stderr.write(`[fake-stripe] webhook delivery of ${type} failed: ${String(error)}\n`);
    return 0;
  }
}

/** charge.refunded for a refund made through the API (as Stripe sends it once the refund settles). */
async function deliverRefunded(state: FakeStripeState, refund: Json): Promise<void> {
  if (!state.webhook) return;
  const session = [...state.sessions.values()].find((candidate) => candidate.payment_intent === refund.payment_intent);
  const amount = Number(session?.amount_total ?? refund.amount ?? 0);
  await deliverFakeEvent(state, "charge.refunded", {
    id: id("ch"),
    object: "charge",
    amount,
    amount_refunded: amount,
    refunded: true,
    currency: session?.currency ?? "usd",
    payment_intent: refund.payment_intent,
    metadata: (session?.metadata as Json | undefined) ?? {},
  });
}
