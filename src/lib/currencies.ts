/**
 * Money as Stripe counts it (contract v2 "Money"): every amount that crosses
 * to or from Stripe is an integer in the currency's minor unit as Stripe
 * defines it, and a coach may only price in a currency Stripe Checkout takes.
 *
 * - exponent 0 for Stripe's zero-decimal currencies (JPY, KRW, ...), 3 for
 *   BHD, JOD, KWD, OMR, TND, 2 for every other supported currency;
 * - Stripe's own rounding rules for charges: three-decimal amounts must end in
 *   0 (a step of 10 minor units), ISK amounts must be whole kronur (a step of
 *   100; ISK stays two-decimal in the API).
 *
 * All arithmetic is on integers (minor units); numbers with at most two
 * decimals (the rate column's scale) are read through their decimal string so
 * that 0.1 + 0.2 never happens.
 */

/** Stripe's zero-decimal currencies. */
export const ZERO_DECIMAL_CURRENCIES = [
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
] as const;

/** Stripe's three-decimal currencies. */
export const THREE_DECIMAL_CURRENCIES = ["BHD", "JOD", "KWD", "OMR", "TND"] as const;

/**
 * Presentment currencies Stripe Checkout accepts for card payments (Stripe's
 * "Supported currencies" list). A coach's currency must be one of them.
 */
// biome-ignore format: a table of codes reads better than one per line
export const STRIPE_CURRENCIES: readonly string[] = [
  "USD", "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BHD",
  "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF", "CLP", "CNY", "COP", "CRC",
  "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GIP", "GMD", "GNF",
  "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR",
  "KMF", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT",
  "MOP", "MUR", "MVR", "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN",
  "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SEK", "SGD", "SHP",
  "SLE", "SOS", "SRD", "SZL", "THB", "TJS", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "UYU", "UZS",
  "VND", "VUV", "WST", "XAF", "XCD", "XOF", "XPF", "YER", "ZAR", "ZMW",
];

const SUPPORTED = new Set(STRIPE_CURRENCIES);
const ZERO = new Set<string>(ZERO_DECIMAL_CURRENCIES);
const THREE = new Set<string>(THREE_DECIMAL_CURRENCIES);

export function isStripeCurrency(code: string): boolean {
  return SUPPORTED.has(code.toUpperCase());
}

/** Decimal places of the currency's minor unit in Stripe's API (0, 2 or 3). */
export function currencyExponent(currency: string): 0 | 2 | 3 {
  const code = currency.toUpperCase();
  if (ZERO.has(code)) return 0;
  if (THREE.has(code)) return 3;
  return 2;
}

/** The granularity, in minor units, of an amount Stripe accepts for a charge (1, 10 or 100). */
export function chargeStep(currency: string): number {
  const code = currency.toUpperCase();
  if (THREE.has(code)) return 10;
  if (code === "ISK") return 100;
  return 1;
}

/** Rounds a non-negative rational `numerator / denominator` half up to a multiple of `step` (integers only). */
function roundHalfUpTo(numerator: number, denominator: number, step: number): number {
  const unit = denominator * step;
  return Math.floor((2 * numerator + unit) / (2 * unit)) * step;
}

/**
 * A decimal amount (number or numeric string, at most 3 decimals) as an
 * exact integer count of thousandths: "99.99" -> 99990.
 */
function thousandths(amount: number | string): number {
  const text = typeof amount === "number" ? amount.toFixed(3) : amount.trim();
  const match = /^(-?)(\d+)(?:\.(\d{0,3})\d*)?$/.exec(text);
  if (!match) throw new Error(`not a decimal amount: ${text}`);
  const value = Number(match[2]) * 1000 + Number((match[3] ?? "").padEnd(3, "0"));
  return match[1] === "-" ? -value : value;
}

/** A major-unit amount (e.g. 120.5 USD) in minor units (12050); exact for amounts with <= 3 decimals. */
export function toMinorUnits(amount: number | string, currency: string): number {
  const exponent = currencyExponent(currency);
  return roundHalfUpTo(thousandths(amount) * 10 ** exponent, 1000, 1);
}

export function fromMinorUnits(minor: number, currency: string): number {
  return minor / 10 ** currencyExponent(currency);
}

/** A minor-unit amount as the decimal string of the numeric columns ("120.50", "1500", "10.010"). */
export function minorToDecimalString(minor: number, currency: string): string {
  const exponent = currencyExponent(currency);
  return exponent === 0 ? String(minor) : (minor / 10 ** exponent).toFixed(exponent);
}

/**
 * The price of a session in minor units: hourly rate x minutes / 60, rounded
 * half up to the smallest amount Stripe accepts in that currency.
 */
export function sessionPriceMinor(hourlyRate: number | string, durationMinutes: number, currency: string): number {
  const rateThousandths = thousandths(hourlyRate);
  const exponent = currencyExponent(currency);
  // rate (thousandths) * 10^exp / 1000 = rate in minor units; * minutes / 60.
  return roundHalfUpTo(rateThousandths * 10 ** exponent * durationMinutes, 1000 * 60, chargeStep(currency));
}

/** The platform's fee on an amount: percent of it, rounded half up to the chargeable minor unit. */
export function platformFeeMinor(amountMinor: number, feePercent: number, currency: string): number {
  // feePercent may have decimals (e.g. 12.5): work in hundredths of a percent.
  const basisPoints = Math.round(feePercent * 100);
  return Math.min(amountMinor, roundHalfUpTo(amountMinor * basisPoints, 10_000, chargeStep(currency)));
}
