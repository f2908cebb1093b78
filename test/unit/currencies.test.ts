/**
 * Money crossing to and from Stripe (contract v2 "Money"), as a property:
 * for every supported currency and every valid rate and duration, the amount
 * sent to Stripe is rate x minutes / 60 in that currency's minor units
 * (rounded half up to the smallest amount Stripe accepts there), and the
 * webhook's amount check accepts exactly that amount and nothing else.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  chargeStep,
  currencyExponent,
  isStripeCurrency,
  minorToDecimalString,
  platformFeeMinor,
  STRIPE_CURRENCIES,
  sessionPriceMinor,
  toMinorUnits,
} from "../../src/lib/currencies.ts";
import { currencyField, MAX_HOURLY_RATE, MIN_HOURLY_RATE } from "../../src/lib/fields.ts";

/** Exact reference: rate in cents (2 decimals, the column's scale), as a rational number of minor units. */
function expectedMinor(rateCents: number, minutes: number, currency: string): number {
  const exponent = currencyExponent(currency);
  const step = chargeStep(currency);
  // rate x minutes / 60 in minor units = rateCents * 10^exp * minutes / (100 * 60): a fraction n / d.
  const n = BigInt(rateCents) * 10n ** BigInt(exponent) * BigInt(minutes);
  const d = 6000n * BigInt(step);
  // Half up to a multiple of step: floor((2n + d) / 2d) * step.
  return Number(((2n * n + d) / (2n * d)) * BigInt(step));
}

/** The webhook's check (stripe-webhook.ts): the stored amount, back in minor units, must equal what Stripe reports. */
const webhookAccepts = (storedAmount: string, currency: string, receivedMinor: number) =>
  toMinorUnits(storedAmount, currency) === receivedMinor;

const rateCents = fc.integer({ min: MIN_HOURLY_RATE * 100, max: MAX_HOURLY_RATE * 100 });
const minutes = fc.constantFrom(30, 60, 90);
const currency = fc.constantFrom(...STRIPE_CURRENCIES);

describe("Stripe minor units (property)", () => {
  it("the amount sent is rate x minutes / 60 in minor units, and the webhook accepts exactly it", () => {
    fc.assert(
      fc.property(rateCents, minutes, currency, fc.integer({ min: 1, max: 1000 }), (cents, mins, code, delta) => {
        const rate = (cents / 100).toFixed(2); // as the numeric(10,2) column returns it
        const sent = sessionPriceMinor(rate, mins, code);
        expect(sent).toBe(expectedMinor(cents, mins, code));
        expect(Number.isInteger(sent)).toBe(true);
        expect(sent % chargeStep(code)).toBe(0);
        // Within half a chargeable step of the exact price.
        const exact = (cents / 100) * (mins / 60) * 10 ** currencyExponent(code);
        expect(Math.abs(sent - exact)).toBeLessThanOrEqual(chargeStep(code) / 2 + 1e-6);
        // The payment row keeps it as a decimal; the webhook check turns it back into exactly `sent`.
        const stored = minorToDecimalString(sent, code);
        expect(webhookAccepts(stored, code, sent)).toBe(true);
        expect(webhookAccepts(stored, code, sent - delta)).toBe(false);
        expect(webhookAccepts(stored, code, sent + delta)).toBe(false);
        // The platform fee never exceeds the amount and is chargeable.
        const fee = platformFeeMinor(sent, 15, code);
        expect(fee).toBeGreaterThanOrEqual(0);
        expect(fee).toBeLessThanOrEqual(sent);
        expect(fee % chargeStep(code)).toBe(0);
      }),
      { numRuns: 2000 },
    );
  });

  it("examples: a 2-, a 0- and a 3-decimal currency (the KWD of the bug report is charged in fils)", () => {
    expect(sessionPriceMinor("100.00", 60, "USD")).toBe(10000);
    expect(sessionPriceMinor("99.99", 90, "EUR")).toBe(14999); // 149.985 -> 149.99
    expect(sessionPriceMinor("120", 90, "JPY")).toBe(180);
    expect(sessionPriceMinor("25.50", 30, "JPY")).toBe(13); // 12.75 -> 13
    expect(sessionPriceMinor("100", 60, "KWD")).toBe(100000); // 100.000 KWD, not 10.000
    expect(sessionPriceMinor("10.01", 30, "KWD")).toBe(5010); // 5.005 -> 5.010 (Stripe: last digit 0)
    expect(sessionPriceMinor("25.50", 30, "ISK")).toBe(1300); // whole kronur
    expect(platformFeeMinor(10000, 15, "USD")).toBe(1500);
    expect(platformFeeMinor(14999, 15, "USD")).toBe(2250); // 2249.85 -> 2250
    expect(platformFeeMinor(180, 15, "JPY")).toBe(27);
    expect(platformFeeMinor(100000, 15, "KWD")).toBe(15000);
    expect(platformFeeMinor(5010, 15, "KWD")).toBe(750); // 751.5 -> 750 (step 10, half up: 75.15 -> 75)
  });

  it("a coach's currency must be one Stripe Checkout supports", () => {
    expect(isStripeCurrency("kwd")).toBe(true);
    expect(isStripeCurrency("ZZZ")).toBe(false);
    expect(currencyField.safeParse("jpy")).toMatchObject({ success: true, data: "JPY" });
    expect(currencyField.safeParse("ZZZ").success).toBe(false);
    expect(currencyField.safeParse("XAU").success).toBe(false);
  });
});
