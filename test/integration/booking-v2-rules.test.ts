/**
 * Booking rules of contract v2 and issue 19 over HTTP against the Worker:
 * generated meeting links and the link-only status change, unpaid confirmed
 * bookings in the hold cap, total_sessions only for paid sessions, the
 * hoarding policy for unverified accounts, and the mixed-duration race (real
 * Postgres) answering overlap 409s with a reason, never "Concurrent update".
 * The defect tests failed before the fixes (see the commit messages).
 */
import { afterAll, describe, expect, it } from "vitest";
import { expectEnvelope, get, type Json, patch, post } from "../helpers/api.ts";
import { book, confirmedBooking, HOUR, slot } from "../helpers/booking-flow.ts";
import { closeTestPool, isRealPostgres, query } from "../helpers/db.ts";
import { accessToken, createClient, createCoach, type TestUser } from "../helpers/fixtures.ts";

afterAll(closeTestPool);

async function at(user: TestUser, now: Date) {
  return { token: await accessToken(user.id, user.role, now), now };
}

const ROOM = /^https:\/\/meet\.jit\.si\/CultureBridge-[0-9a-f]{32}$/;

describe("meeting links", () => {
  it("happy: confirming without a link generates an unguessable one on MEETING_BASE_URL; it is in the emails", async () => {
    const [client, coach] = await Promise.all([createClient(), createCoach()]);
    const [a, b] = await Promise.all([book(client, coach, slot(7, 9)), book(client, coach, slot(7, 11))]);
    const first = await patch(`/booking/${a.id}/status`, { status: "confirmed" }, { token: coach.token });
    const second = await patch(`/booking/${b.id}/status`, { status: "confirmed" }, { token: coach.token });
    expect(first.body.meeting_link).toMatch(ROOM);
    expect(second.body.meeting_link).toMatch(ROOM);
    expect(first.body.meeting_link).not.toBe(second.body.meeting_link);
    const mails = (await get(`/dev/emails?to=${encodeURIComponent(client.email)}`)).body.items as Json[];
    expect(mails.some((mail) => mail.text.includes(first.body.meeting_link))).toBe(true);
  });

  it("happy: the coach replaces the link of a confirmed booking (status stays, SEQUENCE + 1, both told)", async () => {
    const [client, coach] = await Promise.all([createClient(), createCoach()]);
    const booking = await book(client, coach, slot(8));
    await patch(`/booking/${booking.id}/status`, { status: "confirmed" }, { token: coach.token });
    const [before] = await query<{ sequence: number }>(`SELECT sequence FROM bookings WHERE id = $1`, [booking.id]);
    const result = await patch(
      `/booking/${booking.id}/status`,
      { status: "confirmed", meeting_link: "https://zoom.example.test/j/123" },
      { token: coach.token },
    );
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ status: "confirmed", meeting_link: "https://zoom.example.test/j/123" });
    const [after] = await query<{ sequence: number }>(`SELECT sequence FROM bookings WHERE id = $1`, [booking.id]);
    expect(after?.sequence).toBe((before?.sequence ?? 0) + 1);
    const mails = (await get(`/dev/emails?to=${encodeURIComponent(client.email)}`)).body.items as Json[];
    expect(mails.some((mail) => mail.subject.startsWith("Meeting link updated") && mail.text.includes("zoom.example.test"))).toBe(
      true,
    );
  });

  it("errors: confirmed -> confirmed without a link is 400; CR/LF, tab or a non-http(s) link is 400", async () => {
    const [client, coach] = await Promise.all([createClient(), createCoach()]);
    const booking = await book(client, coach, slot(9));
    await patch(`/booking/${booking.id}/status`, { status: "confirmed" }, { token: coach.token });
    expectEnvelope(
      await patch(`/booking/${booking.id}/status`, { status: "confirmed" }, { token: coach.token }),
      400,
      "VALIDATION_ERROR",
    );
    for (const link of ["https://x.test/a\r\nBcc: x@y", "https://x.test/\ta", "javascript:alert(1)", "ftp://x.test/a"]) {
      expectEnvelope(
        await patch(`/booking/${booking.id}/status`, { status: "confirmed", meeting_link: link }, { token: coach.token }),
        400,
        "VALIDATION_ERROR",
      );
    }
  });

  it("security: the client cannot replace the link (403)", async () => {
    const [client, coach] = await Promise.all([createClient(), createCoach()]);
    const booking = await book(client, coach, slot(10));
    await patch(`/booking/${booking.id}/status`, { status: "confirmed" }, { token: coach.token });
    expectEnvelope(
      await patch(
        `/booking/${booking.id}/status`,
        { status: "confirmed", meeting_link: "https://evil.test/x" },
        { token: client.token },
      ),
      403,
      "FORBIDDEN",
    );
  });
});

describe("unpaid holds and total_sessions (issue 19)", () => {
  it("unpaid confirmed bookings count toward the 3-unpaid cap; a paid one does not", async () => {
    const [client, coach] = await Promise.all([createClient(), createCoach()]);
    const held = await Promise.all([
      book(client, coach, slot(5, 9)),
      book(client, coach, slot(5, 11)),
      book(client, coach, slot(5, 13)),
    ]);
    // The coach confirms all three without payment: before the fix the client could then hold more.
    for (const booking of held) await patch(`/booking/${booking.id}/status`, { status: "confirmed" }, { token: coach.token });
    const fourth = await post(
      "/booking",
      { coach_id: coach.id, session_datetime: slot(5, 15).toISOString(), duration_minutes: 60 },
      { token: client.token },
    );
    expect(expectEnvelope(fourth, 409, "CONFLICT").details).toMatchObject({
      reason: "too_many_unpaid_bookings",
      limit: 3,
      unpaid: 3,
    });
    // A paid booking does not count: with one of the three cancelled, two unpaid + a paid one leave room for one more.
    await patch(`/booking/${held[0].id}/status`, { status: "cancelled" }, { token: coach.token });
    await confirmedBooking(client, coach, slot(6, 9));
    expect((await book(client, coach, slot(6, 12))).status).toBe("pending");
  });

  it("an unpaid session that ended no longer counts", async () => {
    const [client, coach] = await Promise.all([createClient(), createCoach()]);
    const bookings = await Promise.all([
      book(client, coach, slot(3, 9)),
      book(client, coach, slot(3, 11)),
      book(client, coach, slot(3, 13)),
    ]);
    for (const booking of bookings) await patch(`/booking/${booking.id}/status`, { status: "confirmed" }, { token: coach.token });
    const later = new Date(slot(3, 14).getTime() + HOUR);
    const result = await post(
      "/booking",
      { coach_id: coach.id, session_datetime: slot(5, 9).toISOString(), duration_minutes: 60 },
      await at(client, later),
    );
    expect(result.status).toBe(201);
  });

  it("completing an unpaid (coach-confirmed) session does not raise total_sessions; a paid one does", async () => {
    const [client, coach] = await Promise.all([createClient(), createCoach()]);
    const start = slot(2, 9);
    const unpaid = await book(client, coach, start);
    await patch(`/booking/${unpaid.id}/status`, { status: "confirmed" }, { token: coach.token });
    const done = await patch(
      `/booking/${unpaid.id}/status`,
      { status: "completed" },
      await at(coach, new Date(start.getTime() + 2 * HOUR)),
    );
    expect(done.body.status).toBe("completed");
    const sessions = async () =>
      (await query<{ total_sessions: number }>(`SELECT total_sessions FROM coach_profiles WHERE user_id = $1`, [coach.id]))[0]
        ?.total_sessions;
    expect(await sessions()).toBe(0);
    const paidStart = slot(2, 12);
    const { booking: paid } = await confirmedBooking(client, coach, paidStart);
    await patch(`/booking/${paid.id}/status`, { status: "completed" }, await at(coach, new Date(paidStart.getTime() + 2 * HOUR)));
    expect(await sessions()).toBe(1);
  });
});

describe("hoarding policy: unverified accounts hold one unpaid booking", () => {
  it("a second hold needs a verified email (409 with the reason); after verifying, up to three", async () => {
    const [client, coach] = await Promise.all([createClient(), createCoach()]);
    await query(`UPDATE users SET email_verified = false WHERE id = $1`, [client.id]);
    await book(client, coach, slot(4, 9));
    const second = await post(
      "/booking",
      { coach_id: coach.id, session_datetime: slot(4, 11).toISOString(), duration_minutes: 60 },
      { token: client.token },
    );
    expect(expectEnvelope(second, 409, "CONFLICT").details).toMatchObject({
      reason: "email_not_verified",
      limit: 1,
      email_verified: false,
    });
    await query(`UPDATE users SET email_verified = true WHERE id = $1`, [client.id]);
    expect((await book(client, coach, slot(4, 11))).status).toBe("pending");
    expect((await book(client, coach, slot(4, 13))).status).toBe("pending");
  });
});

describe("contended bookings (real Postgres)", () => {
  it.runIf(isRealPostgres())(
    "mixed-duration race on one coach: every loser gets the overlap 409 with its reason, no 'Concurrent update', no overlap stored",
    async () => {
      const coach = await createCoach();
      const clients = await Promise.all(Array.from({ length: 40 }, () => createClient()));
      const base = slot(25, 8);
      const started = Date.now();
      const results = await Promise.all(
        clients.map((client, i) =>
          post(
            "/booking",
            {
              coach_id: coach.id,
              session_datetime: new Date(base.getTime() + (i % 8) * 30 * 60_000).toISOString(),
              duration_minutes: [30, 60, 90][i % 3],
            },
            { token: client.token },
          ),
        ),
      );
      const elapsed = Date.now() - started;
      expect(results.every((result) => result.status === 201 || result.status === 409)).toBe(true);
      for (const result of results.filter((r) => r.status === 409)) {
        const error = expectEnvelope(result, 409, "CONFLICT");
        expect(error.message).not.toMatch(/Concurrent update/);
        expect(error.details.reason).toBe("coach_slot_taken");
      }
      expect(results.filter((result) => result.status === 201).length).toBeGreaterThanOrEqual(2);
      const overlapping = await query(
        `SELECT a.id FROM bookings a JOIN bookings b ON a.coach_id = b.coach_id AND a.id < b.id
          WHERE a.coach_id = $1 AND a.status IN ('pending','confirmed') AND b.status IN ('pending','confirmed')
            AND booking_period(a.session_datetime, a.duration_minutes) && booking_period(b.session_datetime, b.duration_minutes)`,
        [coach.id],
      );
      expect(overlapping).toEqual([]);
      console.log(JSON.stringify({ race: "mixed-duration", requests: results.length, elapsed_ms: elapsed }));
    },
  );
});
