import { afterAll, describe, expect, it } from "vitest";
import { del, expectEnvelope, get, patch, post } from "../helpers/api.ts";
import { book, confirmedBooking, DAY, HOUR, slot, stripeUrl } from "../helpers/booking-flow.ts";
import { closeTestPool, isRealPostgres, query } from "../helpers/db.ts";
import { eventually } from "../helpers/eventually.ts";
import { fakeStripeRequests, setFakeStripeMode } from "../helpers/fake-stripe.ts";
import { accessToken, createClient, createCoach, createUser, type TestUser } from "../helpers/fixtures.ts";

afterAll(closeTestPool);

const iso = (date: Date) => date.toISOString();

/** Request options for `user` at a moved server clock (a token issued then, so it is valid then). */
async function at(user: TestUser, now: Date) {
  return { token: await accessToken(user.id, user.role, now), now };
}

describe("POST /booking", () => {
  describe("happy", () => {
    it("creates a pending booking with the contract's shape (coach given by user id)", async () => {
      const [client, coach] = await Promise.all([createClient(), createCoach()]);
      const start = slot(7);
      const result = await post(
        "/booking",
        { coach_id: coach.id, session_datetime: iso(start), duration_minutes: 60, notes: "first session" },
        { token: client.token },
      );
      expect(result.status).toBe(201);
      expect(result.body).toMatchObject({
        client_id: client.id,
        coach_id: coach.id,
        session_datetime: start.toISOString().replace(".000Z", "Z"),
        duration_minutes: 60,
        status: "pending",
        payment_id: null,
        meeting_link: null,
        notes: "first session",
      });
      expect(result.body.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(result.body.created_at).toMatch(/Z$/);
      expect(result.body.updated_at).toMatch(/Z$/);
    });

    it("stores notes verbatim, quotes, backslashes and SQL-looking text included", async () => {
      const [client, coach] = await Promise.all([createClient(), createCoach()]);
      const notes = "O'Brien \\ said: '); DROP TABLE bookings; -- \\' E'x' $$ $1 \u00e9";
      const result = await post(
        "/booking",
        { coach_id: coach.id, session_datetime: iso(slot(11, 9)), duration_minutes: 30, notes },
        { token: client.token },
      );
      expect(result.status).toBe(201);
      expect(result.body.notes).toBe(notes);
      expect((await get(`/booking/${result.body.id}`, { token: client.token })).body.notes).toBe(notes);
    });

    it("accepts the coach profile id and answers with the coach's user id", async () => {
      const [client, coach] = await Promise.all([createClient(), createCoach()]);
      const result = await post(
        "/booking",
        { coach_id: coach.profileId, session_datetime: iso(slot(8)), duration_minutes: 30 },
        { token: client.token },
      );
      expect(result.status).toBe(201);
      expect(result.body.coach_id).toBe(coach.id);
      expect(result.body.notes).toBeNull();
    });

    it("allows back-to-back sessions with the same coach", async () => {
      const [first, second, coach] = await Promise.all([createClient(), createClient(), createCoach()]);
      const start = slot(9, 10);
      await book(first, coach, start, 60);
      const next = await post(
        "/booking",
        { coach_id: coach.id, session_datetime: iso(new Date(start.getTime() + HOUR)), duration_minutes: 60 },
        { token: second.token },
      );
      expect(next.status).toBe(201);
      const before = await post(
        "/booking",
        { coach_id: coach.id, session_datetime: iso(new Date(start.getTime() - 30 * 60_000)), duration_minutes: 30 },
        { token: second.token },
      );
      expect(before.status).toBe(201);
    });

    it("frees the slot when the booking is cancelled", async () => {
      const [first, second, coach] = await Promise.all([createClient(), createClient(), createCoach()]);
      const start = slot(10);
      const booking = await book(first, coach, start);
      expect((await del(`/booking/${booking.id}`, { token: first.token })).status).toBe(204);
      expect(
        (
          await post(
            "/booking",
            { coach_id: coach.id, session_datetime: iso(start), duration_minutes: 60 },
            { token: second.token },
          )
        ).status,
      ).toBe(201);
    });
  });

  describe("errors", () => {
    it("409 when overlapping another booking of the coach by 15 minutes", async () => {
      const [first, second, coach] = await Promise.all([createClient(), createClient(), createCoach()]);
      const start = slot(11, 10);
      await book(first, coach, start, 60);
      const overlapEnd = await post(
        "/booking",
        { coach_id: coach.id, session_datetime: iso(new Date(start.getTime() + 45 * 60_000)), duration_minutes: 60 },
        { token: second.token },
      );
      const error = expectEnvelope(overlapEnd, 409, "CONFLICT");
      expect(error.details.reason).toBe("coach_slot_taken");
      const overlapStart = await post(
        "/booking",
        { coach_id: coach.id, session_datetime: iso(new Date(start.getTime() - 45 * 60_000)), duration_minutes: 60 },
        { token: second.token },
      );
      expectEnvelope(overlapStart, 409, "CONFLICT");
    });

    it("409 when the client already has a session at that time with another coach", async () => {
      const [client, coachA, coachB] = await Promise.all([createClient(), createCoach(), createCoach()]);
      const start = slot(12);
      await book(client, coachA, start, 90);
      const result = await post(
        "/booking",
        { coach_id: coachB.id, session_datetime: iso(new Date(start.getTime() + HOUR)), duration_minutes: 30 },
        { token: client.token },
      );
      expect(expectEnvelope(result, 409, "CONFLICT").details.reason).toBe("client_overlap");
    });

    it("409 for a fourth unpaid pending booking", async () => {
      const [client, coach] = await Promise.all([createClient(), createCoach()]);
      for (let i = 0; i < 3; i++) await book(client, coach, slot(13 + i));
      const fourth = await post(
        "/booking",
        { coach_id: coach.id, session_datetime: iso(slot(17)), duration_minutes: 60 },
        { token: client.token },
      );
      const error = expectEnvelope(fourth, 409, "CONFLICT");
      expect(error.details).toMatchObject({ reason: "too_many_unpaid_bookings", limit: 3 });
    });

    it("409 with a reason when the session is outside the coach's availability", async () => {
      const client = await createClient();
      const coach = await createCoach({ availability: { timezone: "UTC", monday: ["09:00-12:00"] } });
      // Next Monday+7 at 11:30 UTC for 60 minutes: starts inside, ends after 12:00.
      const monday = slot(7, 11, 30);
      while (monday.getUTCDay() !== 1) monday.setTime(monday.getTime() + DAY);
      const result = await post(
        "/booking",
        { coach_id: coach.id, session_datetime: iso(monday), duration_minutes: 60 },
        { token: client.token },
      );
      const error = expectEnvelope(result, 409, "CONFLICT");
      expect(error.details.reason).toBe("outside_availability");
      expect(error.details.timezone).toBe("UTC");
      const tuesday = new Date(monday.getTime() + DAY - 90 * 60_000);
      expectEnvelope(
        await post(
          "/booking",
          { coach_id: coach.id, session_datetime: iso(tuesday), duration_minutes: 30 },
          { token: client.token },
        ),
        409,
        "CONFLICT",
      );
      const fits = await post(
        "/booking",
        { coach_id: coach.id, session_datetime: iso(new Date(monday.getTime() - 30 * 60_000)), duration_minutes: 60 },
        { token: client.token },
      );
      expect(fits.status).toBe(201);
    });

    it("404 for an unknown or inactive coach, and for a user who is not a coach", async () => {
      const client = await createClient();
      const inactive = await createCoach();
      await query(`UPDATE users SET is_active = false WHERE id = $1`, [inactive.id]);
      const other = await createClient();
      for (const coachId of [crypto.randomUUID(), inactive.id, other.id]) {
        expectEnvelope(
          await post(
            "/booking",
            { coach_id: coachId, session_datetime: iso(slot(7)), duration_minutes: 60 },
            { token: client.token },
          ),
          404,
          "NOT_FOUND",
        );
      }
    });

    it("400 for a past start, a bad duration, a malformed coach id or date", async () => {
      const [client, coach] = await Promise.all([createClient(), createCoach()]);
      const cases = [
        { coach_id: coach.id, session_datetime: iso(new Date(Date.now() - HOUR)), duration_minutes: 60 },
        { coach_id: coach.id, session_datetime: iso(slot(7)), duration_minutes: 45 },
        { coach_id: coach.id, session_datetime: iso(slot(7)), duration_minutes: "60" },
        { coach_id: "not-a-uuid", session_datetime: iso(slot(7)), duration_minutes: 60 },
        { coach_id: coach.id, session_datetime: "next tuesday", duration_minutes: 60 },
        { coach_id: coach.id, duration_minutes: 60 },
      ];
      for (const body of cases) expectEnvelope(await post("/booking", body, { token: client.token }), 400, "VALIDATION_ERROR");
      const [{ n }] = (await query<{ n: string }>(`SELECT count(*) AS n FROM bookings WHERE coach_id = $1`, [coach.id])) as [
        { n: string },
      ];
      expect(Number(n)).toBe(0);
    });

    it("'the future' follows the request clock", async () => {
      const [client, coach] = await Promise.all([createClient(), createCoach()]);
      const start = slot(3);
      const result = await post(
        "/booking",
        { coach_id: coach.id, session_datetime: iso(start), duration_minutes: 60 },
        await at(client, new Date(start.getTime() + HOUR)),
      );
      expectEnvelope(result, 400, "VALIDATION_ERROR");
    });
  });

  describe("security", () => {
    it("401 without a token, 403 for coaches and admins", async () => {
      const coach = await createCoach();
      const admin = await createUser("admin");
      const body = { coach_id: coach.id, session_datetime: iso(slot(7)), duration_minutes: 60 };
      expectEnvelope(await post("/booking", body), 401, "UNAUTHORIZED");
      expectEnvelope(await post("/booking", body, { token: coach.token }), 403, "FORBIDDEN");
      expectEnvelope(await post("/booking", body, { token: admin.token }), 403, "FORBIDDEN");
    });
  });

  describe("DST in the coach's time zone (Europe/Madrid)", () => {
    // 2027-03-28 and 2027-10-31 are the last Sundays of March and October:
    // Madrid is UTC+1 before the spring change and UTC+2 after it, until the autumn change.
    const madridCoach = (sunday: string[]) => createCoach({ availability: { timezone: "Europe/Madrid", sunday } });

    it("spring forward: 09:00 local is 07:00Z on the change day but 08:00Z a week before", async () => {
      const [client, coach] = await Promise.all([createClient(), madridCoach(["09:00-10:00"])]);
      const onChangeDay = await post(
        "/booking",
        { coach_id: coach.id, session_datetime: "2027-03-28T07:00:00Z", duration_minutes: 60 },
        { token: client.token },
      );
      expect(onChangeDay.status).toBe(201);
      // 08:00Z on the change day is 10:00 local: outside.
      expectEnvelope(
        await post(
          "/booking",
          { coach_id: coach.id, session_datetime: "2027-03-28T08:00:00Z", duration_minutes: 30 },
          { token: client.token },
        ),
        409,
        "CONFLICT",
      );
      // The Sunday before, still winter time: 09:00 local = 08:00Z.
      expect(
        (
          await post(
            "/booking",
            { coach_id: coach.id, session_datetime: "2027-03-21T08:00:00Z", duration_minutes: 60 },
            { token: client.token },
          )
        ).status,
      ).toBe(201);
      expectEnvelope(
        await post(
          "/booking",
          { coach_id: coach.id, session_datetime: "2027-03-21T07:00:00Z", duration_minutes: 60 },
          { token: client.token },
        ),
        409,
        "CONFLICT",
      );
    });

    it("spring forward: a session across the skipped hour is measured on the wall clock", async () => {
      const [client, coach] = await Promise.all([createClient(), madridCoach(["01:00-04:00"])]);
      // 00:30Z = 01:30 CET; +90 min = 02:00Z = 04:00 CEST: ends exactly at the window's end.
      expect(
        (
          await post(
            "/booking",
            { coach_id: coach.id, session_datetime: "2027-03-28T00:30:00Z", duration_minutes: 90 },
            { token: client.token },
          )
        ).status,
      ).toBe(201);
      // 01:30Z = 03:30 CEST; +60 min = 04:30 local: outside.
      const late = await post(
        "/booking",
        { coach_id: coach.id, session_datetime: "2027-03-28T01:30:00Z", duration_minutes: 60 },
        { token: client.token },
      );
      expect(expectEnvelope(late, 409, "CONFLICT").details.local_end).toContain("04:30");
    });

    it("fall back: 09:00 local is 08:00Z on the change day", async () => {
      const [client, coach] = await Promise.all([createClient(), madridCoach(["09:00-10:00"])]);
      expect(
        (
          await post(
            "/booking",
            { coach_id: coach.id, session_datetime: "2027-10-31T08:00:00Z", duration_minutes: 60 },
            { token: client.token },
          )
        ).status,
      ).toBe(201);
      // 07:00Z is 08:00 CET on that day.
      expectEnvelope(
        await post(
          "/booking",
          { coach_id: coach.id, session_datetime: "2027-10-31T07:00:00Z", duration_minutes: 30 },
          { token: client.token },
        ),
        409,
        "CONFLICT",
      );
      // The Sunday before (summer time) 09:00 local = 07:00Z.
      expect(
        (
          await post(
            "/booking",
            { coach_id: coach.id, session_datetime: "2027-10-24T07:00:00Z", duration_minutes: 60 },
            { token: client.token },
          )
        ).status,
      ).toBe(201);
    });
  });

  describe("concurrency (real Postgres)", () => {
    it.runIf(isRealPostgres())("50 clients booking one slot at once: exactly one 201, 49 409", async () => {
      const coach = await createCoach();
      const clients = await Promise.all(Array.from({ length: 50 }, () => createClient()));
      const start = slot(20, 14);
      const results = await Promise.all(
        clients.map((client) =>
          post("/booking", { coach_id: coach.id, session_datetime: iso(start), duration_minutes: 60 }, { token: client.token }),
        ),
      );
      const statuses = results.map((result) => result.status);
      expect(statuses.filter((status) => status === 201)).toHaveLength(1);
      expect(statuses.filter((status) => status === 409)).toHaveLength(49);
      // Losers that passed the pre-check hit the exclusion constraint: same clear reason either way.
      for (const result of results.filter((r) => r.status === 409))
        expect(expectEnvelope(result, 409, "CONFLICT").details.reason).toBe("coach_slot_taken");
      const rows = await query(`SELECT id FROM bookings WHERE coach_id = $1 AND status IN ('pending','confirmed')`, [coach.id]);
      expect(rows).toHaveLength(1);
    });

    it.runIf(isRealPostgres())("overlapping (not identical) slots at once: one wins", async () => {
      const coach = await createCoach();
      const clients = await Promise.all(Array.from({ length: 10 }, () => createClient()));
      const base = slot(21, 9);
      const results = await Promise.all(
        clients.map((client, i) =>
          post(
            "/booking",
            { coach_id: coach.id, session_datetime: iso(new Date(base.getTime() + (i % 4) * 15 * 60_000)), duration_minutes: 90 },
            { token: client.token },
          ),
        ),
      );
      expect(results.filter((result) => result.status === 201)).toHaveLength(1);
    });

    it.runIf(isRealPostgres())("one client firing 8 bookings at once holds at most 3 unpaid", async () => {
      const [client, coach] = await Promise.all([createClient(), createCoach()]);
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          post(
            "/booking",
            { coach_id: coach.id, session_datetime: iso(slot(30 + i)), duration_minutes: 30 },
            { token: client.token },
          ),
        ),
      );
      expect(results.filter((result) => result.status === 201)).toHaveLength(3);
      expect(results.filter((result) => result.status === 409)).toHaveLength(5);
    });
  });
});

describe("GET /booking/{id}", () => {
  it("happy: the client, the coach and an admin see it with both parties", async () => {
    const [client, coach, admin] = await Promise.all([
      createClient({ firstName: "Ana" }),
      createCoach({ firstName: "Carla" }),
      createUser("admin"),
    ]);
    const booking = await book(client, coach, slot(7));
    for (const viewer of [client, coach, admin]) {
      const result = await get(`/booking/${booking.id}`, { token: viewer.token });
      expect(result.status).toBe(200);
      expect(result.body).toMatchObject({
        id: booking.id,
        client: { id: client.id, first_name: "Ana", last_name: "Client", photo_url: null },
        coach: { id: coach.id, first_name: "Carla", last_name: "Coach", photo_url: null },
      });
    }
  });

  it("errors: 404 unknown, 400 malformed id", async () => {
    const client = await createClient();
    expectEnvelope(await get(`/booking/${crypto.randomUUID()}`, { token: client.token }), 404, "NOT_FOUND");
    expectEnvelope(await get(`/booking/123`, { token: client.token }), 400, "VALIDATION_ERROR");
  });

  it("security: 403 for other users, 401 anonymous", async () => {
    const [client, coach, stranger, otherCoach] = await Promise.all([
      createClient(),
      createCoach(),
      createClient(),
      createCoach(),
    ]);
    const booking = await book(client, coach, slot(7));
    expectEnvelope(await get(`/booking/${booking.id}`, { token: stranger.token }), 403, "FORBIDDEN");
    expectEnvelope(await get(`/booking/${booking.id}`, { token: otherCoach.token }), 403, "FORBIDDEN");
    expectEnvelope(await get(`/booking/${booking.id}`), 401, "UNAUTHORIZED");
  });
});

describe("GET /booking/client/{id} and /booking/coach/{id}", () => {
  it("happy: paginated, filtered by status, for the owner and admins", async () => {
    const [client, coach, admin] = await Promise.all([createClient(), createCoach(), createUser("admin")]);
    const a = await book(client, coach, slot(7));
    await book(client, coach, slot(8));
    await del(`/booking/${a.id}`, { token: client.token });

    const all = await get(`/booking/client/${client.id}`, { token: client.token });
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ total: 2, skip: 0, limit: 20 });
    expect(all.body.items).toHaveLength(2);
    // Latest session first.
    expect(all.body.items[0].session_datetime > all.body.items[1].session_datetime).toBe(true);

    const cancelled = await get(`/booking/client/${client.id}?status=cancelled`, { token: admin.token });
    expect(cancelled.body.total).toBe(1);
    expect(cancelled.body.items[0].id).toBe(a.id);

    const coachView = await get(`/booking/coach/${coach.id}?status=pending&limit=1`, { token: coach.token });
    expect(coachView.body).toMatchObject({ total: 1, limit: 1 });
    expect(coachView.body.items[0].client.id).toBe(client.id);

    const byProfileId = await get(`/booking/coach/${coach.profileId}`, { token: coach.token });
    expect(byProfileId.body.total).toBe(2);
  });

  it("errors: bad pagination or status -> 400", async () => {
    const client = await createClient();
    expectEnvelope(await get(`/booking/client/${client.id}?limit=101`, { token: client.token }), 400, "VALIDATION_ERROR");
    expectEnvelope(await get(`/booking/client/${client.id}?status=lost`, { token: client.token }), 400, "VALIDATION_ERROR");
    expectEnvelope(await get(`/booking/client/xyz`, { token: client.token }), 400, "VALIDATION_ERROR");
  });

  it("security: another client or coach -> 403", async () => {
    const [client, coach, stranger] = await Promise.all([createClient(), createCoach(), createClient()]);
    expectEnvelope(await get(`/booking/client/${client.id}`, { token: stranger.token }), 403, "FORBIDDEN");
    expectEnvelope(await get(`/booking/coach/${coach.id}`, { token: stranger.token }), 403, "FORBIDDEN");
    expectEnvelope(await get(`/booking/coach/${coach.id}`, { token: (await createCoach()).token }), 403, "FORBIDDEN");
  });
});

describe("PATCH /booking/{id}/status", () => {
  it("happy: the coach confirms with a meeting link, both parties are emailed", async () => {
    const [client, coach] = await Promise.all([createClient(), createCoach()]);
    const booking = await book(client, coach, slot(7));
    const result = await patch(
      `/booking/${booking.id}/status`,
      { status: "confirmed", meeting_link: "https://meet.example.test/abc" },
      { token: coach.token },
    );
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ status: "confirmed", meeting_link: "https://meet.example.test/abc" });
    for (const user of [client, coach]) {
      const mails = await get(`/dev/emails?to=${encodeURIComponent(user.email)}`);
      expect(
        mails.body.items.some(
          (mail: { subject: string; text: string }) =>
            mail.subject.includes("confirmed") && mail.text.includes("https://meet.example.test/abc"),
        ),
      ).toBe(true);
    }
  });

  it("happy: completing a paid session after it ended increments total_sessions and SEQUENCE", async () => {
    const [client, coach] = await Promise.all([createClient(), createCoach()]);
    const start = slot(2);
    // Paid through Checkout and the webhook: contract v2 counts only paid completed sessions.
    const { booking } = await confirmedBooking(client, coach, start, 60);
    const early = await patch(
      `/booking/${booking.id}/status`,
      { status: "completed" },
      await at(coach, new Date(start.getTime() + 30 * 60_000)),
    );
    expectEnvelope(early, 400, "VALIDATION_ERROR");
    const done = await patch(
      `/booking/${booking.id}/status`,
      { status: "completed" },
      await at(coach, new Date(start.getTime() + HOUR)),
    );
    expect(done.status).toBe(200);
    expect(done.body.status).toBe("completed");
    const [profile] = await query<{ total_sessions: number }>(`SELECT total_sessions FROM coach_profiles WHERE user_id = $1`, [
      coach.id,
    ]);
    expect(profile?.total_sessions).toBe(1);
    const [row] = await query<{ sequence: number }>(`SELECT sequence FROM bookings WHERE id = $1`, [booking.id]);
    expect(row?.sequence).toBe(2);
  });

  it("errors: transitions outside the table -> 400 and nothing changes", async () => {
    const [client, coach] = await Promise.all([createClient(), createCoach()]);
    const booking = await book(client, coach, slot(7));
    const far = new Date(Date.now() + 30 * DAY);
    expectEnvelope(
      await patch(`/booking/${booking.id}/status`, { status: "completed" }, await at(coach, far)),
      400,
      "VALIDATION_ERROR",
    );
    expectEnvelope(
      await patch(`/booking/${booking.id}/status`, { status: "pending" }, { token: coach.token }),
      400,
      "VALIDATION_ERROR",
    );
    expectEnvelope(
      await patch(`/booking/${booking.id}/status`, { status: "archived" }, { token: coach.token }),
      400,
      "VALIDATION_ERROR",
    );
    await patch(`/booking/${booking.id}/status`, { status: "cancelled" }, { token: coach.token });
    expectEnvelope(
      await patch(`/booking/${booking.id}/status`, { status: "confirmed" }, { token: coach.token }),
      400,
      "VALIDATION_ERROR",
    );
    expectEnvelope(
      await patch(`/booking/${booking.id}/status`, { status: "cancelled" }, { token: coach.token }),
      400,
      "VALIDATION_ERROR",
    );
    const [row] = await query<{ status: string }>(`SELECT status FROM bookings WHERE id = $1`, [booking.id]);
    expect(row?.status).toBe("cancelled");
  });

  it("security: the client may only cancel; strangers 403; unknown 404", async () => {
    const [client, coach, stranger] = await Promise.all([createClient(), createCoach(), createCoach()]);
    const booking = await book(client, coach, slot(7));
    expectEnvelope(
      await patch(`/booking/${booking.id}/status`, { status: "confirmed" }, { token: client.token }),
      403,
      "FORBIDDEN",
    );
    expectEnvelope(
      await patch(`/booking/${booking.id}/status`, { status: "cancelled" }, { token: stranger.token }),
      403,
      "FORBIDDEN",
    );
    expectEnvelope(
      await patch(`/booking/${crypto.randomUUID()}/status`, { status: "cancelled" }, { token: coach.token }),
      404,
      "NOT_FOUND",
    );
    const cancelled = await patch(`/booking/${booking.id}/status`, { status: "cancelled" }, { token: client.token });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe("cancelled");
  });
});

describe("DELETE /booking/{id} (cancellation policy)", () => {
  async function refundsFor(intentId: string) {
    return (await fakeStripeRequests(stripeUrl())).filter(
      (request) => request.path === "/v1/refunds" && request.body.payment_intent === intentId,
    );
  }
  async function paymentOf(bookingId: string) {
    const [row] = await query<{ status: string; stripe_payment_intent_id: string }>(
      `SELECT status, stripe_payment_intent_id FROM payments WHERE booking_id = $1 AND paid_at IS NOT NULL`,
      [bookingId],
    );
    return row as { status: string; stripe_payment_intent_id: string };
  }

  it("the client >= 24 h ahead: 204, cancelled, full refund through Stripe, both notified", async () => {
    const [client, coach] = await Promise.all([createClient(), createCoach()]);
    const { booking } = await confirmedBooking(client, coach, slot(5));
    const result = await del(`/booking/${booking.id}`, { token: client.token });
    expect(result.status).toBe(204);
    // The refund is made right after the cancellation committed (docs/PAYMENTS.md); Stripe's answer marks it.
    await eventually(async () => expect((await paymentOf(booking.id)).status).toBe("refunded"));
    const payment = await paymentOf(booking.id);
    const refunds = await refundsFor(payment.stripe_payment_intent_id);
    expect(refunds).toHaveLength(1);
    expect(refunds[0]?.idempotencyKey).toBeTruthy();
    expect((await get(`/booking/${booking.id}`, { token: client.token })).body.status).toBe("cancelled");
    for (const user of [client, coach]) {
      const mails = await get(`/dev/emails?to=${encodeURIComponent(user.email)}`);
      expect(mails.body.items.some((mail: { subject: string }) => mail.subject.includes("cancelled"))).toBe(true);
    }
  });

  it("the client < 24 h ahead: cancelled, no refund", async () => {
    const [client, coach] = await Promise.all([createClient(), createCoach()]);
    const start = slot(4);
    const { booking } = await confirmedBooking(client, coach, start);
    const result = await del(`/booking/${booking.id}`, await at(client, new Date(start.getTime() - 23 * HOUR)));
    expect(result.status).toBe(204);
    const payment = await paymentOf(booking.id);
    expect(payment.status).toBe("succeeded");
    expect(await refundsFor(payment.stripe_payment_intent_id)).toHaveLength(0);
  });

  it("the coach (or an admin) late: full refund", async () => {
    const [client, coach, admin, client2] = await Promise.all([
      createClient(),
      createCoach(),
      createUser("admin"),
      createClient(),
    ]);
    const start = slot(4);
    const byCoach = await confirmedBooking(client, coach, start);
    const late = new Date(start.getTime() - HOUR);
    expect((await del(`/booking/${byCoach.booking.id}`, await at(coach, late))).status).toBe(204);
    await eventually(async () => expect((await paymentOf(byCoach.booking.id)).status).toBe("refunded"));
    const byAdmin = await confirmedBooking(client2, coach, slot(6));
    expect((await del(`/booking/${byAdmin.booking.id}`, await at(admin, new Date(slot(6).getTime() - HOUR)))).status).toBe(204);
    await eventually(async () => expect((await paymentOf(byAdmin.booking.id)).status).toBe("refunded"));
  });

  it("Stripe down while a refund is due: still 204 and cancelled; the refund stays recorded for the cron job", async () => {
    const [client, coach] = await Promise.all([createClient(), createCoach()]);
    const { booking } = await confirmedBooking(client, coach, slot(5));
    await setFakeStripeMode(stripeUrl(), { mode: "error", match: booking.id });
    try {
      expect((await del(`/booking/${booking.id}`, { token: coach.token })).status).toBe(204);
      const payment = await paymentOf(booking.id);
      await eventually(async () => expect(await refundsFor(payment.stripe_payment_intent_id)).not.toHaveLength(0));
    } finally {
      await setFakeStripeMode(stripeUrl(), {});
    }
    expect((await get(`/booking/${booking.id}`, { token: client.token })).body.status).toBe("cancelled");
    // Not refunded yet, but the decision is recorded: the cron job's pending_refunds step makes it
    // with the same idempotency key (test/integration/booking-lifecycle.test.ts).
    const [row] = await query<{ status: string; refund_requested_at: Date | null }>(
      `SELECT status, refund_requested_at FROM payments WHERE booking_id = $1`,
      [booking.id],
    );
    expect(row?.status).toBe("succeeded");
    expect(row?.refund_requested_at).not.toBeNull();
  });

  it("errors: unknown 404, already cancelled 400, malformed 400", async () => {
    const [client, coach] = await Promise.all([createClient(), createCoach()]);
    const booking = await book(client, coach, slot(7));
    expectEnvelope(await del(`/booking/${crypto.randomUUID()}`, { token: client.token }), 404, "NOT_FOUND");
    expect((await del(`/booking/${booking.id}`, { token: client.token })).status).toBe(204);
    expectEnvelope(await del(`/booking/${booking.id}`, { token: client.token }), 400, "VALIDATION_ERROR");
    expectEnvelope(await del(`/booking/nope`, { token: client.token }), 400, "VALIDATION_ERROR");
  });

  it("security: strangers 403, anonymous 401", async () => {
    const [client, coach, stranger] = await Promise.all([createClient(), createCoach(), createClient()]);
    const booking = await book(client, coach, slot(7));
    expectEnvelope(await del(`/booking/${booking.id}`, { token: stranger.token }), 403, "FORBIDDEN");
    expectEnvelope(await del(`/booking/${booking.id}`), 401, "UNAUTHORIZED");
    expect((await get(`/booking/${booking.id}`, { token: client.token })).body.status).toBe("pending");
  });
});
