/**
 * Coach payouts (contract: Coach payouts: Stripe Connect (v2)). Thin: validate -> service -> shape.
 */
import { createRoute } from "@hono/zod-openapi";
import { EarningsQuerySchema, EarningsSchema, OnboardingLinkSchema, PayoutAccountSchema } from "../contract/payouts.ts";
import { badRequest, fieldError } from "../lib/errors.ts";
import { bearerSecurity, errorResponses, jsonContent } from "../lib/openapi.ts";
import { createRouter } from "../lib/router.ts";
import { DAY_MS } from "../lib/time.ts";
import { requireUser } from "../middleware/auth.ts";
import { getEarnings, getPayoutAccount, startOnboarding } from "../services/payouts.ts";

const TAGS = ["Payouts"];
/** Like the revenue report: any period up to 10 years. */
const MAX_EARNINGS_DAYS = 3660;
const DEFAULT_EARNINGS_DAYS = 365;

const onboardingRoute = createRoute({
  method: "post",
  path: "/payouts/onboarding",
  tags: TAGS,
  summary: "A Stripe-hosted onboarding link for the coach's Express connected account",
  description:
    "The account is created on the first call and kept on the coach profile; later calls reuse it and return a " +
    "fresh Account Link (type account_onboarding; single use, expires in minutes). 503 when payments are not " +
    "configured or Stripe is unreachable.",
  security: bearerSecurity,
  responses: { 200: jsonContent(OnboardingLinkSchema, "The onboarding link"), ...errorResponses(401, 403, 404, 503) },
});

const accountRoute = createRoute({
  method: "get",
  path: "/payouts/account",
  tags: TAGS,
  summary: "The coach's connected account and its flags (as Stripe's account.updated last reported them)",
  security: bearerSecurity,
  responses: { 200: jsonContent(PayoutAccountSchema, "The account"), ...errorResponses(401, 403, 404) },
});

const earningsRoute = createRoute({
  method: "get",
  path: "/payouts/earnings",
  tags: TAGS,
  summary: "The coach's earnings by payment date, in the coach's currency",
  description:
    "UTC days, both inclusive; default: the 365 days up to today; at most 3,660 days. sessions = succeeded " +
    "payments (later refunds included), gross = their amounts, refunded = refunded amounts, platform_fee = " +
    "fees kept, net = gross - refunded - platform_fee; by_month likewise per UTC month.",
  security: bearerSecurity,
  request: { query: EarningsQuerySchema },
  responses: { 200: jsonContent(EarningsSchema, "The earnings"), ...errorResponses(401, 403, 404) },
});

const dayOf = (date: Date) => date.toISOString().slice(0, 10);
const addDays = (day: string, days: number) => dayOf(new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS));

export const payoutsRoutes = createRouter()
  .openapi(onboardingRoute, async (c) => {
    const coach = requireUser(c, "coach");
    return c.json(OnboardingLinkSchema.parse(await startOnboarding(c.var.db, c.var.deps, coach)), 200);
  })
  .openapi(accountRoute, async (c) => {
    const coach = requireUser(c, "coach");
    return c.json(PayoutAccountSchema.parse(await getPayoutAccount(c.var.db, coach)), 200);
  })
  .openapi(earningsRoute, async (c) => {
    const coach = requireUser(c, "coach");
    const query = c.req.valid("query");
    const end = query.end_date ?? dayOf(c.var.now);
    const start = query.start_date ?? addDays(end, -(DEFAULT_EARNINGS_DAYS - 1));
    if (start > end) {
      throw badRequest("start_date must not be after end_date", fieldError("start_date", "query", "Must not be after end_date"));
    }
    if ((Date.parse(end) - Date.parse(start)) / DAY_MS + 1 > MAX_EARNINGS_DAYS) {
      throw badRequest(
        `The period may cover at most ${MAX_EARNINGS_DAYS} days`,
        fieldError("end_date", "query", `At most ${MAX_EARNINGS_DAYS} days after start_date`),
      );
    }
    return c.json(EarningsSchema.parse(await getEarnings(c.var.db, coach, start, end)), 200);
  });
