/**
 * A local fake of the parts of Stripe's HTTP API the product uses, so that
 * tests drive the real Stripe SDK (pointed here by STRIPE_API_BASE):
 * checkout sessions (create / retrieve / expire) and refunds, with
 * Idempotency-Key replay as Stripe does it. Every request is recorded for
 * assertions (GET /__requests), and failures can be switched on (POST /__mode).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";

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

export interface FakeStripe {
  url: string;
  port: number;
  requests: RecordedRequest[];
  sessions: Map<string, Json>;
  close(): Promise<void>;
}

export async function startFakeStripe(): Promise<FakeStripe> {
  const requests: RecordedRequest[] = [];
  const sessions = new Map<string, Json>();
  const refunds = new Map<string, Json>();
  const idempotent = new Map<string, { status: number; body: Json }>();
  let mode: "ok" | "error" | "hang" = "ok";

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
    if (url.pathname === "/__sessions") return send(200, { sessions: [...sessions.values()] });
    if (url.pathname === "/__mode" && req.method === "POST") {
      mode = (JSON.parse(raw || "{}") as { mode?: typeof mode }).mode ?? "ok";
      return send(200, { mode });
    }
    if (url.pathname === "/__reset" && req.method === "POST") {
      requests.length = 0;
      mode = "ok";
      return send(200, {});
    }

    const body = req.headers["content-type"]?.includes("application/x-www-form-urlencoded") ? parseStripeForm(raw) : {};
    const idempotencyKey = req.headers["idempotency-key"] as string | undefined;
    requests.push({ method: req.method ?? "GET", path: url.pathname, idempotencyKey, authorization: req.headers.authorization, body });

    if (mode === "hang") return; // never answers: the SDK's timeout must handle it
    if (mode === "error") return send(500, { error: { type: "api_error", message: "fake stripe is down" } });
    if (!req.headers.authorization?.startsWith("Bearer sk_")) {
      return send(401, { error: { type: "invalid_request_error", message: "Invalid API Key provided" } });
    }
    const replayKey = idempotencyKey ? `${req.method} ${url.pathname} ${idempotencyKey}` : undefined;
    if (replayKey && idempotent.has(replayKey)) {
      const stored = idempotent.get(replayKey) as { status: number; body: Json };
      res.setHeader("idempotent-replayed", "true");
      return send(stored.status, stored.body);
    }
    const reply = (status: number, payload: Json) => {
      if (replayKey) idempotent.set(replayKey, { status, body: payload });
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
        url: `https://checkout.stripe.test/c/pay/${sessionId}`,
        livemode: false,
      };
      sessions.set(sessionId, session);
      return reply(200, session);
    }
    const sessionMatch = /^\/v1\/checkout\/sessions\/([^/]+)(\/expire)?$/.exec(url.pathname);
    if (sessionMatch?.[1]) {
      const session = sessions.get(sessionMatch[1]);
      if (!session) return reply(404, { error: { type: "invalid_request_error", code: "resource_missing", message: "No such checkout.session" } });
      if (sessionMatch[2] && req.method === "POST") {
        if (session.status !== "open") return reply(400, { error: { type: "invalid_request_error", message: "Only open sessions can be expired" } });
        session.status = "expired";
      }
      return reply(200, session);
    }
    if (req.method === "POST" && url.pathname === "/v1/refunds") {
      const refund: Json = {
        id: id("re"),
        object: "refund",
        status: "succeeded",
        payment_intent: body.payment_intent ?? null,
        charge: body.charge ?? null,
        amount: body.amount !== undefined ? Number(body.amount) : null,
        metadata: body.metadata ?? {},
        created: now,
      };
      refunds.set(String(refund.id), refund);
      return reply(200, refund);
    }
    return send(404, { error: { type: "invalid_request_error", message: `Unrecognized request URL (${req.method}: ${url.pathname})` } });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    sessions,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
