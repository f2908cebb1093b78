/**
 * Acknowledged writes survive concurrent requests, over HTTP against the real
 * Worker, with failing statements among them (issue 19 part 1). On the
 * default path this is the embedded PGlite behind scripts/lib/pglite-server.ts,
 * where one request's error used to make the single session skip other
 * requests' statements while they were still answered 2xx; with
 * TEST_DATABASE_URL it holds on real Postgres too.
 */
import { afterAll, describe, expect, it } from "vitest";
import { type CallResult, del, post } from "../helpers/api.ts";
import { slot } from "../helpers/booking-flow.ts";
import { closeTestPool, query } from "../helpers/db.ts";
import { createClient, createCoach } from "../helpers/fixtures.ts";

afterAll(async () => {
  await closeTestPool();
});

describe("concurrent writes over HTTP", () => {
  it("keeps every 2xx write (posts, bookings, checkouts) while other requests' transactions roll back", async () => {
    const coach = await createCoach();
    const clients = await Promise.all(Array.from({ length: 10 }, () => createClient()));
    const bookingOf = (result: CallResult) => result.body?.id as string;

    // Each client's own booking (distinct slots), to pay below.
    const own = await Promise.all(
      clients.map((client, i) =>
        post(
          "/booking",
          { coach_id: coach.id, session_datetime: slot(20, i + 1).toISOString(), duration_minutes: 60 },
          { token: client.token },
        ),
      ),
    );
    expect(own.map((result) => result.status)).toEqual(clients.map(() => 201));
    // And one cancelled booking each: paying or cancelling it again fails INSIDE a transaction
    // (SELECT ... FOR UPDATE, then a 400 and ROLLBACK) -- the transactions other requests used to leak into.
    const cancelled = await Promise.all(
      clients.map(async (client, i) => {
        const booked = await post(
          "/booking",
          { coach_id: coach.id, session_datetime: slot(22, i + 1).toISOString(), duration_minutes: 60 },
          { token: client.token },
        );
        expect(booked.status).toBe(201);
        expect((await del(`/booking/${bookingOf(booked)}`, { token: client.token })).status).toBe(204);
        return bookingOf(booked);
      }),
    );

    // One burst: checkouts (a transaction: payment row, then rows that reference it), posts,
    // and every client racing for the same two slots (one winner each; the others conflict).
    const contested = [slot(21, 9), slot(21, 15)];
    const checkouts = clients.map((client, i) =>
      post("/payment/checkout", { booking_id: bookingOf(own[i] as CallResult) }, { token: client.token }),
    );
    const posts = clients.flatMap((client, i) =>
      [0, 1, 2].map((n) =>
        post(
          "/community/posts",
          { title: `Concurrent ${i}-${n}`, content: "Written during a burst of requests", post_type: "discussion" },
          { token: client.token },
        ),
      ),
    );
    const races = clients.flatMap((client) =>
      contested.map((start) =>
        post(
          "/booking",
          { coach_id: coach.id, session_datetime: start.toISOString(), duration_minutes: 60 },
          { token: client.token },
        ),
      ),
    );
    const doomed = clients.flatMap((client, i) => [
      post("/payment/checkout", { booking_id: cancelled[i] }, { token: client.token }),
      del(`/booking/${cancelled[i]}`, { token: client.token }),
    ]);
    const [checkoutResults, postResults, raceResults, doomedResults] = await Promise.all([
      Promise.all(checkouts),
      Promise.all(posts),
      Promise.all(races),
      Promise.all(doomed),
    ]);

    expect(doomedResults.map((result) => result.status)).toEqual(doomed.map(() => 400));
    expect(checkoutResults.map((result) => result.status)).toEqual(clients.map(() => 200));
    expect(postResults.map((result) => result.status)).toEqual(posts.map(() => 201));
    expect(raceResults.every((result) => result.status === 201 || result.status === 409)).toBe(true);
    const won = raceResults.filter((result) => result.status === 201).map(bookingOf);
    expect(won).toHaveLength(contested.length);

    // Every acknowledged write is there, and nothing else.
    const postIds = postResults.map((result) => result.body.id as string);
    const storedPosts = await query<{ id: string }>("select id from posts where id = any($1::uuid[])", [postIds]);
    expect(storedPosts).toHaveLength(postIds.length);

    const ownIds = own.map(bookingOf);
    const paymentRows = await query<{ booking_id: string }>(
      "select distinct booking_id from payments where booking_id = any($1::uuid[])",
      [ownIds],
    );
    expect(paymentRows.map((row) => row.booking_id).sort()).toEqual([...ownIds].sort());

    const contestedRows = await query<{ id: string }>(
      "select id from bookings where coach_id = $1 and session_datetime = any($2::timestamptz[]) and status = 'pending'",
      [coach.id, contested.map((start) => start.toISOString())],
    );
    expect(contestedRows.map((row) => row.id).sort()).toEqual([...won].sort());
  });
});
