/**
 * OWASP API7:2023 Server Side Request Forgery — the API never fetches a URL
 * a user supplied.
 *
 * Static: the only network calls in src/ go to configured destinations
 * (EMAIL_API_URL for email delivery; the Stripe SDK to api.stripe.com or
 * STRIPE_API_BASE; the Neon driver to DATABASE_URL through WS_PROXY; the
 * Workers AI, KV, R2, Queue and Durable Object bindings, which take no URL).
 * This test scans the source so that a new fetch() has to be looked at.
 *
 * Dynamic: user-supplied URLs (intro_video_url, resource url, meeting_link)
 * pointing at a listener on loopback are stored and served back, then every
 * route that reads them is called: the listener must receive nothing.
 * Email links use PUBLIC_BASE_URL, not the request's Host header.
 */
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../scripts/lib/database.ts";
import { baseUrl, get, patch, post, put } from "../helpers/api.ts";
import { book, slot } from "../helpers/booking-flow.ts";
import { closeTestPool } from "../helpers/db.ts";
import { createClient, createCoach, createUser } from "../helpers/fixtures.ts";

let listener: http.Server;
let listenerUrl: string;
const hits: string[] = [];

beforeAll(async () => {
  listener = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.end("ok");
  });
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", () => resolve()));
  listenerUrl = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => listener.close(() => resolve()));
  await closeTestPool();
});

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

describe("API7 static: every outbound call in src/ has a configured destination", () => {
  it("finds fetch() only where the target is configuration, and no raw sockets or WebSockets", () => {
    const network = /\bfetch\s*\(|\bconnect\s*\(|new\s+WebSocket\s*\(|cloudflare:sockets|XMLHttpRequest/;
    const found: string[] = [];
    for (const file of sourceFiles(path.join(projectRoot, "src"))) {
      const lines = fs.readFileSync(file, "utf8").split("\n");
      lines.forEach((line, index) => {
        // A client checked out of the request's database pool goes to DATABASE_URL (configuration), like every query.
        const databasePool = /\bpool\.connect\(\)/.test(line);
        // The static-assets binding (the /docs bundle) is a binding call inside Cloudflare, not the network.
        const assetsBinding = /\benv\.ASSETS\.fetch\(/.test(line);
        if (network.test(line) && !databasePool && !assetsBinding && !/^\s*(\/\/|\*)/.test(line))
          found.push(`${path.relative(projectRoot, file)}:${index + 1}: ${line.trim()}`);
      });
    }
    // The one reviewed call: email delivery to the configured provider.
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^src\/services\/notifications\.ts:\d+: const response = await fetch\(apiUrl,/);
    const notifications = fs.readFileSync(path.join(projectRoot, "src/services/notifications.ts"), "utf8");
    // ... and apiUrl is the configured EMAIL_API_URL (readConfig), nothing a request carries.
    expect(notifications).toMatch(/const \{ apiUrl, apiKey, from \} = env\.config\.email;/);
  });

  it("the Stripe SDK's host comes from STRIPE_API_BASE only", () => {
    const stripe = fs.readFileSync(path.join(projectRoot, "src/platform/stripe.ts"), "utf8");
    expect(stripe).toMatch(/const base = env\.config\.stripe\.apiBase;/);
    expect(stripe).not.toMatch(/new URL\(/);
    // readConfig is the one place that turns the var into the URL.
    const env = fs.readFileSync(path.join(projectRoot, "src/env.ts"), "utf8");
    expect(env).toMatch(/apiBase: stripeApiBase \? new URL\(stripeApiBase\) : undefined/);
    expect(env).toMatch(/const stripeApiBase = raw\.STRIPE_API_BASE \?/);
  });
});

describe("API7 dynamic: user-supplied URLs are never fetched", () => {
  it("stores and serves intro_video_url, resource url and meeting_link without requesting them", async () => {
    const coach = await createCoach();
    const client = await createClient();
    const admin = await createUser("admin");
    expect((await put("/profile", { intro_video_url: `${listenerUrl}/video.mp4` }, { token: coach.token })).status).toBe(200);
    const resource = await post(
      "/community/resources",
      { title: "SSRF", description: "d", resource_type: "article", url: `${listenerUrl}/resource`, tags: ["ssrf"] },
      { token: coach.token },
    );
    expect(resource.status, resource.text).toBe(201);
    const booking = await book(client, coach, slot(5000 + Math.floor(Math.random() * 300), 10));
    const confirmed = await patch(
      `/booking/${booking.id}/status`,
      { status: "confirmed", meeting_link: `${listenerUrl}/meet` },
      { token: coach.token },
    );
    expect(confirmed.status, confirmed.text).toBe(200);

    // Everything that reads them.
    const detail = await get(`/coaches/${coach.profileId}`, { token: client.token });
    expect(detail.body.intro_video_url).toBe(`${listenerUrl}/video.mp4`);
    await get("/coaches?limit=100", { token: client.token });
    await post("/match", { force_refresh: true }, { token: client.token });
    await get("/community/resources?tags=ssrf", { token: client.token });
    await post(`/community/resources/${resource.body.id}/bookmark`, undefined, { token: client.token });
    await get("/community/resources/bookmarks", { token: client.token });
    await get(`/booking/${booking.id}`, { token: client.token });
    await get("/profile/export", { token: coach.token });
    await get(`/admin/users/${coach.id}`, { token: admin.token });
    const feed = await post("/calendar/feed-token", undefined, { token: client.token });
    await get(new URL(feed.body.feed_url).pathname);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(hits).toEqual([]);
  });

  it("only http(s) URLs are accepted where a URL is stored (no file:, javascript:, data:)", async () => {
    const coach = await createCoach();
    for (const url of [
      "file:///etc/passwd",
      "javascript:alert(1)",
      "data:text/html,<script>1</script>",
      "gopher://127.0.0.1:6379/_INFO",
      "ftp://example.com/x",
    ]) {
      expect((await put("/profile", { intro_video_url: url }, { token: coach.token })).status, url).toBe(400);
      const resource = await post(
        "/community/resources",
        { title: "x", description: "d", resource_type: "article", url, tags: [] },
        { token: coach.token },
      );
      expect(resource.status, url).toBe(400);
    }
  });

  it("email links are built from PUBLIC_BASE_URL, not from a forged Host header", async () => {
    const user = await createUser("client");
    // fetch() cannot forge Host; node:http can (and wrangler dev passes it through to the Worker).
    const status = await new Promise<number>((resolve, reject) => {
      const target = new URL(baseUrl());
      const request = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: "/auth/reset-password",
          method: "POST",
          headers: { host: "evil.example", "x-forwarded-host": "evil.example", "content-type": "application/json" },
        },
        (response) => {
          response.resume();
          response.on("end", () => resolve(response.statusCode ?? 0));
        },
      );
      request.on("error", reject);
      request.end(JSON.stringify({ email: user.email }));
    });
    expect(status).toBe(200);
    const emails = await get(`/dev/emails?to=${encodeURIComponent(user.email)}`);
    expect(emails.body.items.length).toBeGreaterThan(0);
    for (const email of emails.body.items) {
      expect(email.text).not.toContain("evil.example");
      expect(email.text).toContain(baseUrl());
    }
  });
});
