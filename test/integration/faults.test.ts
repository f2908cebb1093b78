/**
 * Faults (issue 8): the database unreachable (down, or hanging), the
 * WebSocket proxy in front of it gone, Stripe failing or hanging, the
 * notification queue refusing messages. The API must answer in the envelope
 * (503 SERVICE_UNAVAILABLE, never a 500 or a crash), write nothing half-way,
 * and recover by itself when the dependency is back.
 *
 * A Worker of its own points at dependencies this file controls: a TCP relay
 * in front of the test database (closed = connection refused, blackhole =
 * accepts and never answers), its own WebSocket proxy (closed and reopened on
 * the same port) and its own fake Stripe (its failure modes must not disturb
 * the other test files that share the global one).
 */

import type { AddressInfo } from "node:net";
import net from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import {
  concretise,
  type FuzzWorld,
  listOperations,
  type OpenApiDocument,
  type PlannedRequest,
  requestArbitrary,
  send,
} from "../../scripts/lib/openapi-fuzz.ts";
import type { WranglerDev } from "../../scripts/lib/wrangler.ts";
import { startWsProxy, type WsProxy } from "../../scripts/lib/ws-proxy.ts";
import { createApp } from "../../src/app.ts";
import { type Bindings, serviceEnvOf } from "../../src/env.ts";
import { createLog } from "../../src/lib/log.ts";
import { dispatchEmails } from "../../src/services/notifications.ts";
import { type CallOptions, type CallResult, call, expectEnvelope, uniqueEmail } from "../helpers/api.ts";
import { closeTestPool, query } from "../helpers/db.ts";
import { type FakeStripe, startFakeStripe } from "../helpers/fake-stripe.ts";
import { createClient, createCoach, createUser } from "../helpers/fixtures.ts";
import { startTestWorker, TEST_JWT_SECRET } from "../helpers/stack.ts";

// ---------------------------------------------------------------------------
// A TCP relay we can break
// ---------------------------------------------------------------------------

interface Relay {
  port: number;
  /** "up" forwards; "down" refuses connections; "blackhole" accepts and never answers. */
  set(mode: "up" | "down" | "blackhole"): Promise<void>;
  close(): Promise<void>;
}

async function startRelay(target: { host: string; port: number }): Promise<Relay> {
  const sockets = new Set<net.Socket>();
  let mode: "up" | "blackhole" = "up";
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on("error", () => {});
    client.on("close", () => sockets.delete(client));
    if (mode === "blackhole") return;
    const upstream = net.connect(target);
    sockets.add(upstream);
    upstream.on("error", () => client.destroy());
    upstream.on("close", () => {
      sockets.delete(upstream);
      client.destroy();
    });
    client.on("close", () => upstream.destroy());
    client.pipe(upstream).pipe(client);
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  const stopListening = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    async set(next) {
      if (next === "down") return stopListening();
      for (const socket of sockets) socket.destroy();
      mode = next;
      if (!server.listening) await listen(port);
    },
    close: stopListening,
  };
}

// ---------------------------------------------------------------------------
// The stack of this file
// ---------------------------------------------------------------------------

let relay: Relay;
let proxy: WsProxy;
let proxyPort: number;
let proxyTarget: string;
let stripe: FakeStripe;
let worker: WranglerDev;

beforeAll(async () => {
  const database = new URL(inject("databaseUrl"));
  relay = await startRelay({ host: database.hostname, port: Number(database.port) });
  const relayed = new URL(database.toString());
  relayed.hostname = "127.0.0.1";
  relayed.port = String(relay.port);
  proxyTarget = relayed.toString();
  proxy = await startWsProxy({ target: relayed.toString() });
  proxyPort = proxy.port;
  stripe = await startFakeStripe();
  worker = await startTestWorker({ databaseUrl: relayed.toString(), proxyUrl: proxy.url, stripeUrl: stripe.url });
});

afterAll(async () => {
  await worker?.stop();
  await stripe?.close();
  await proxy?.close();
  await relay?.close();
  await closeTestPool();
});

function api(method: string, path: string, options: CallOptions = {}): Promise<CallResult> {
  return call(method, path, options, worker.url);
}

async function timed<T>(action: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await action();
  return { result, ms: Math.round(performance.now() - started) };
}

async function setStripeMode(mode: "ok" | "error" | "hang") {
  await fetch(`${stripe.url}/__mode`, { method: "POST", body: JSON.stringify({ mode }) });
}

/** Requests that certainly reach the database (valid input, a token of the right role). */
async function databaseRoutes(): Promise<{ label: string; run: () => Promise<CallResult> }[]> {
  const client = await createClient();
  const coach = await createCoach();
  const admin = await createUser("admin");
  const future = new Date(Date.now() + 10 * 24 * 3_600_000);
  future.setUTCHours(10, 0, 0, 0);
  return [
    {
      label: "POST /auth/login",
      run: () => api("POST", "/auth/login", { body: { email: client.email, password: "Whatever#123" } }),
    },
    {
      label: "POST /auth/signup",
      run: () =>
        api("POST", "/auth/signup", { body: { email: uniqueEmail("fault"), password: "Str0ng#Passw0rd", role: "client" } }),
    },
    { label: "GET /profile", run: () => api("GET", "/profile", { token: client.token }) },
    { label: "GET /coaches", run: () => api("GET", "/coaches", { token: client.token }) },
    { label: "GET /coaches/{id}", run: () => api("GET", `/coaches/${coach.profileId}`, { token: client.token }) },
    {
      label: "POST /booking",
      run: () =>
        api("POST", "/booking", {
          token: client.token,
          body: { coach_id: coach.id, session_datetime: future.toISOString().replace(/\.\d{3}Z$/, "Z"), duration_minutes: 60 },
        }),
    },
    { label: "GET /booking/client/{id}", run: () => api("GET", `/booking/client/${client.id}`, { token: client.token }) },
    { label: "GET /community/posts", run: () => api("GET", "/community/posts", { token: client.token }) },
    {
      label: "POST /community/posts",
      run: () =>
        api("POST", "/community/posts", { token: client.token, body: { title: "t", content: "c", post_type: "discussion" } }),
    },
    { label: "GET /admin/users", run: () => api("GET", "/admin/users", { token: admin.token }) },
    { label: "GET /admin/metrics", run: () => api("GET", "/admin/metrics", { token: admin.token }) },
    { label: "GET /dev/emails", run: () => api("GET", `/dev/emails?to=${encodeURIComponent(client.email)}`) },
  ];
}

async function expectHealthy(): Promise<void> {
  // The first requests after recovery may still meet a half-open socket: allow a few seconds.
  let last: CallResult | undefined;
  for (let attempt = 0; attempt < 20; attempt++) {
    last = await api("GET", "/health");
    if (last.status === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  expect(last?.status).toBe(200);
  expect(last?.body).toMatchObject({ status: "healthy", database: "connected" });
}

// ---------------------------------------------------------------------------
// Database faults
// ---------------------------------------------------------------------------

describe("faults: the database is down (connection refused)", () => {
  it("GET /health answers 503 unhealthy with database disconnected, then 200 once the database is back", async () => {
    await expectHealthy();
    await relay.set("down");
    try {
      const { result, ms } = await timed(() => api("GET", "/health"));
      console.log(`[faults] /health with the database refusing connections: ${result.status} in ${ms} ms`);
      expect(result.status).toBe(503);
      expect(result.body).toMatchObject({
        status: "unhealthy",
        database: "disconnected",
        cache: "connected",
        failing: ["database"],
      });
      expect(result.body.timestamp).toMatch(/Z$/);
      expect(result.headers.get("x-ratelimit-limit")).not.toBeNull();
    } finally {
      await relay.set("up");
    }
    await expectHealthy();
  });

  it("answers every database route with the 503 SERVICE_UNAVAILABLE envelope (never a 500), and recovers", async () => {
    const routes = await databaseRoutes();
    await relay.set("down");
    const answers: { label: string; status: number; ms: number }[] = [];
    try {
      for (const route of routes) {
        const { result, ms } = await timed(route.run);
        answers.push({ label: route.label, status: result.status, ms });
        const error = expectEnvelope(result, 503, "SERVICE_UNAVAILABLE");
        expect(error.message).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|postgres/i);
        expect(result.text).not.toMatch(/\bat .*\(.*:\d+:\d+\)/);
      }
    } finally {
      await relay.set("up");
    }
    console.log(
      `[faults] database down: ${answers.map((answer) => `${answer.label} ${answer.status} ${answer.ms} ms`).join("; ")}`,
    );
    await expectHealthy();
    for (const route of routes.filter((candidate) => candidate.label.startsWith("GET"))) {
      const result = await route.run();
      expect(result.status, route.label).toBe(200);
    }
  });

  it("never answers 5xx other than 503 for any operation of the document while the database is down", async () => {
    const doc = (await api("GET", "/openapi.json")).body as OpenApiDocument;
    const operations = listOperations(doc);
    const client = await createClient();
    const coach = await createCoach();
    const admin = await createUser("admin");
    const world: FuzzWorld = {
      users: { client: [client], coach: [coach], admin: [admin] },
      pools: {
        coachUser: [coach.id],
        coachProfile: [coach.profileId as string],
        clientUser: [client.id],
        anyUser: [client.id, coach.id],
        booking: [],
        payment: [],
        post: [],
        resource: [],
        photoKey: [],
        feedToken: [],
        refreshToken: [],
        email: [client.email],
      },
      password: "x",
      disposableUser: async (role) => createUser(role),
      disposablePost: async () => crypto.randomUUID(),
    };
    // Two generated requests per operation, built while the database is up.
    const plans: PlannedRequest[] = operations.flatMap((operation) =>
      fc.sample(requestArbitrary(operation, doc), { numRuns: 2, seed: 8 }),
    );
    const requests = await Promise.all(plans.map((plan) => concretise(plan, world, worker.url)));
    await relay.set("down");
    const statuses = new Map<number, number>();
    const bad: string[] = [];
    try {
      for (const request of requests) {
        const outcome = await send(request);
        statuses.set(outcome.status, (statuses.get(outcome.status) ?? 0) + 1);
        if (outcome.status === 0 || (outcome.status >= 500 && outcome.status !== 503))
          bad.push(`${request.method} ${request.url} -> ${outcome.status} ${outcome.text.slice(0, 200)}`);
        if (outcome.status === 503 && !outcome.contentType.includes("json"))
          bad.push(`${request.method} ${request.url} -> 503 without a JSON body`);
      }
    } finally {
      await relay.set("up");
    }
    console.log(
      `[faults] every operation with the database down: ${[...statuses.entries()].map(([status, n]) => `${status}=${n}`).join(" ")}`,
    );
    expect(bad).toEqual([]);
    expect(statuses.get(503) ?? 0).toBeGreaterThan(0);
    await expectHealthy();
  });
});

describe("faults: the database hangs (accepts, never answers)", () => {
  it("GET /health gives up after its own timeout with 503; a database route answers 503 after the pool's connect timeout", async () => {
    const client = await createClient();
    await relay.set("blackhole");
    let health: { result: CallResult; ms: number };
    let profile: { result: CallResult; ms: number };
    try {
      [health, profile] = await Promise.all([
        timed(() => api("GET", "/health")),
        timed(() => api("GET", "/profile", { token: client.token })),
      ]);
    } finally {
      await relay.set("up");
    }
    console.log(
      `[faults] database hanging: /health ${health.result.status} in ${health.ms} ms; GET /profile ${profile.result.status} in ${profile.ms} ms`,
    );
    expect(health.result.status).toBe(503);
    expect(health.result.body).toMatchObject({ status: "unhealthy", database: "disconnected" });
    expectEnvelope(profile.result, 503, "SERVICE_UNAVAILABLE");
    await expectHealthy();
  }, 90_000);
});

describe("faults: the WebSocket proxy in front of the database is gone", () => {
  it("answers 503 while it is gone and recovers when it comes back on the same address", async () => {
    const client = await createClient();
    await proxy.close();
    try {
      const health = await api("GET", "/health");
      expect(health.status).toBe(503);
      expect(health.body).toMatchObject({ status: "unhealthy", database: "disconnected" });
      expectEnvelope(await api("GET", "/profile", { token: client.token }), 503, "SERVICE_UNAVAILABLE");
      expectEnvelope(
        await api("POST", "/auth/login", { body: { email: client.email, password: "Whatever#123" } }),
        503,
        "SERVICE_UNAVAILABLE",
      );
    } finally {
      proxy = await startWsProxy({ target: proxyTarget, port: proxyPort });
    }
    await expectHealthy();
    expect((await api("GET", "/profile", { token: client.token })).status).toBe(200);
  });
});

// ---------------------------------------------------------------------------
// Stripe faults
// ---------------------------------------------------------------------------

async function pendingBooking(): Promise<{ client: Awaited<ReturnType<typeof createClient>>; bookingId: string }> {
  const client = await createClient();
  const coach = await createCoach();
  const start = new Date(Date.now() + (5 + Math.floor(Math.random() * 50)) * 24 * 3_600_000);
  start.setUTCHours(9, 0, 0, 0);
  const booking = await api("POST", "/booking", {
    token: client.token,
    body: { coach_id: coach.id, session_datetime: start.toISOString().replace(/\.\d{3}Z$/, "Z"), duration_minutes: 60 },
  });
  expect(booking.status, booking.text).toBe(201);
  return { client, bookingId: booking.body.id };
}

async function bookingState(bookingId: string) {
  const [booking] = await query<{ status: string; payment_id: string | null }>(
    "SELECT status, payment_id FROM bookings WHERE id = $1",
    [bookingId],
  );
  const payments = await query<{ id: string }>("SELECT id FROM payments WHERE booking_id = $1", [bookingId]);
  return { status: booking?.status, paymentId: booking?.payment_id ?? null, payments: payments.length };
}

describe("faults: Stripe", () => {
  it("Stripe answering 5xx: checkout is 503 SERVICE_UNAVAILABLE, only the intent written; it works once Stripe is back", async () => {
    const { client, bookingId } = await pendingBooking();
    await setStripeMode("error");
    let failed: CallResult;
    try {
      failed = await api("POST", "/payment/checkout", { token: client.token, body: { booking_id: bookingId } });
    } finally {
      await setStripeMode("ok");
    }
    expectEnvelope(failed, 503, "SERVICE_UNAVAILABLE");
    // The intent (a pending payment without a session) is committed before Stripe is called (docs/PAYMENTS.md).
    const intent = await bookingState(bookingId);
    expect(intent).toMatchObject({ status: "pending", payments: 1 });

    const retried = await api("POST", "/payment/checkout", { token: client.token, body: { booking_id: bookingId } });
    expect(retried.status, retried.text).toBe(200);
    expect(retried.body.checkout_url).toEqual(expect.any(String));
    const after = await bookingState(bookingId);
    // The retry completed the same intent (same idempotency key), no second row.
    expect(after).toEqual(intent);
  });

  it("Stripe unreachable (nothing listening): checkout is 503, only the intent written", async () => {
    const { client, bookingId } = await pendingBooking();
    // A second Worker whose STRIPE_API_BASE points at a closed port.
    const closedPort = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, "127.0.0.1", () => {
        const port = (probe.address() as AddressInfo).port;
        probe.close(() => resolve(port));
      });
    });
    const database = new URL(inject("databaseUrl"));
    const unreachable = await startTestWorker({
      databaseUrl: database.toString(),
      proxyUrl: inject("proxyUrl"),
      stripeUrl: `http://127.0.0.1:${closedPort}`,
    });
    try {
      const { result, ms } = await timed(() =>
        call("POST", "/payment/checkout", { token: client.token, body: { booking_id: bookingId } }, unreachable.url),
      );
      console.log(`[faults] checkout with Stripe unreachable: ${result.status} in ${ms} ms`);
      expectEnvelope(result, 503, "SERVICE_UNAVAILABLE");
    } finally {
      await unreachable.stop();
    }
    expect(await bookingState(bookingId)).toMatchObject({ status: "pending", payments: 1 });
  }, 120_000);

  // No transaction is open while Stripe hangs (the intent is committed first),
  // so this runs on PGlite too without stalling other connections.
  it("Stripe hanging: checkout gives up with 503 after the SDK timeout, only the intent written", async () => {
    const { client, bookingId } = await pendingBooking();
    await setStripeMode("hang");
    let hung: { result: CallResult; ms: number };
    try {
      hung = await timed(() => api("POST", "/payment/checkout", { token: client.token, body: { booking_id: bookingId } }));
    } finally {
      await setStripeMode("ok");
    }
    console.log(`[faults] checkout with Stripe hanging: ${hung.result.status} in ${hung.ms} ms`);
    expectEnvelope(hung.result, 503, "SERVICE_UNAVAILABLE");
    expect(await bookingState(bookingId)).toMatchObject({ status: "pending", payments: 1 });
  }, 120_000);
});

// ---------------------------------------------------------------------------
// Queue faults
// ---------------------------------------------------------------------------

const failingQueue = {
  send: async () => {
    throw new Error("queue unavailable");
  },
  sendBatch: async () => {
    throw new Error("queue unavailable");
  },
} as unknown as Queue<{ outboxId: string }>;

describe("faults: the notification queue refuses messages", () => {
  it("dispatchEmails resolves (logs) instead of throwing", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      await expect(
        dispatchEmails(
          serviceEnvOf(
            { ENVIRONMENT: "test", DATABASE_URL: "postgresql://unused", NOTIFICATIONS: failingQueue } as unknown as Bindings,
            () => {},
            createLog(),
          ),
          ["00000000-0000-4000-8000-000000000000"],
        ),
      ).resolves.toBeUndefined();
      expect(logged.mock.calls.some(([line]) => String(line).includes("notification queue send failed"))).toBe(true);
    } finally {
      logged.mockRestore();
    }
  });

  it("the request that caused the email still succeeds; the email stays queued in the outbox for the cron to re-send", async () => {
    // The real app, in-process, with the real database (through the shared
    // proxy) and a queue binding that throws on every send.
    const app = createApp();
    const user = await createUser("client");
    const env = {
      ENVIRONMENT: "test",
      DATABASE_URL: inject("databaseUrl"),
      WS_PROXY: inject("proxyUrl"),
      JWT_SECRET: TEST_JWT_SECRET,
      PUBLIC_BASE_URL: "http://127.0.0.1",
      NOTIFICATIONS: failingQueue,
    };
    const waiting: Promise<unknown>[] = [];
    const executionContext = {
      waitUntil: (promise: Promise<unknown>) => void waiting.push(promise),
      passThroughOnException: () => {},
      props: {},
    };
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    let response: Response;
    let logLines: string[];
    try {
      response = await app.request(
        "/auth/reset-password",
        { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email: user.email }) },
        env,
        executionContext as unknown as ExecutionContext,
      );
      await Promise.all(waiting);
      logLines = logged.mock.calls.map(([line]) => String(line));
    } finally {
      logged.mockRestore();
    }
    expect(response.status, await response.clone().text()).toBe(200);
    expect(logLines.some((line) => line.includes("notification queue send failed"))).toBe(true);
    const outbox = await query<{ status: string }>("SELECT status FROM email_outbox WHERE to_address = $1", [user.email]);
    expect(outbox).toEqual([{ status: "queued" }]);
  });
});
