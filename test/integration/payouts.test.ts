/**
 * Coach payouts through Stripe Connect (contract v2), over HTTP against the
 * Worker with the Stripe stand-in: onboarding and its reuse, account.updated
 * (duplicates, out of order), destination charges in a 2-, a 0- and a
 * 3-decimal currency, the refund of a destination charge, earnings, the
 * revenue report's owed shares, and PAYOUTS_REQUIRED.
 */
import { afterAll, describe, expect, inject, it } from "vitest";
import { del, expectEnvelope, get, type Json, post } from "../helpers/api.ts";
import { book, checkout, deliver, paidSessionEvent, slot, stripeUrl } from "../helpers/booking-flow.ts";
import { closeTestPool, query } from "../helpers/db.ts";
import { eventually } from "../helpers/eventually.ts";
import { fakeStripeRequests, stripeEvent } from "../helpers/fake-stripe.ts";
import { createClient, createCoach, createUser, type TestUser } from "../helpers/fixtures.ts";
import { startTestWorker } from "../helpers/stack.ts";

afterAll(closeTestPool);

const ok = (result: { status: number; text: string }) => {
  if (result.status !== 200) throw new Error(`webhook answered ${result.status}: ${result.text}`);
};

async function stripeCalls(predicate: (request: { path: string; body: Json; idempotencyKey?: string }) => boolean) {
  return (await fakeStripeRequests(stripeUrl())).filter(predicate) as { path: string; body: Json; idempotencyKey?: string }[];
}

function accountEvent(
  accountId: string,
  flags: Partial<Record<"charges_enabled" | "payouts_enabled" | "details_submitted", boolean>>,
  created: number,
  eventId?: string,
) {
  const event = stripeEvent(
    "account.updated",
    {
      id: accountId,
      object: "account",
      type: "express",
      charges_enabled: false,
      payouts_enabled: false,
      details_submitted: false,
      ...flags,
    },
    eventId,
  );
  event.created = created;
  return event;
}

/** Onboards the coach and has Stripe report the account enabled; returns the account id. */
async function enabledAccount(coach: TestUser): Promise<string> {
  const link = await post("/payouts/onboarding", undefined, { token: coach.token });
  expect(link.status).toBe(200);
  const account = (await get("/payouts/account", { token: coach.token })).body.stripe_account_id as string;
  const all = { charges_enabled: true, payouts_enabled: true, details_submitted: true };
  ok(await deliver(accountEvent(account, all, Math.floor(Date.now() / 1000))));
  return account;
}

async function paymentOf(bookingId: string): Promise<Json> {
  const [row] = await query<{ id: string }>(`SELECT id FROM payments WHERE booking_id = $1 ORDER BY created_at DESC LIMIT 1`, [
    bookingId,
  ]);
  return row;
}

describe("POST /payouts/onboarding and GET /payouts/account", () => {
  it("creates the Express account once, stores it, and every later call reuses it with a fresh link", async () => {
    const coach = await createCoach();
    const before = await get("/payouts/account", { token: coach.token });
    expect(before.status).toBe(200);
    expect(before.body).toEqual({
      stripe_account_id: null,
      charges_enabled: false,
      payouts_enabled: false,
      details_submitted: false,
    });

    const first = await post("/payouts/onboarding", undefined, { token: coach.token });
    expect(first.status).toBe(200);
    expect(first.body.url).toMatch(/^https?:\/\/.+\/connect\/onboarding\/acct_/);
    expect(Date.parse(first.body.expires_at)).toBeGreaterThan(Date.now());
    const second = await post("/payouts/onboarding", undefined, { token: coach.token });
    expect(second.status).toBe(200);

    const account = (await get("/payouts/account", { token: coach.token })).body;
    expect(account.stripe_account_id).toMatch(/^acct_/);
    const creates = await stripeCalls(
      (request) => request.path === "/v1/accounts" && request.body.metadata?.user_id === coach.id,
    );
    expect(creates).toHaveLength(1);
    expect(creates[0]?.body).toMatchObject({
      type: "express",
      capabilities: { card_payments: { requested: "true" }, transfers: { requested: "true" } },
    });
    expect(creates[0]?.idempotencyKey).toBe(`connect-account-${coach.id}`);
    const links = await stripeCalls(
      (request) => request.path === "/v1/account_links" && request.body.account === account.stripe_account_id,
    );
    expect(links).toHaveLength(2);
    expect(links[0]?.body).toMatchObject({ type: "account_onboarding" });
    expect(links[0]?.body.return_url).toMatch(/\/payouts\/onboarding\/return$/);
  });

  it("two simultaneous first calls make one account", async () => {
    const coach = await createCoach();
    const results = await Promise.all([1, 2].map(() => post("/payouts/onboarding", undefined, { token: coach.token })));
    expect(results.map((result) => result.status)).toEqual([200, 200]);
    const [row] = await query<{ stripe_account_id: string }>(`SELECT stripe_account_id FROM coach_profiles WHERE user_id = $1`, [
      coach.id,
    ]);
    const created = await stripeCalls(
      (request) => request.path === "/v1/accounts" && request.body.metadata?.user_id === coach.id,
    );
    // The SDK's two requests carry one idempotency key: Stripe (and the stand-in) answer both with one account.
    expect(new Set(created.map((request) => request.idempotencyKey))).toEqual(new Set([`connect-account-${coach.id}`]));
    expect(row?.stripe_account_id).toMatch(/^acct_/);
  });

  it("security: clients and admins 403, anonymous 401", async () => {
    const [client, admin] = await Promise.all([createClient(), createUser("admin")]);
    for (const user of [client, admin]) {
      expectEnvelope(await post("/payouts/onboarding", undefined, { token: user.token }), 403, "FORBIDDEN");
      expectEnvelope(await get("/payouts/account", { token: user.token }), 403, "FORBIDDEN");
      expectEnvelope(await get("/payouts/earnings", { token: user.token }), 403, "FORBIDDEN");
    }
    expectEnvelope(await post("/payouts/onboarding"), 401, "UNAUTHORIZED");
    expectEnvelope(await get("/payouts/account"), 401, "UNAUTHORIZED");
  });
});

describe("webhook: account.updated", () => {
  it("stores the three flags; a duplicate and an older event delivered late change nothing", async () => {
    const coach = await createCoach();
    await post("/payouts/onboarding", undefined, { token: coach.token });
    const account = (await get("/payouts/account", { token: coach.token })).body.stripe_account_id as string;
    const now = Math.floor(Date.now() / 1000);
    const older = accountEvent(account, { details_submitted: true }, now - 60);
    const newer = accountEvent(account, { charges_enabled: true, payouts_enabled: true, details_submitted: true }, now);

    ok(await deliver(newer));
    ok(await deliver(newer)); // duplicate
    ok(await deliver(older)); // out of order: created before the one applied
    expect((await get("/payouts/account", { token: coach.token })).body).toEqual({
      stripe_account_id: account,
      charges_enabled: true,
      payouts_enabled: true,
      details_submitted: true,
    });
    // A later event (e.g. payouts paused) applies.
    ok(await deliver(accountEvent(account, { charges_enabled: true, details_submitted: true }, now + 5)));
    expect((await get("/payouts/account", { token: coach.token })).body.payouts_enabled).toBe(false);
    // An unknown account is acknowledged and ignored.
    ok(await deliver(accountEvent("acct_test_unknown", { charges_enabled: true }, now)));
  });
});

describe("destination charges", () => {
  const cases = [
    // [currency, hourly rate, minutes, amount sent (minor), fee (minor), amount, fee, coach share]
    { currency: "USD", rate: 120, minutes: 90, amountMinor: 18000, feeMinor: 2700, amount: 180, fee: 27, share: 153 },
    { currency: "JPY", rate: 450, minutes: 30, amountMinor: 225, feeMinor: 34, amount: 225, fee: 34, share: 191 },
    { currency: "KWD", rate: 100, minutes: 60, amountMinor: 100000, feeMinor: 15000, amount: 100, fee: 15, share: 85 },
  ];
  for (const example of cases) {
    it(`${example.currency}: amount in Stripe's minor units, application fee, transfer to the coach; the webhook confirms exactly that amount`, async () => {
      const [client, coach] = await Promise.all([
        createClient(),
        createCoach({ hourlyRate: example.rate, currency: example.currency }),
      ]);
      const account = await enabledAccount(coach);
      const booking = await book(client, coach, slot(6), example.minutes);
      const session = await checkout(client, booking.id);
      const [create] = await stripeCalls(
        (request) => request.path === "/v1/checkout/sessions" && request.body.metadata?.booking_id === booking.id,
      );
      expect(create?.body.line_items[0].price_data).toMatchObject({
        currency: example.currency.toLowerCase(),
        unit_amount: String(example.amountMinor),
      });
      expect(create?.body.payment_intent_data).toMatchObject({
        application_fee_amount: String(example.feeMinor),
        transfer_data: { destination: account },
      });

      // One minor unit less than asked is not confirmed (the 3-decimal bug: 10x too little was).
      const payment = await paymentOf(booking.id);
      const short = await paidSessionEvent(session.session_id, { amount_total: example.amountMinor - 1 });
      ok(await deliver({ ...short, id: `evt_short_${crypto.randomUUID()}` }));
      expect((await get(`/booking/${booking.id}`, { token: client.token })).body.status).toBe("pending");
      await query(`UPDATE payments SET received_amount = NULL, received_currency = NULL, flag_reason = NULL WHERE id = $1`, [
        payment.id,
      ]);

      ok(await deliver(await paidSessionEvent(session.session_id, { amount_total: example.amountMinor })));
      expect((await get(`/booking/${booking.id}`, { token: client.token })).body.status).toBe("confirmed");
      const view = await get(`/payment/${payment.id}`, { token: coach.token });
      expect(view.body).toMatchObject({
        status: "succeeded",
        amount: example.amount,
        currency: example.currency,
        platform_fee: example.fee,
        coach_amount: example.share,
        destination_account: account,
      });
    });
  }

  it("without charges_enabled the platform charges alone: no transfer, the share is owed", async () => {
    const [client, coach] = await Promise.all([createClient(), createCoach({ hourlyRate: 100 })]);
    await post("/payouts/onboarding", undefined, { token: coach.token }); // account exists, not enabled
    const booking = await book(client, coach, slot(6));
    await checkout(client, booking.id);
    const [create] = await stripeCalls(
      (request) => request.path === "/v1/checkout/sessions" && request.body.metadata?.booking_id === booking.id,
    );
    expect(create?.body.payment_intent_data.transfer_data).toBeUndefined();
    expect(create?.body.payment_intent_data.application_fee_amount).toBeUndefined();
    const view = await get(`/payment/${(await paymentOf(booking.id)).id}`, { token: client.token });
    expect(view.body).toMatchObject({ amount: 100, platform_fee: 15, coach_amount: 85, destination_account: null });
  });

  it("refund of a destination charge reverses the transfer and refunds the fee; duplicates and the late refund event change nothing", async () => {
    const [client, coach] = await Promise.all([createClient(), createCoach({ hourlyRate: 100 })]);
    await enabledAccount(coach);
    const booking = await book(client, coach, slot(6));
    const session = await checkout(client, booking.id);
    const completed = await paidSessionEvent(session.session_id);
    ok(await deliver(completed));
    ok(await deliver(completed)); // duplicate
    // The coach cancels: a full refund, made after the cancellation committed.
    const started = Date.now();
    expect((await del(`/booking/${booking.id}`, { token: coach.token })).status).toBe(204);
    expect(Date.now() - started).toBeLessThan(5_000);
    const intent = completed.data.object.payment_intent;
    await eventually(async () => {
      const refunds = await stripeCalls((request) => request.path === "/v1/refunds" && request.body.payment_intent === intent);
      expect(refunds).toHaveLength(1);
      expect(refunds[0]?.body).toMatchObject({ reverse_transfer: "true", refund_application_fee: "true" });
      expect(refunds[0]?.idempotencyKey).toBe(`refund-${(await paymentOf(booking.id)).id}`);
    });
    const paymentId = (await paymentOf(booking.id)).id;
    await eventually(async () =>
      expect((await get(`/payment/${paymentId}`, { token: client.token })).body.status).toBe("refunded"),
    );
    const refundedEvent = stripeEvent("charge.refunded", {
      id: `ch_test_${crypto.randomUUID().slice(0, 8)}`,
      object: "charge",
      amount: 10000,
      amount_refunded: 10000,
      refunded: true,
      currency: "usd",
      payment_intent: intent,
      metadata: {},
    });
    ok(await deliver(refundedEvent));
    ok(await deliver(refundedEvent));
    expect((await get(`/payment/${paymentId}`, { token: client.token })).body.status).toBe("refunded");
    expect((await get(`/booking/${booking.id}`, { token: client.token })).body.status).toBe("cancelled");
  });
});

describe("GET /payouts/earnings and the revenue report's split", () => {
  it("gross, fees kept, refunds, net and by_month; admin revenue shows transferred and owed shares per coach", async () => {
    const [client, transferred, owedCoach, admin] = await Promise.all([
      createClient(),
      createCoach({ hourlyRate: 100, currency: "NZD" }),
      createCoach({ hourlyRate: 200, currency: "NZD" }),
      createUser("admin"),
    ]);
    await enabledAccount(transferred);
    const pay = async (coach: TestUser, days: number) => {
      const booking = await book(client, coach, slot(days));
      const session = await checkout(client, booking.id);
      ok(await deliver(await paidSessionEvent(session.session_id)));
      return booking;
    };
    await pay(transferred, 6);
    const refunded = await pay(transferred, 7);
    await pay(owedCoach, 8);
    // The second session of `transferred` is refunded (Stripe's charge.refunded).
    expect((await del(`/booking/${refunded.id}`, { token: transferred.token })).status).toBe(204);
    await eventually(async () => {
      const [row] = await query<{ status: string }>(`SELECT status FROM payments WHERE booking_id = $1`, [refunded.id]);
      expect(row?.status).toBe("refunded");
    });

    const today = new Date().toISOString().slice(0, 10);
    const earnings = await get(`/payouts/earnings?start_date=${today}&end_date=${today}`, { token: transferred.token });
    expect(earnings.status).toBe(200);
    const month = today.slice(0, 7);
    expect(earnings.body).toEqual({
      currency: "NZD",
      period: { start_date: today, end_date: today },
      sessions: 2,
      gross: 200,
      refunded: 100,
      platform_fee: 15,
      net: 85,
      by_month: [{ month, sessions: 2, gross: 200, refunded: 100, platform_fee: 15, net: 85 }],
    });
    const empty = await get("/payouts/earnings?start_date=2020-01-01&end_date=2020-12-31", { token: owedCoach.token });
    expect(empty.body).toMatchObject({ sessions: 0, gross: 0, net: 0, by_month: [] });
    expectEnvelope(await get("/payouts/earnings?start_date=2026-02-30", { token: owedCoach.token }), 400, "VALIDATION_ERROR");
    expectEnvelope(
      await get("/payouts/earnings?start_date=2026-03-02&end_date=2026-03-01", { token: owedCoach.token }),
      400,
      "VALIDATION_ERROR",
    );

    const revenue = await get(`/admin/revenue?start_date=${today}&end_date=${today}&currency=NZD`, { token: admin.token });
    expect(revenue.status).toBe(200);
    const entry = (id: string) => revenue.body.by_coach.find((coach: Json) => coach.coach_id === id);
    expect(entry(transferred.id)).toMatchObject({ bookings: 1, revenue: 100, platform_fees: 15, coach_payouts: 85, owed: 0 });
    expect(entry(owedCoach.id)).toMatchObject({ bookings: 1, revenue: 200, platform_fees: 30, coach_payouts: 0, owed: 170 });
    expect(revenue.body.platform_fees).toBeGreaterThanOrEqual(45);
    expect(revenue.body.owed).toBeGreaterThanOrEqual(170);
    expect(revenue.body.coach_payouts).toBeGreaterThanOrEqual(85);
  });
});

describe("PAYOUTS_REQUIRED=1", () => {
  it("POST /booking: 409 with the reason for a coach who cannot receive payouts, 201 once the account is enabled", async () => {
    const worker = await startTestWorker(
      { databaseUrl: inject("databaseUrl"), proxyUrl: inject("proxyUrl"), stripeUrl: stripeUrl() },
      { PAYOUTS_REQUIRED: "1" },
    );
    try {
      const [client, coach] = await Promise.all([createClient(), createCoach()]);
      const attempt = () =>
        fetch(`${worker.url}/booking`, {
          method: "POST",
          headers: { authorization: `Bearer ${client.token}`, "content-type": "application/json" },
          body: JSON.stringify({ coach_id: coach.id, session_datetime: slot(9).toISOString(), duration_minutes: 60 }),
        });
      const refused = await attempt();
      expect(refused.status).toBe(409);
      const body = (await refused.json()) as Json;
      expect(body.error).toMatchObject({ code: "CONFLICT", details: { reason: "coach_cannot_receive_payouts" } });
      const account = await enabledAccount(coach);
      expect(account).toMatch(/^acct_/);
      expect((await attempt()).status).toBe(201);
    } finally {
      await worker.stop();
    }
  });
});
