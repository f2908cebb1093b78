/**
 * The tests' Stripe: the local stand-in that `npm start` also uses in
 * development (scripts/lib/fake-stripe.ts), started without a webhook target,
 * so that the tests deliver (and reorder, duplicate) the events themselves.
 */
export * from "../../scripts/lib/fake-stripe.ts";
