/**
 * The pages behind the links of verification and reset emails, for a person
 * with a browser (contract v2: links point at APP_BASE_URL -- the web app --
 * and by default at this API, whose pages here do the action and show a
 * readable result). They answer text/html, never the JSON contract's shapes:
 * the outcome of the action (done, or why the link cannot be used) is a 200
 * page; only a request without a token at all is the usual 400 envelope.
 * A web app implements the same two paths and calls the JSON endpoints.
 *
 * No script and no style (the API's CSP is `default-src 'none'`); every value
 * put into the markup goes through hono/html's escaping.
 */
import { createRoute } from "@hono/zod-openapi";
import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import { HtmlPage, ResetPasswordForm, TokenQuery } from "../contract/auth.ts";
import { AppError } from "../lib/errors.ts";
import { errorResponses } from "../lib/openapi.ts";
import { passwordProblems } from "../lib/passwords.ts";
import { createRouter } from "../lib/router.ts";
import { checkResetToken, confirmPasswordReset, verifyEmail } from "../services/auth.ts";

const TAGS = ["Auth pages (HTML)"];
const htmlContent = (description: string) => ({ description, content: { "text/html": { schema: HtmlPage } } });

function page(title: string, body: HtmlEscapedString | Promise<HtmlEscapedString>) {
  return html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title} · CultureBridge</title></head>
<body>
<main>
<h1>${title}</h1>
${body}
</main>
</body>
</html>`;
}

/** A token the service refused (unknown, expired, used): a page, not an error envelope. */
function isTokenRefusal(error: unknown): boolean {
  return error instanceof AppError && error.code === "VALIDATION_ERROR";
}

const INVALID_LINK = "This link is invalid, has expired or was already used.";

function resetForm(token: string, problems: string[] = []) {
  return html`${problems.length > 0 ? html`<p>The new password is not strong enough:</p><ul>${problems.map((problem) => html`<li>${problem}</li>`)}</ul>` : ""}
<form method="post" action="/auth/reset-password/confirm/form">
<input type="hidden" name="token" value="${token}">
<p><label>New password<br><input type="password" name="new_password" autocomplete="new-password" required minlength="8" maxlength="128"></label></p>
<p>8-128 characters with an uppercase letter, a lowercase letter, a digit and a special character.</p>
<p><button type="submit">Set the new password</button></p>
</form>`;
}

const verifyPageRoute = createRoute({
  method: "get",
  path: "/auth/verify-email",
  tags: TAGS,
  summary: "The verification email's link: verifies the address and shows the result (HTML)",
  request: { query: TokenQuery },
  responses: { 200: htmlContent("The result page: verified, or why the link cannot be used"), ...errorResponses() },
});

const resetPageRoute = createRoute({
  method: "get",
  path: "/auth/reset-password/confirm",
  tags: TAGS,
  summary: "The reset email's link: a form for the new password (HTML); consumes nothing",
  request: { query: TokenQuery },
  responses: { 200: htmlContent("The form, or why the link cannot be used"), ...errorResponses() },
});

const resetFormRoute = createRoute({
  method: "post",
  path: "/auth/reset-password/confirm/form",
  tags: TAGS,
  summary: "The reset page's form: sets the new password and shows the result (HTML)",
  description: "Same effect as POST /auth/reset-password/confirm (every session signed out).",
  request: {
    body: { required: true, content: { "application/x-www-form-urlencoded": { schema: ResetPasswordForm } } },
  },
  responses: { 200: htmlContent("The result page (or the form again with what the password lacks)"), ...errorResponses(503) },
});

export const authPageRoutes = createRouter()
  .openapi(verifyPageRoute, async (c) => {
    try {
      await verifyEmail(c.var.db, c.req.valid("query").token, c.var.now);
    } catch (error) {
      if (!isTokenRefusal(error)) throw error;
      return c.html(
        page("Email not verified", html`<p>${INVALID_LINK}</p><p>Sign in to ask for a new verification email.</p>`),
        200,
      );
    }
    return c.html(page("Email verified", html`<p>Your email address is verified. You can close this page.</p>`), 200);
  })
  .openapi(resetPageRoute, async (c) => {
    const { token } = c.req.valid("query");
    try {
      await checkResetToken(c.var.db, token, c.var.now);
    } catch (error) {
      if (!isTokenRefusal(error)) throw error;
      return c.html(page("Password not reset", html`<p>${INVALID_LINK}</p><p>Ask for a new reset email.</p>`), 200);
    }
    return c.html(page("Choose a new password", resetForm(token)), 200);
  })
  .openapi(resetFormRoute, async (c) => {
    const { token, new_password } = c.req.valid("form");
    const problems = passwordProblems(new_password);
    if (problems.length > 0) return c.html(page("Choose a new password", resetForm(token, problems)), 200);
    try {
      await confirmPasswordReset(c.var.db, c.var.deps, { token, newPassword: new_password }, c.var.now);
    } catch (error) {
      if (!isTokenRefusal(error)) throw error;
      return c.html(page("Password not reset", html`<p>${INVALID_LINK}</p><p>Ask for a new reset email.</p>`), 200);
    }
    return c.html(
      page(
        "Password changed",
        html`<p>Your password has been changed and every session signed out. Sign in with the new password.</p>`,
      ),
      200,
    );
  });
