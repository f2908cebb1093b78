/**
 * OWASP API1:2023 Broken Object Level Authorization — every route that takes
 * an object id answers only to whom the contract allows. Cast: client A and
 * coach X share a booking; client B and coach Y are strangers to it; an admin
 * sees everything. The strangers get 403 (or 404 where the object is private
 * and must not be revealed), and nothing they attempt changes anything.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CallResult, del, expectEnvelope, get, patch, post, put } from "../helpers/api.ts";
import { book, checkout, slot } from "../helpers/booking-flow.ts";
import { closeTestPool, query } from "../helpers/db.ts";
import { createClient, createCoach, createUser, type TestUser } from "../helpers/fixtures.ts";

afterAll(async () => {
  await closeTestPool();
});

let clientA: TestUser;
let clientB: TestUser;
let coachX: TestUser;
let coachY: TestUser;
let admin: TestUser;
let bookingId: string;
let paymentId: string;
let confirmedId: string;

beforeAll(async () => {
  [clientA, clientB, coachX, coachY, admin] = await Promise.all([
    createClient(),
    createClient(),
    createCoach(),
    createCoach(),
    createUser("admin"),
  ]);
  const offset = 20 + Math.floor(Math.random() * 200);
  const pending = await book(clientA, coachX, slot(offset, 8));
  bookingId = pending.id;
  await checkout(clientA, bookingId);
  const [payment] = await query<{ id: string }>("SELECT id FROM payments WHERE booking_id = $1", [bookingId]);
  paymentId = (payment as { id: string }).id;
  // A confirmed booking between A and X: it makes them "share a booking" (private posts).
  const toConfirm = await book(clientA, coachX, slot(offset, 12));
  const confirmed = await patch(`/booking/${toConfirm.id}/status`, { status: "confirmed" }, { token: coachX.token });
  expect(confirmed.status, confirmed.text).toBe(200);
  confirmedId = toConfirm.id;
});

function expectDenied(result: CallResult, allowed: number[] = [403]): void {
  expect(allowed, `${result.status} ${result.text.slice(0, 200)}`).toContain(result.status);
  expect(result.body?.error?.code).toMatch(/FORBIDDEN|NOT_FOUND/);
}

async function bookingRow(id: string) {
  const [row] = await query<{ status: string; notes: string | null; meeting_link: string | null }>(
    "SELECT status, notes, meeting_link FROM bookings WHERE id = $1",
    [id],
  );
  return row;
}

describe("API1 bookings: GET/PATCH/DELETE /booking/{id}", () => {
  it("the booking's client, coach and an admin may read it", async () => {
    for (const reader of [clientA, coachX, admin]) {
      const result = await get(`/booking/${bookingId}`, { token: reader.token });
      expect(result.status, `${reader.role}: ${result.text}`).toBe(200);
      expect(result.body.id).toBe(bookingId);
    }
  });

  it("another client and another coach are refused (403), and an unknown id is 404", async () => {
    for (const stranger of [clientB, coachY]) expectDenied(await get(`/booking/${bookingId}`, { token: stranger.token }));
    expectEnvelope(await get(`/booking/${crypto.randomUUID()}`, { token: clientA.token }), 404, "NOT_FOUND");
  });

  it("strangers cannot change the status nor cancel; the booking is untouched", async () => {
    const before = await bookingRow(confirmedId);
    for (const stranger of [clientB, coachY]) {
      expectDenied(await patch(`/booking/${confirmedId}/status`, { status: "cancelled" }, { token: stranger.token }));
      expectDenied(await patch(`/booking/${confirmedId}/status`, { status: "completed" }, { token: stranger.token }), [400, 403]);
      expectDenied(await del(`/booking/${confirmedId}`, { token: stranger.token }));
    }
    expect(await bookingRow(confirmedId)).toEqual(before);
  });

  it("the booking's own client may only cancel, never confirm or complete it", async () => {
    const own = await book(clientA, coachX, slot(300 + Math.floor(Math.random() * 200), 9));
    const confirmAttempt = await patch(`/booking/${own.id}/status`, { status: "confirmed" }, { token: clientA.token });
    expect([400, 403]).toContain(confirmAttempt.status);
    expect((await bookingRow(own.id))?.status).toBe("pending");
  });
});

describe("API1 booking lists: GET /booking/client/{client_id} and /booking/coach/{coach_id}", () => {
  it("a client's list is for that client and admins only", async () => {
    expect((await get(`/booking/client/${clientA.id}`, { token: clientA.token })).status).toBe(200);
    expect((await get(`/booking/client/${clientA.id}`, { token: admin.token })).status).toBe(200);
    for (const other of [clientB, coachX, coachY])
      expectDenied(await get(`/booking/client/${clientA.id}`, { token: other.token }), [403, 404]);
  });

  it("a coach's list is for that coach and admins only", async () => {
    expect((await get(`/booking/coach/${coachX.id}`, { token: coachX.token })).status).toBe(200);
    expect((await get(`/booking/coach/${coachX.id}`, { token: admin.token })).status).toBe(200);
    for (const other of [coachY, clientA, clientB])
      expectDenied(await get(`/booking/coach/${coachX.id}`, { token: other.token }), [403, 404]);
  });
});

describe("API1 payments: GET /payment/{id} and POST /payment/checkout", () => {
  it("the payment is visible to the booking's client, coach and admins only", async () => {
    for (const reader of [clientA, coachX, admin])
      expect((await get(`/payment/${paymentId}`, { token: reader.token })).status).toBe(200);
    for (const stranger of [clientB, coachY]) expectDenied(await get(`/payment/${paymentId}`, { token: stranger.token }));
  });

  it("nobody but the booking's client can open a checkout for it", async () => {
    const [before] = await query<{ n: string }>("SELECT count(*) AS n FROM payments WHERE booking_id = $1", [bookingId]);
    for (const stranger of [clientB, coachX, coachY])
      expectDenied(await post("/payment/checkout", { booking_id: bookingId }, { token: stranger.token }));
    const [after] = await query<{ n: string }>("SELECT count(*) AS n FROM payments WHERE booking_id = $1", [bookingId]);
    expect(after?.n).toBe(before?.n);
  });
});

describe("API1 community posts: PUT/DELETE /community/posts/{id}, private posts", () => {
  it("only the author (or an admin) edits or deletes a post", async () => {
    const created = await post(
      "/community/posts",
      { title: "Mine", content: "Original", post_type: "discussion" },
      { token: clientA.token },
    );
    expect(created.status).toBe(201);
    const id = created.body.id;
    expectDenied(await put(`/community/posts/${id}`, { title: "Hijacked" }, { token: clientB.token }));
    expectDenied(await del(`/community/posts/${id}`, { token: coachY.token }));
    const [row] = await query<{ title: string }>("SELECT title FROM posts WHERE id = $1", [id]);
    expect(row?.title).toBe("Mine");
  });

  it("a private post is 404 to strangers on every id route and absent from their list; visible to the booking partner", async () => {
    const created = await post(
      "/community/posts",
      { title: "Private", content: "Only for my coach", post_type: "question", is_private: true },
      { token: clientA.token },
    );
    expect(created.status).toBe(201);
    const id = created.body.id;
    for (const stranger of [clientB, coachY]) {
      expectEnvelope(await get(`/community/posts/${id}`, { token: stranger.token }), 404, "NOT_FOUND");
      expectEnvelope(
        await post(`/community/posts/${id}/comment`, { content: "peek" }, { token: stranger.token }),
        404,
        "NOT_FOUND",
      );
      expectEnvelope(await post(`/community/posts/${id}/upvote`, undefined, { token: stranger.token }), 404, "NOT_FOUND");
      expectDenied(await put(`/community/posts/${id}`, { title: "x" }, { token: stranger.token }), [403, 404]);
      const list = await get("/community/posts?limit=100", { token: stranger.token });
      expect(list.body.items.map((item: { id: string }) => item.id)).not.toContain(id);
    }
    // Coach X has a confirmed booking with A: may see it.
    expect((await get(`/community/posts/${id}`, { token: coachX.token })).status).toBe(200);
    const [row] = await query<{ upvotes: number; comments: string }>(
      "SELECT upvotes, (SELECT count(*) FROM comments WHERE post_id = $1) AS comments FROM posts WHERE id = $1",
      [id],
    );
    expect(row).toEqual({ upvotes: 0, comments: "0" });
  });
});

describe("API1 bookmarks: /community/resources/{id}/bookmark", () => {
  it("removing a bookmark only ever removes the caller's own", async () => {
    const resource = await post(
      "/community/resources",
      { title: "Guide", description: "d", resource_type: "article", url: "https://example.com/g", tags: ["bola"] },
      { token: coachX.token },
    );
    expect(resource.status, resource.text).toBe(201);
    expect((await post(`/community/resources/${resource.body.id}/bookmark`, undefined, { token: clientA.token })).status).toBe(
      201,
    );
    const removed = await del(`/community/resources/${resource.body.id}/bookmark`, { token: clientB.token });
    expect([204, 404]).toContain(removed.status);
    const mine = await get("/community/resources/bookmarks?limit=100", { token: clientA.token });
    expect(mine.body.items.map((item: { id: string }) => item.id)).toContain(resource.body.id);
  });
});

describe("API1 calendar feed: GET /calendar/feed/{token}.ics", () => {
  it("the feed token is the credential: a random token is 404, and a feed shows only its owner's bookings", async () => {
    expectEnvelope(await get(`/calendar/feed/${"A".repeat(43)}.ics`), 404, "NOT_FOUND");
    const feedB = await post("/calendar/feed-token", undefined, { token: clientB.token });
    expect(feedB.status).toBe(200);
    const path = new URL(feedB.body.feed_url).pathname;
    const calendar = await get(path);
    expect(calendar.status).toBe(200);
    expect(calendar.text).not.toContain(confirmedId);
    expect(calendar.text).not.toContain(bookingId);
  });
});

describe("API1 admin objects: /admin/users/{id}, /admin/posts/{id}", () => {
  it("non-admins cannot read, change or delete another user, nor delete a post, by id", async () => {
    for (const caller of [clientA, coachX]) {
      expectDenied(await get(`/admin/users/${clientB.id}`, { token: caller.token }));
      expectDenied(await patch(`/admin/users/${clientB.id}`, { is_active: false }, { token: caller.token }));
      expectDenied(await del(`/admin/users/${clientB.id}`, { token: caller.token }));
    }
    const [row] = await query<{ is_active: boolean }>("SELECT is_active FROM users WHERE id = $1", [clientB.id]);
    expect(row?.is_active).toBe(true);
  });
});

describe("API1 own-data routes: /profile, /profile/export, DELETE /profile", () => {
  it("take no id: the export holds the caller's data and nobody else's", async () => {
    const exported = await get("/profile/export", { token: clientB.token });
    expect(exported.status).toBe(200);
    expect(exported.body.user.id).toBe(clientB.id);
    expect(exported.text).not.toContain(clientA.id);
    expect(exported.text).not.toContain(bookingId);
    expect(exported.text).not.toMatch(/password_hash|\$2[aby]\$/);
  });
});
