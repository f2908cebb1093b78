/** Contract section "Coach payouts: Stripe Connect (v2)". */
import { z } from "@hono/zod-openapi";

export const OnboardingLinkSchema = z
  .object({
    url: z.string().openapi({ example: "https://connect.stripe.com/setup/e/acct_1Nv0FGQ9RKHgCVdK/abc" }),
    expires_at: z.string().openapi({ example: "2026-03-02T10:05:00Z" }),
  })
  .openapi("PayoutsOnboardingLink");
export type OnboardingLink = z.infer<typeof OnboardingLinkSchema>;

export const PayoutAccountSchema = z
  .object({
    stripe_account_id: z.string().nullable().openapi({ description: "null before onboarding started" }),
    charges_enabled: z.boolean(),
    payouts_enabled: z.boolean(),
    details_submitted: z.boolean(),
  })
  .openapi("PayoutAccount");
export type PayoutAccount = z.infer<typeof PayoutAccountSchema>;

const figures = {
  sessions: z.number().int().openapi({ description: "succeeded payments (refunded later ones included)" }),
  gross: z.number().openapi({ description: "their amounts" }),
  platform_fee: z.number().openapi({ description: "fees the platform kept (a refund returns the fee)" }),
  net: z.number().openapi({ description: "gross - refunded - platform_fee" }),
};

export const EarningsSchema = z
  .object({
    currency: z.string().openapi({ example: "EUR" }),
    period: z.object({ start_date: z.string(), end_date: z.string() }),
    ...figures,
    refunded: z.number().openapi({ description: "amounts refunded" }),
    by_month: z.array(z.object({ month: z.string().openapi({ example: "2026-03" }), ...figures, refunded: z.number() })),
  })
  .openapi("PayoutEarnings");
export type Earnings = z.infer<typeof EarningsSchema>;

/** A calendar day YYYY-MM-DD that exists, years 1900-9999 (contract v2 text rules). */
const isRealDay = (value: string): boolean => {
  if (!/^(19|[2-9]\d)\d{2}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
};
const DayField = z
  .string()
  .refine(isRealDay, "Must be a date YYYY-MM-DD (years 1900-9999)")
  .openapi({ type: "string", format: "date", example: "2026-01-31" });

export const EarningsQuerySchema = z.object({
  start_date: DayField.optional().openapi({ description: "first UTC day (default: 365 days before end_date)" }),
  end_date: DayField.optional().openapi({ description: "last UTC day, inclusive (default: today)" }),
});
