/**
 * The one place that builds a Stripe client and talks to Stripe.
 *
 * Workers have no Node http: the SDK is given its fetch client and the
 * SubtleCrypto provider. STRIPE_API_BASE (e.g. http://127.0.0.1:12111) points
 * the SDK at stripe-mock or the local fake used by the tests. Calls are retried
 * once by the SDK (idempotency keys make that safe) and time out, so a hanging
 * Stripe becomes a 503 instead of a hung request.
 */
import Stripe from "stripe";
import type { ServiceEnv } from "../env.ts";
import { AppError } from "../lib/errors.ts";

/** Per-call timeout of the SDK (ms). Long enough for Stripe, short enough to answer a client. */
export const STRIPE_TIMEOUT_MS = 10_000;

export type StripeClient = Stripe;

/** The configured client, or undefined when no secret key is set (checkout then answers 503). */
export function stripeClient(env: ServiceEnv): Stripe | undefined {
  const key = env.config.stripe.secretKey;
  if (!key) return undefined;
  const config: ConstructorParameters<typeof Stripe>[1] = {
    httpClient: Stripe.createFetchHttpClient(),
    maxNetworkRetries: 1,
    timeout: STRIPE_TIMEOUT_MS,
    telemetry: false,
  };
  const base = env.config.stripe.apiBase;
  if (base) {
    const protocol = base.protocol === "http:" ? "http" : "https";
    config.host = base.hostname;
    config.protocol = protocol;
    config.port = base.port || (protocol === "http" ? 80 : 443);
  }
  return new Stripe(key, config);
}

/** Like stripeClient, but a missing key is the contract's 503. */
export function requireStripe(env: ServiceEnv): Stripe {
  const stripe = stripeClient(env);
  if (!stripe) throw new AppError("SERVICE_UNAVAILABLE", "Payments are not configured (STRIPE_SECRET_KEY)");
  return stripe;
}

/**
 * Turns an SDK failure into the API's answer: Stripe unreachable, timing out
 * or failing on its side -> 503; anything else Stripe refused is our bug -> rethrown (500).
 */
export function stripeFailure(error: unknown, operation: string): Error {
  if (error instanceof AppError) return error;
  const stripeError = error instanceof Stripe.errors.StripeError ? error : undefined;
  const status = stripeError?.statusCode;
  const unavailable =
    !stripeError ||
    stripeError instanceof Stripe.errors.StripeConnectionError ||
    stripeError instanceof Stripe.errors.StripeAPIError ||
    stripeError instanceof Stripe.errors.StripeRateLimitError ||
    (status !== undefined && status >= 500);
  console.error(
    JSON.stringify({
      level: "error",
      msg: "stripe call failed",
      operation,
      type: stripeError?.type,
      status,
      error: String(error),
    }),
  );
  if (unavailable) return new AppError("SERVICE_UNAVAILABLE", "The payment provider is unavailable, please retry", { operation });
  return error instanceof Error ? error : new Error(String(error));
}

/** Amount in the currency's minor units (Stripe's zero-decimal currencies have none). */
const ZERO_DECIMAL_CURRENCIES = new Set([
  "BIF",
  "CLP",
  "DJF",
  "GNF",
  "JPY",
  "KMF",
  "KRW",
  "MGA",
  "PYG",
  "RWF",
  "UGX",
  "VND",
  "VUV",
  "XAF",
  "XOF",
  "XPF",
]);

export function minorUnitFactor(currency: string): number {
  return ZERO_DECIMAL_CURRENCIES.has(currency.toUpperCase()) ? 1 : 100;
}

/** 120.5 USD -> 12050; rounds to the nearest minor unit. */
export function toMinorUnits(amount: number, currency: string): number {
  return Math.round(amount * minorUnitFactor(currency));
}

export function fromMinorUnits(minor: number, currency: string): number {
  return minor / minorUnitFactor(currency);
}

export interface RefundOutcome {
  refundId: string;
  /** Stripe's refund status: succeeded, pending, requires_action, failed, canceled. */
  status: string;
}

/**
 * Refunds a whole payment intent. The idempotency key is derived from the
 * payment, so retries (ours, the SDK's, a second cancellation path racing this
 * one) never refund twice.
 */
export async function refundPaymentIntent(
  stripe: Stripe,
  input: { paymentId: string; paymentIntentId: string; bookingId: string },
): Promise<RefundOutcome> {
  try {
    const refund = await stripe.refunds.create(
      { payment_intent: input.paymentIntentId, metadata: { booking_id: input.bookingId, payment_id: input.paymentId } },
      { idempotencyKey: `refund-${input.paymentId}` },
    );
    return { refundId: refund.id, status: refund.status ?? "pending" };
  } catch (error) {
    throw stripeFailure(error, "refund");
  }
}

/** Best effort: closes an open checkout session so that nobody pays for a cancelled booking. */
export async function expireCheckoutSession(stripe: Stripe, sessionId: string): Promise<boolean> {
  try {
    await stripe.checkout.sessions.expire(sessionId, {}, { idempotencyKey: `expire-${sessionId}` });
    return true;
  } catch (error) {
    // Already completed/expired, or Stripe unreachable: a late payment is still
    // caught by the webhook (completed after cancel -> refunded), so only log.
    console.warn(
      JSON.stringify({ level: "warn", msg: "checkout session expire failed", session_id: sessionId, error: String(error) }),
    );
    return false;
  }
}
