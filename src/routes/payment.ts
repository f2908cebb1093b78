/**
 * Payments (contract: Payments (Stripe)). Thin: validate -> service -> shape.
 */

import { createRoute, z } from "@hono/zod-openapi";
import { IdParam } from "../contract/common.ts";
import { CheckoutRequestSchema, CheckoutSessionSchema, PaymentSchema, WebhookReceivedSchema } from "../contract/payments.ts";
import { bearerSecurity, errorResponses, jsonContent } from "../lib/openapi.ts";
import { createRouter } from "../lib/router.ts";
import { requireUser } from "../middleware/auth.ts";
import { createCheckout, getPaymentFor } from "../services/payments.ts";
import { handleStripeEvent, verifyStripeEvent } from "../services/stripe-webhook.ts";

const checkoutRoute = createRoute({
  method: "post",
  path: "/payment/checkout",
  tags: ["Payments"],
  summary: "Open (or return the open) Stripe Checkout Session of the caller's pending booking",
  description:
    "Amount = coach hourly_rate x duration / 60 in the coach's currency, in Stripe's minor units (0, 2 or 3 " +
    "decimals); the session lives 30 minutes; a second call while it is open returns the same session, and a " +
    "retry after a lost answer gets the same session too. When the coach's connected account has " +
    "charges_enabled it is a destination charge (application_fee_amount = PLATFORM_FEE_PERCENT of the amount). " +
    "No session of a booking expires later than 60 minutes after the booking was created (409 " +
    "`payment_window_closed` after that). 503 when payments are not configured or Stripe is unreachable.",
  security: bearerSecurity,
  request: { body: { content: { "application/json": { schema: CheckoutRequestSchema } }, required: true } },
  responses: { 200: jsonContent(CheckoutSessionSchema, "The checkout session"), ...errorResponses(401, 403, 404, 409, 503) },
});

const webhookRoute = createRoute({
  method: "post",
  path: "/payment/webhook",
  tags: ["Payments"],
  summary: "Stripe webhook (signed with STRIPE_WEBHOOK_SECRET)",
  description:
    "The raw body is verified against the Stripe-Signature header (300 s tolerance). Each event is applied " +
    "exactly once (its id is recorded in the same statement as its effect); unknown types are acknowledged and " +
    "ignored. Events are matched to their own Checkout Session (or payment intent), never by booking alone. " +
    "States only move forward: a payment completed for a booking that is already cancelled (or confirmed by " +
    "another payment) is recorded as succeeded with a flag_reason and refunded, never reviving the booking; a " +
    "refund that arrives before the completion is kept; a paid amount or currency different from the expected " +
    "one is stored (received_amount, received_currency, flag_reason) and the booking is not confirmed. " +
    "account.updated stores the connected account's flags unless an event created later was already applied.",
  request: {
    headers: z.object({ "stripe-signature": z.string().optional().openapi({ description: "Stripe's signature header" }) }),
    body: { content: { "application/json": { schema: z.object({}).passthrough().openapi("StripeEvent") } }, required: true },
  },
  responses: {
    200: jsonContent(WebhookReceivedSchema, "Accepted (also for duplicates and ignored types)"),
    ...errorResponses(503),
  },
});

const getPaymentRoute = createRoute({
  method: "get",
  path: "/payment/{id}",
  tags: ["Payments"],
  summary: "A payment (the booking's client or coach, admins)",
  security: bearerSecurity,
  request: {
    params: IdParam(),
  },
  responses: { 200: jsonContent(PaymentSchema, "The payment"), ...errorResponses(401, 403, 404) },
});

export const paymentRoutes = createRouter();

// The signature covers the body's exact bytes: read it as text before the JSON
// validator does, so that Hono's body cache keeps the raw text for the handler.
paymentRoutes.use("/payment/webhook", async (c, next) => {
  if (c.req.method === "POST") await c.req.text();
  await next();
});

paymentRoutes
  .openapi(webhookRoute, async (c) => {
    const raw = await c.req.text();
    const event = await verifyStripeEvent(c.var.deps, raw, c.req.header("stripe-signature"), c.var.now);
    await handleStripeEvent(c.var.db, c.var.deps, event, c.var.now);
    return c.json(WebhookReceivedSchema.parse({ received: true }), 200);
  })
  .openapi(checkoutRoute, async (c) => {
    const user = requireUser(c);
    const { booking_id } = c.req.valid("json");
    const session = await createCheckout(c.var.db, c.var.deps, {
      bookingId: booking_id.toLowerCase(),
      caller: user,
      now: c.var.now,
    });
    return c.json(CheckoutSessionSchema.parse(session), 200);
  })
  .openapi(getPaymentRoute, async (c) => {
    const user = requireUser(c);
    const { id } = c.req.valid("param");
    return c.json(PaymentSchema.parse(await getPaymentFor(c.var.db, id.toLowerCase(), user)), 200);
  });
