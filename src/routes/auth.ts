/**
 * Auth routes (contract: Auth). Thin: validate -> src/services/auth.ts -> shape.
 * Wire shapes: src/contract/auth.ts. The HTML pages behind the email links
 * are in auth-pages.ts.
 */
import { createRoute } from "@hono/zod-openapi";
import {
  ChangePasswordRequest,
  LoginRequest,
  LoginResponse,
  LogoutRequest,
  Message,
  RefreshRequest,
  ResetPasswordConfirmRequest,
  ResetPasswordRequest,
  SignupRequest,
  SignupResponse,
  TokenPair,
  VerifyEmailRequest,
} from "../contract/auth.ts";
import { forbidden } from "../lib/errors.ts";
import { bearerSecurity, errorResponses, jsonContent } from "../lib/openapi.ts";
import { createRouter } from "../lib/router.ts";
import { requireIso } from "../lib/time.ts";
import { requireUser } from "../middleware/auth.ts";
import { clientIp } from "../middleware/rate-limit.ts";
import {
  changePassword,
  confirmPasswordReset,
  login,
  logout,
  refreshSession,
  requestPasswordReset,
  resendVerification,
  signup,
  verifyEmail,
} from "../services/auth.ts";

const TAGS = ["Auth"];

function jsonBody<T extends Parameters<typeof jsonContent>[0]>(schema: T) {
  return { required: true, content: { "application/json": { schema } } };
}

const signupRoute = createRoute({
  method: "post",
  path: "/auth/signup",
  tags: TAGS,
  summary: "Create a client or coach account and sign in; sends the verification email",
  request: { body: jsonBody(SignupRequest) },
  responses: { 201: jsonContent(SignupResponse, "Account created and signed in"), ...errorResponses(403, 409) },
});

const loginRoute = createRoute({
  method: "post",
  path: "/auth/login",
  tags: TAGS,
  summary: "Sign in with email and password",
  description:
    "At most 10 failed attempts per (email, IPv4 address or IPv6 /64) and 30 per account in any 15 minutes; then 429 with Retry-After.",
  request: { body: jsonBody(LoginRequest) },
  responses: { 200: jsonContent(LoginResponse, "Signed in"), ...errorResponses(401, 403) },
});

const refreshRoute = createRoute({
  method: "post",
  path: "/auth/refresh",
  tags: TAGS,
  summary: "Exchange a refresh token for a new pair (rotation; reuse of a used token revokes its family)",
  request: { body: jsonBody(RefreshRequest) },
  responses: { 200: jsonContent(TokenPair, "New access and refresh token"), ...errorResponses(401) },
});

const logoutRoute = createRoute({
  method: "post",
  path: "/auth/logout",
  tags: TAGS,
  summary: "Revoke the refresh token's family (this session on every device it was refreshed on)",
  security: bearerSecurity,
  request: { body: jsonBody(LogoutRequest) },
  responses: { 204: { description: "Signed out" }, ...errorResponses(401, 403) },
});

const resetRoute = createRoute({
  method: "post",
  path: "/auth/reset-password",
  tags: TAGS,
  summary: "Send a password reset link (1 hour); the answer is the same whether or not the account exists",
  description: "At most 5 reset emails an hour per address; further requests answer the same 200 and send nothing.",
  request: { body: jsonBody(ResetPasswordRequest) },
  responses: { 200: jsonContent(Message, "Reset email sent if the account exists"), ...errorResponses() },
});

const resetConfirmRoute = createRoute({
  method: "post",
  path: "/auth/reset-password/confirm",
  tags: TAGS,
  summary: "Set a new password with a reset token; revokes every refresh token and every access token issued before",
  request: { body: jsonBody(ResetPasswordConfirmRequest) },
  responses: { 200: jsonContent(Message, "Password changed"), ...errorResponses(503) },
});

const verifyRoute = createRoute({
  method: "post",
  path: "/auth/verify-email",
  tags: TAGS,
  summary: "Confirm the email address with the token from the verification email (24 hours, single use)",
  request: { body: jsonBody(VerifyEmailRequest) },
  responses: { 200: jsonContent(Message, "Email verified"), ...errorResponses() },
});

const resendRoute = createRoute({
  method: "post",
  path: "/auth/verify-email/resend",
  tags: TAGS,
  summary: "Send a new verification email (the earlier links stop working)",
  description: "409 when the address is already verified; at most 3 an hour per user (then 429 with Retry-After).",
  security: bearerSecurity,
  responses: { 202: jsonContent(Message, "A new verification email is on its way"), ...errorResponses(401, 403, 404, 409) },
});

const changePasswordRoute = createRoute({
  method: "post",
  path: "/auth/change-password",
  tags: TAGS,
  summary: "Change the password; every other session is signed out and a fresh session is returned",
  description:
    "401 when current_password is wrong (counted by the login throttle, 429 once exhausted); 400 when " +
    "new_password is weak. Every refresh family of the account is revoked and every access token issued before " +
    "stops working.",
  security: bearerSecurity,
  request: { body: jsonBody(ChangePasswordRequest) },
  responses: { 200: jsonContent(LoginResponse, "Password changed: the new session"), ...errorResponses(401, 403, 409, 503) },
});

export const authRoutes = createRouter()
  .openapi(signupRoute, async (c) => {
    const { email, password, role } = c.req.valid("json");
    if (role === "admin") throw forbidden("Admin accounts cannot be created by signup");
    const { user, tokens } = await signup(c.var.db, c.var.deps, { email, password, role }, c.var.now);
    return c.json(
      SignupResponse.parse({
        id: user.id,
        email: user.email,
        role,
        is_active: user.isActive,
        email_verified: user.emailVerified,
        created_at: requireIso(user.createdAt),
        ...tokens,
        user: { id: user.id, email: user.email, role: user.role },
      }),
      201,
    );
  })
  .openapi(loginRoute, async (c) => {
    const ip = clientIp((name) => c.req.header(name));
    const { user, tokens } = await login(c.var.db, c.var.deps, { ...c.req.valid("json"), ip }, c.var.now);
    return c.json(LoginResponse.parse({ ...tokens, user: { id: user.id, email: user.email, role: user.role } }), 200);
  })
  .openapi(refreshRoute, async (c) => {
    const tokens = await refreshSession(c.var.db, c.var.deps, c.req.valid("json").refresh_token, c.var.now);
    return c.json(TokenPair.parse(tokens), 200);
  })
  .openapi(logoutRoute, async (c) => {
    const user = requireUser(c);
    await logout(c.var.db, c.var.deps, user.id, c.req.valid("json").refresh_token, c.var.now);
    return c.body(null, 204);
  })
  .openapi(resetRoute, async (c) => {
    await requestPasswordReset(c.var.db, c.var.deps, c.req.valid("json").email, c.var.now);
    return c.json({ message: "If an account exists for this email, a password reset link has been sent." }, 200);
  })
  .openapi(resetConfirmRoute, async (c) => {
    const { token, new_password } = c.req.valid("json");
    await confirmPasswordReset(c.var.db, c.var.deps, { token, newPassword: new_password }, c.var.now);
    return c.json({ message: "Your password has been changed. Please sign in again." }, 200);
  })
  .openapi(verifyRoute, async (c) => {
    await verifyEmail(c.var.db, c.req.valid("json").token, c.var.now);
    return c.json({ message: "Your email address is verified." }, 200);
  })
  .openapi(resendRoute, async (c) => {
    const user = requireUser(c);
    await resendVerification(c.var.db, c.var.deps, user.id, c.var.now);
    return c.json({ message: "A new verification email has been sent; earlier links no longer work." }, 202);
  })
  .openapi(changePasswordRoute, async (c) => {
    const caller = requireUser(c);
    const body = c.req.valid("json");
    const { user, tokens } = await changePassword(
      c.var.db,
      c.var.deps,
      {
        userId: caller.id,
        currentPassword: body.current_password,
        newPassword: body.new_password,
        ip: clientIp((name) => c.req.header(name)),
      },
      c.var.now,
    );
    return c.json(LoginResponse.parse({ ...tokens, user: { id: user.id, email: user.email, role: user.role } }), 200);
  });
