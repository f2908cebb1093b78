/**
 * The one adapter to Stripe: builds the client and makes every call the
 * product needs. Nothing here touches the database: callers record their
 * intent in a committed write first, then call (house rule: no external call
 * inside an open transaction), and every call carries an idempotency key
 * derived from that intent, so a retry (the SDK's, the client's, the cron's)
 * never creates a second session, refund or account.
 *
 * Workers have no Node http: the SDK is given its fetch client and the
 * SubtleCrypto provider. STRIPE_API_BASE (e.g. http://127.0.0.1:12111) points
 * the SDK at stripe-mock or the local stand-in (scripts/lib/fake-stripe.ts).
 */
import Stripe from "stripe";
import type { ServiceEnv } from "../env.ts";
import { AppError } from "../lib/errors.ts";

/** Per-call timeout of the SDK (ms). Long enough for Stripe, short enough to answer a client. */
export const STRIPE_TIMEOUT_MS = 10_000;

export type StripeClient = Stripe;
export type StripeEvent = Stripe.Event;

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

/** Stripe refused a replayed request: the key was used with other parameters (the stored intent is stale). */
export class StaleIntentError extends Error {
  constructor(operation: string) {
    super(`Stripe refused the replay of ${operation} (idempotency key used with other parameters)`);
    this.name = "StaleIntentError";
  }
}

/**
 * Turns an SDK failure into the API's answer: Stripe unreachable, timing out
 * or failing on its side -> 503; anything else Stripe refused is our bug -> rethrown (500).
 */
export function stripeFailure(env: ServiceEnv, error: unknown, operation: string): Error {
  if (error instanceof AppError) return error;
  const stripeError = error instanceof Stripe.errors.StripeError ? error : undefined;
  const status = stripeError?.statusCode;
  const unavailable =
    !stripeError ||
    stripeError instanceof Stripe.errors.StripeConnectionError ||
    stripeError instanceof Stripe.errors.StripeAPIError ||
    stripeError instanceof Stripe.errors.StripeRateLimitError ||
    stripeError instanceof Stripe.errors.StripeIdempotencyError ||
    (status !== undefined && status >= 500);
  env.log.error("stripe call failed", { operation, type: stripeError?.type, status, error: String(error) });
  if (unavailable) return new AppError("SERVICE_UNAVAILABLE", "The payment provider is unavailable, please retry", { operation });
  return error instanceof Error ? error : new Error(String(error));
}

/** Verifies a webhook's raw body against its Stripe-Signature header (throws on any mismatch). */
export function constructStripeEvent(
  rawBody: string,
  signature: string,
  secret: string,
  toleranceSeconds: number,
  now: Date,
): Promise<Stripe.Event> {
  return Stripe.webhooks.constructEventAsync(
    rawBody,
    signature,
    secret,
    toleranceSeconds,
    Stripe.createSubtleCryptoProvider(),
    now.getTime(),
  );
}

// ---------------------------------------------------------------------------
// Checkout
// ---------------------------------------------------------------------------

/** Everything a Checkout Session is made of: stored with the intent, so a replay sends the same request. */
export interface CheckoutRequest {
  paymentId: string;
  bookingId: string;
  currency: string;
  amountMinor: number;
  /** destination charge: the coach's connected account and the platform's fee (minor units) */
  destination: { account: string; feeMinor: number } | null;
  expiresAt: Date;
  productName: string;
  customerEmail: string | null;
  successUrl: string;
  cancelUrl: string;
}

export interface CheckoutSessionRef {
  id: string;
  url: string;
  expiresAt: Date;
}

/** Creates (or, with the same key, gets back) the Checkout Session of one payment intent. */
export async function createCheckoutSession(env: ServiceEnv, request: CheckoutRequest): Promise<CheckoutSessionRef> {
  const stripe = requireStripe(env);
  const metadata = { booking_id: request.bookingId, payment_id: request.paymentId };
  let session: Stripe.Checkout.Session;
  try {
    session = await stripe.checkout.sessions.create(
      {
        mode: "payment",
        line_items: [
          {
            quantity: 1,
            price_data: {
              currency: request.currency.toLowerCase(),
              unit_amount: request.amountMinor,
              product_data: { name: request.productName },
            },
          },
        ],
        expires_at: Math.floor(request.expiresAt.getTime() / 1000),
        client_reference_id: request.bookingId,
        ...(request.customerEmail ? { customer_email: request.customerEmail } : {}),
        metadata,
        payment_intent_data: {
          metadata,
          // Stripe's destination charge: the coach's account receives amount - fee.
          ...(request.destination
            ? {
                application_fee_amount: request.destination.feeMinor,
                transfer_data: { destination: request.destination.account },
              }
            : {}),
        },
        success_url: request.successUrl,
        cancel_url: request.cancelUrl,
      },
      // One key per intent: the SDK's retry, a client's retry after a lost answer
      // and a concurrent call all get the same session, never a second one.
      { idempotencyKey: `checkout-${request.paymentId}` },
    );
  } catch (error) {
    if (error instanceof Stripe.errors.StripeIdempotencyError) throw new StaleIntentError("checkout.sessions.create");
    throw stripeFailure(env, error, "checkout.sessions.create");
  }
  if (!session.url) throw new AppError("SERVICE_UNAVAILABLE", "The payment provider returned no checkout URL");
  return {
    id: session.id,
    url: session.url,
    expiresAt: session.expires_at ? new Date(session.expires_at * 1000) : request.expiresAt,
  };
}

/** Best effort: closes an open checkout session so that nobody pays for a cancelled booking. */
export async function expireCheckoutSession(env: ServiceEnv, sessionId: string): Promise<boolean> {
  const stripe = stripeClient(env);
  if (!stripe) return false;
  try {
    await stripe.checkout.sessions.expire(sessionId, {}, { idempotencyKey: `expire-${sessionId}` });
    return true;
  } catch (error) {
    // Already completed/expired, or Stripe unreachable: a late payment is still
    // caught by the webhook (completed after cancel -> refunded), so only log.
    env.log.info("checkout session expire failed", { session_id: sessionId, error: String(error) });
    return false;
  }
}

// ---------------------------------------------------------------------------
// Refunds
// ---------------------------------------------------------------------------

export interface RefundOutcome {
  refundId: string;
  /** Stripe's refund status: succeeded, pending, requires_action, failed, canceled. */
  status: string;
}

/**
 * Refunds a whole payment intent. The key is derived from the payment, so
 * every retry (ours, the SDK's, the cron's, a second path racing this one)
 * refunds once. A destination charge also takes the coach's transfer back and
 * returns the platform's fee (Stripe: reverse_transfer, refund_application_fee).
 */
export async function refundPaymentIntent(
  env: ServiceEnv,
  input: { paymentId: string; paymentIntentId: string; bookingId: string; destinationCharge: boolean },
): Promise<RefundOutcome> {
  const stripe = requireStripe(env);
  try {
    const refund = await stripe.refunds.create(
      {
        payment_intent: input.paymentIntentId,
        metadata: { booking_id: input.bookingId, payment_id: input.paymentId },
        ...(input.destinationCharge ? { reverse_transfer: true, refund_application_fee: true } : {}),
      },
      { idempotencyKey: `refund-${input.paymentId}` },
    );
    return { refundId: refund.id, status: refund.status ?? "pending" };
  } catch (error) {
    throw stripeFailure(env, error, "refunds.create");
  }
}

// ---------------------------------------------------------------------------
// Connect: Express accounts and onboarding links
// ---------------------------------------------------------------------------

export interface ConnectAccountFlags {
  charges_enabled: boolean;
  payouts_enabled: boolean;
  details_submitted: boolean;
}

/** The coach's Express account; the key is the coach's user id, so two parallel first calls make one account. */
export async function createExpressAccount(
  env: ServiceEnv,
  input: { userId: string; email: string | null },
): Promise<{ id: string } & ConnectAccountFlags> {
  const stripe = requireStripe(env);
  try {
    const account = await stripe.accounts.create(
      {
        type: "express",
        ...(input.email ? { email: input.email } : {}),
        capabilities: { card_payments: { requested: true }, transfers: { requested: true } },
        metadata: { user_id: input.userId },
      },
      { idempotencyKey: `connect-account-${input.userId}` },
    );
    return {
      id: account.id,
      charges_enabled: account.charges_enabled === true,
      payouts_enabled: account.payouts_enabled === true,
      details_submitted: account.details_submitted === true,
    };
  } catch (error) {
    throw stripeFailure(env, error, "accounts.create");
  }
}

/** A fresh onboarding link (Account Links are single-use and short-lived, so never cached). */
export async function createOnboardingLink(
  env: ServiceEnv,
  input: { accountId: string; returnUrl: string; refreshUrl: string },
): Promise<{ url: string; expiresAt: Date }> {
  const stripe = requireStripe(env);
  try {
    const link = await stripe.accountLinks.create({
      account: input.accountId,
      type: "account_onboarding",
      return_url: input.returnUrl,
      refresh_url: input.refreshUrl,
    });
    return { url: link.url, expiresAt: new Date(link.expires_at * 1000) };
  } catch (error) {
    throw stripeFailure(env, error, "accountLinks.create");
  }
}
