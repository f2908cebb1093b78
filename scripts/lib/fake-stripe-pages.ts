/**
 * The hosted pages of the local Stripe stand-in (development only, see
 * fake-stripe.ts): what Stripe Checkout and Connect onboarding show a person,
 * reduced to a button or two, so that `npm start` can be tried end to end
 * with a browser or curl and no Stripe account:
 *
 *   GET  /c/pay/{session}          the checkout page: amount, "Pay", "Cancel"
 *   POST /c/pay/{session}/pay      marks the session paid, delivers checkout.session.completed
 *   POST /c/pay/{session}/cancel   expires the session, delivers checkout.session.expired
 *   GET  /connect/onboarding/{acct}           the onboarding page: "Complete onboarding"
 *   POST /connect/onboarding/{acct}/complete  enables the account, delivers account.updated
 *
 * Events are signed with the webhook secret the launcher gave the Worker,
 * exactly as Stripe signs them. The POST answers are small HTML pages saying
 * what happened and how the Worker answered the webhook.
 */
import type http from "node:http";
import { minorToDecimalString } from "../../src/lib/currencies.ts";
import { deliverFakeEvent, type FakeStripeState, newStripeId } from "./fake-stripe.ts";

export interface WebhookTarget {
  /** the API's origin; events go to its /payment/webhook */
  url: string;
  secret: string;
}

const html = (text: unknown) => String(text).replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

function page(res: http.ServerResponse, status: number, title: string, body: string): true {
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", "x-frame-options": "DENY" });
  res.end(
    `<!doctype html><html><head><meta charset="utf-8"><title>${html(title)}</title>` +
      `<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}` +
      `button{font-size:1rem;padding:.5rem 1.5rem;margin-right:1rem}.note{color:#666;font-size:.9rem}</style></head>` +
      `<body><h1>${html(title)}</h1>${body}<p class="note">Local Stripe stand-in (npm start without ` +
      `STRIPE_SECRET_KEY). No money moves.</p></body></html>`,
  );
  return true;
}

function formatAmount(minor: unknown, currency: unknown): string {
  const code = String(currency ?? "").toUpperCase();
  // The API's own exponent table (what the Worker sent Stripe), so the page shows the charged amount.
  return `${minorToDecimalString(Number(minor), code)} ${code}`;
}

/** Serves a hosted page when the path is one; returns false for everything else (the API). */
export async function handleHostedPage(
  state: FakeStripeState,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
  _raw: string,
): Promise<boolean> {
  const checkout = /^\/c\/pay\/([^/]+)(?:\/(pay|cancel))?$/.exec(url.pathname);
  if (checkout?.[1]) {
    const session = state.sessions.get(checkout[1]);
    if (!session) return page(res, 404, "No such checkout session", "");
    const action = checkout[2];
    if (!action && req.method === "GET") {
      const amount = formatAmount(session.amount_total, session.currency);
      const open = session.status === "open";
      return page(
        res,
        200,
        `Pay ${amount}`,
        `<p>Checkout session <code>${html(session.id)}</code> (${html(session.status)}).</p>` +
          (open
            ? `<form method="post" action="/c/pay/${html(session.id)}/pay" style="display:inline"><button>Pay</button></form>` +
              `<form method="post" action="/c/pay/${html(session.id)}/cancel" style="display:inline"><button>Cancel</button></form>`
            : "<p>This session can no longer be paid.</p>"),
      );
    }
    if (action && req.method === "POST") {
      if (session.status !== "open") return page(res, 409, "Session not open", `<p>It is ${html(session.status)}.</p>`);
      if (action === "pay") {
        session.status = "complete";
        session.payment_status = "paid";
        session.payment_intent ??= newStripeId("pi");
      } else {
        session.status = "expired";
      }
      const type = action === "pay" ? "checkout.session.completed" : "checkout.session.expired";
      const status = await deliverFakeEvent(state, type, session);
      const back =
        action === "pay"
          ? String(session.success_url ?? "").replace("{CHECKOUT_SESSION_ID}", String(session.id))
          : session.cancel_url;
      return page(
        res,
        200,
        action === "pay" ? "Payment succeeded" : "Checkout cancelled",
        `<p>Delivered <code>${type}</code> to the API: HTTP ${status || "not delivered (no webhook target)"}.</p>` +
          (back ? `<p>Stripe would now send you to <a href="${html(back)}">${html(back)}</a>.</p>` : ""),
      );
    }
  }

  const onboarding = /^\/connect\/onboarding\/([^/]+?)(\/complete)?$/.exec(url.pathname);
  if (onboarding?.[1]) {
    const account = state.accounts.get(onboarding[1]);
    if (!account) return page(res, 404, "No such account", "");
    const returnUrl = url.searchParams.get("return_url") ?? "";
    if (!onboarding[2] && req.method === "GET") {
      return page(
        res,
        200,
        "Set up payouts",
        `<p>Express account <code>${html(account.id)}</code>.</p>` +
          `<form method="post" action="/connect/onboarding/${html(account.id)}/complete?${html(url.searchParams.toString())}">` +
          `<button>Complete onboarding</button></form>`,
      );
    }
    if (onboarding[2] && req.method === "POST") {
      account.charges_enabled = true;
      account.payouts_enabled = true;
      account.details_submitted = true;
      const status = await deliverFakeEvent(state, "account.updated", account);
      return page(
        res,
        200,
        "Onboarding complete",
        `<p>Delivered <code>account.updated</code> to the API: HTTP ${status || "not delivered (no webhook target)"}.</p>` +
          (returnUrl ? `<p>Stripe would now send you to <a href="${html(returnUrl)}">${html(returnUrl)}</a>.</p>` : ""),
      );
    }
  }
  return false;
}
