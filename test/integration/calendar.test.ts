import ical, { type VEvent } from "node-ical";
import { afterAll, describe, expect, it } from "vitest";
import { baseUrl, del, expectEnvelope, get, patch, post } from "../helpers/api.ts";
import { book, confirmedBooking, slot } from "../helpers/booking-flow.ts";
import { closeTestPool, query } from "../helpers/db.ts";
import { createClient, createCoach, createUser } from "../helpers/fixtures.ts";

afterAll(closeTestPool);

/** The path part of a feed URL (the test talks to the worker's own origin). */
const feedPath = (feedUrl: string) => new URL(feedUrl).pathname;

async function feedOf(token: string): Promise<string> {
  const result = await post("/calendar/feed-token", undefined, { token });
  expect(result.status).toBe(200);
  return result.body.feed_url;
}

function events(text: string) {
  return Object.values(ical.sync.parseICS(text)).filter((component) => component?.type === "VEVENT") as VEvent[];
}

describe("POST /calendar/feed-token", () => {
  it("happy: a secret .ics URL on the public base URL; calling again rotates it", async () => {
    const client = await createClient();
    const first = await feedOf(client.token);
    expect(first.startsWith(`${baseUrl()}/calendar/feed/`)).toBe(true);
    expect(first).toMatch(/\/calendar\/feed\/[A-Za-z0-9_-]{40,}\.ics$/);
    const second = await feedOf(client.token);
    expect(second).not.toBe(first);
    expectEnvelope(await get(feedPath(first)), 404, "NOT_FOUND");
    expect((await get(feedPath(second))).status).toBe(200);
    // Stored hashed: the token itself is nowhere in the table.
    const token =
      second
        .split("/")
        .pop()
        ?.replace(/\.ics$/, "") ?? "";
    const [row] = await query<{ token_hash: string }>(`SELECT token_hash FROM calendar_feeds WHERE user_id = $1`, [client.id]);
    expect(row?.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row?.token_hash).not.toContain(token);
  });

  it("security: 401 without a token", async () => {
    expectEnvelope(await post("/calendar/feed-token"), 401, "UNAUTHORIZED");
  });
});

describe("GET /calendar/feed/{token}.ics", () => {
  it("happy: text/calendar that an independent parser reads, with the confirmed booking in UTC, a stable UID and SEQUENCE", async () => {
    const [client, coach] = await Promise.all([createClient({ firstName: "Lena" }), createCoach({ firstName: "Marco" })]);
    const start = slot(9, 15, 30);
    const { booking } = await confirmedBooking(client, coach, start, 90);
    const pending = await book(client, coach, slot(10));
    const feed = await get(feedPath(await feedOf(client.token)));
    expect(feed.status).toBe(200);
    expect(feed.headers.get("content-type")).toContain("text/calendar");
    expect(feed.text).toContain("BEGIN:VCALENDAR");
    expect(feed.text).toContain(`DTSTART:${start.toISOString().replace(/[-:]/g, "").replace(".000", "")}`);

    const parsed = events(feed.text);
    expect(parsed).toHaveLength(1); // the pending one is not in the feed
    const [event] = parsed;
    expect(event?.uid).toBe(`${booking.id}@culturebridge`);
    expect(event?.start.toISOString()).toBe(start.toISOString());
    expect(event?.end?.toISOString()).toBe(new Date(start.getTime() + 90 * 60_000).toISOString());
    expect(event?.summary).toContain("Marco");
    expect(String(event?.status)).toBe("CONFIRMED");
    expect(Number(event?.sequence)).toBe(1);
    expect(feed.text).not.toContain(pending.id);

    // The coach's own feed shows the same event, named after the client.
    const coachFeed = events((await get(feedPath(await feedOf(coach.token)))).text);
    expect(coachFeed.map((e) => e.uid)).toEqual([`${booking.id}@culturebridge`]);
    expect(coachFeed[0]?.summary).toContain("Lena");
  });

  it("a change bumps SEQUENCE; a cancellation stays in the feed as STATUS:CANCELLED with the same UID", async () => {
    const [client, coach] = await Promise.all([createClient(), createCoach()]);
    const { booking } = await confirmedBooking(client, coach, slot(9));
    const url = feedPath(await feedOf(client.token));
    expect((await del(`/booking/${booking.id}`, { token: coach.token })).status).toBe(204);
    const [event] = events((await get(url)).text);
    expect(event?.uid).toBe(`${booking.id}@culturebridge`);
    expect(String(event?.status)).toBe("CANCELLED");
    expect(Number(event?.sequence)).toBe(2);
  });

  it("the meeting link set on confirmation is in the event", async () => {
    const [client, coach] = await Promise.all([createClient(), createCoach()]);
    const booking = await book(client, coach, slot(9));
    await patch(
      `/booking/${booking.id}/status`,
      { status: "confirmed", meeting_link: "https://meet.example.test/xyz" },
      { token: coach.token },
    );
    const text = (await get(feedPath(await feedOf(client.token)))).text;
    const [event] = events(text);
    // node-ical keeps URL's VALUE=URI parameter: {params, val}.
    const url = event?.url as unknown as string | { val: string };
    expect(typeof url === "string" ? url : url.val).toBe("https://meet.example.test/xyz");
    expect(String(event?.description)).toContain("https://meet.example.test/xyz");
  });

  it("errors: unknown or malformed token -> 404", async () => {
    expectEnvelope(await get(`/calendar/feed/${"A".repeat(43)}.ics`), 404, "NOT_FOUND");
    expectEnvelope(await get(`/calendar/feed/short.ics`), 404, "NOT_FOUND");
  });

  it("security: a deactivated account's feed stops working; an admin gets an empty calendar", async () => {
    const client = await createClient();
    const url = feedPath(await feedOf(client.token));
    await query(`UPDATE users SET is_active = false WHERE id = $1`, [client.id]);
    expectEnvelope(await get(url), 404, "NOT_FOUND");
    const admin = await createUser("admin");
    const adminFeed = await get(feedPath(await feedOf(admin.token)));
    expect(adminFeed.status).toBe(200);
    expect(events(adminFeed.text)).toHaveLength(0);
  });
});

describe("OpenAPI document", () => {
  it("lists the booking, payment and calendar operations, the feed in its public .ics form", async () => {
    const doc = (await get("/openapi.json")).body;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/booking",
        "/booking/{id}",
        "/booking/{id}/status",
        "/booking/client/{client_id}",
        "/booking/coach/{coach_id}",
        "/payment/checkout",
        "/payment/webhook",
        "/payment/{id}",
        "/calendar/feed-token",
        "/calendar/feed/{token}.ics",
      ]),
    );
    expect(doc.paths["/calendar/feed/{token}.ics"].get.responses["200"].content["text/calendar"]).toBeDefined();
    expect(doc.paths["/booking"].post.security).toEqual([{ bearerAuth: [] }]);
  });
});
