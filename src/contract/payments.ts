/** Contract section "Payments (Stripe)": wire shapes of checkout, the webhook answer and the payment object. */
import { z } from "@hono/zod-openapi";
import { UUID_PATTERN } from "../lib/openapi.ts";

export const CheckoutRequestSchema = z
  .object({ booking_id: z.string().regex(UUID_PATTERN, "Must be a UUID") })
  .openapi("CheckoutRequest");

export const CheckoutSessionSchema = z
  .object({
    session_id: z.string().openapi({ example: "cs_test_a1b2c3" }),
    checkout_url: z.string().openapi({ example: "https://checkout.stripe.com/c/pay/cs_test_a1b2c3" }),
    expires_at: z.string().openapi({ example: "2026-03-02T10:30:00Z" }),
  })
  .openapi("CheckoutSession");
export type CheckoutSession = z.infer<typeof CheckoutSessionSchema>;

export const PaymentSchema = z
  .object({
    id: z.string(),
    booking_id: z.string(),
    amount: z.number().openapi({ example: 120 }),
    currency: z.string().openapi({ example: "USD" }),
    status: z.enum(["pending", "succeeded", "failed", "refunded"]),
    stripe_session_id: z.string().nullable(),
    stripe_payment_intent_id: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    paid_at: z.string().nullable(),
    refunded_at: z.string().nullable(),
    flag_reason: z
      .string()
      .nullable()
      .openapi({ description: "why the payment needs attention (amount mismatch, paid after cancellation...)" }),
    platform_fee: z.number().openapi({
      description: "the platform's share: PLATFORM_FEE_PERCENT of amount, rounded half up to the minor unit",
      example: 18,
    }),
    coach_amount: z.number().openapi({ description: "amount - platform_fee: the coach's share", example: 102 }),
    destination_account: z.string().nullable().openapi({
      description: "the coach's connected account for a destination charge (the share was transferred); null = the share is owed",
      example: "acct_1Nv0FGQ9RKHgCVdK",
    }),
  })
  .openapi("Payment");
export type PaymentWire = z.infer<typeof PaymentSchema>;

export const WebhookReceivedSchema = z.object({ received: z.literal(true) }).openapi("WebhookReceived");
