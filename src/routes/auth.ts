/**
 * Auth routes (contract: Auth). Thin: validate -> src/services/auth.ts -> shape.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { forbidden } from "../lib/errors.ts";
import { emailField } from "../lib/fields.ts";
import { bearerSecurity, errorResponses, jsonContent } from "../lib/openapi.ts";
import { createRouter, type RouterEnv } from "../lib/router.ts";
import { requireIso } from "../lib/time.ts";
import { requireUser } from "../middleware/auth.ts";
import {
  checkResetToken,
  confirmPasswordReset,
  login,
  logout,
  passwordProblems,
  refreshSession,
  requestPasswordReset,
  signup,
  verifyEmail,
} from "../services/auth.ts";

/** Every broken rule is its own issue, so the 400's details list all of them. */
const passwordField = z
  .string()
  .superRefine((value, ctx) => {
    for (const message of passwordProblems(value)) ctx.addIssue({ code: "custom", message });
  })
  .openapi({
    description: "8-128 characters with an uppercase letter, a lowercase letter, a digit and a special character",
    example: "Str0ng#Passw0rd",
  });

const RoleField = z
  .enum(["client", "coach", "admin"])
  .openapi({ description: "`admin` is refused (403): admins are created by `npm run admin:create`" });

const UserSummary = z
  .object({ id: z.string().uuid(), email: z.string(), role: z.enum(["client", "coach", "admin"]) })
  .openapi("UserSummary");

const TokenPairSchema = z
  .object({
    access_token: z.string(),
    refresh_token: z.string(),
    token_type: z.literal("bearer"),
    expires_in: z.number().int().openapi({ example: 86400 }),
  })
  .openapi("TokenPair");

const LoginResponse = TokenPairSchema.extend({ user: UserSummary }).openapi("LoginResponse");

const SignupResponse = LoginResponse.extend({
  id: z.string().uuid(),
  email: z.string(),
  role: z.enum(["client", "coach"]),
  is_active: z.boolean(),
  email_verified: z.boolean(),
  created_at: z.string(),
}).openapi("SignupResponse");

const MessageSchema = z.object({ message: z.string() }).openapi("Message");

/** Links in emails point at the configured public origin (readConfig requires it outside development). */
function linkBase(c: Context<RouterEnv>): string {
  return c.var.config.publicBaseUrl;
}

const signupRoute = createRoute({
  method: "post",
  path: "/auth/signup",
  tags: ["Auth"],
  summary: "Create a client or coach account and sign in; sends the verification email",
  request: {
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z.object({ email: emailField, password: passwordField, role: RoleField }).openapi("SignupRequest"),
        },
      },
    },
  },
  responses: { 201: jsonContent(SignupResponse, "Account created and signed in"), ...errorResponses(403, 409) },
});

const loginRoute = createRoute({
  method: "post",
  path: "/auth/login",
  tags: ["Auth"],
  summary: "Sign in with email and password",
  request: {
    body: {
      required: true,
      // Login does not apply the password rules: old accounts may have weaker passwords.
      content: {
        "application/json": {
          schema: z
            .object({ email: z.string().trim().min(1).max(255), password: z.string().min(1).max(1024) })
            .openapi("LoginRequest"),
        },
      },
    },
  },
  responses: { 200: jsonContent(LoginResponse, "Signed in"), ...errorResponses(401, 403) },
});

const refreshRoute = createRoute({
  method: "post",
  path: "/auth/refresh",
  tags: ["Auth"],
  summary: "Exchange a refresh token for a new pair (rotation; reuse of a used token revokes its family)",
  request: {
    body: {
      required: true,
      content: {
        "application/json": { schema: z.object({ refresh_token: z.string().min(1).max(4096) }).openapi("RefreshRequest") },
      },
    },
  },
  responses: { 200: jsonContent(TokenPairSchema, "New access and refresh token"), ...errorResponses(401) },
});

const logoutRoute = createRoute({
  method: "post",
  path: "/auth/logout",
  tags: ["Auth"],
  summary: "Revoke the refresh token's family (this session on every device it was refreshed on)",
  security: bearerSecurity,
  request: {
    body: {
      required: true,
      content: {
        "application/json": { schema: z.object({ refresh_token: z.string().min(1).max(4096) }).openapi("LogoutRequest") },
      },
    },
  },
  responses: { 204: { description: "Signed out" }, ...errorResponses(401, 403) },
});

const resetRoute = createRoute({
  method: "post",
  path: "/auth/reset-password",
  tags: ["Auth"],
  summary: "Send a password reset link (1 hour); the answer is the same whether or not the account exists",
  request: {
    body: {
      required: true,
      content: { "application/json": { schema: z.object({ email: emailField }).openapi("ResetPasswordRequest") } },
    },
  },
  responses: { 200: jsonContent(MessageSchema, "Reset email sent if the account exists"), ...errorResponses() },
});

const resetConfirmRoute = createRoute({
  method: "post",
  path: "/auth/reset-password/confirm",
  tags: ["Auth"],
  summary: "Set a new password with a reset token; revokes every refresh token of the account",
  request: {
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z
            .object({ token: z.string().min(1).max(512), new_password: passwordField })
            .openapi("ResetPasswordConfirmRequest"),
        },
      },
    },
  },
  responses: { 200: jsonContent(MessageSchema, "Password changed"), ...errorResponses() },
});

const verifyRoute = createRoute({
  method: "post",
  path: "/auth/verify-email",
  tags: ["Auth"],
  summary: "Confirm the email address with the token from the verification email (24 hours, single use)",
  request: {
    body: {
      required: true,
      content: { "application/json": { schema: z.object({ token: z.string().min(1).max(512) }).openapi("VerifyEmailRequest") } },
    },
  },
  responses: { 200: jsonContent(MessageSchema, "Email verified"), ...errorResponses() },
});

/*
 * The links in the emails point at this API (PUBLIC_BASE_URL), so they are
 * followable as they are: opening the verification link verifies; opening
 * the reset link tells whether the token is still usable (a web app reads the
 * token from its own URL and POSTs it with the new password instead).
 */
const verifyLinkRoute = createRoute({
  method: "get",
  path: "/auth/verify-email",
  tags: ["Auth"],
  summary: "The verification email's link: same as POST /auth/verify-email",
  request: { query: z.object({ token: z.string().min(1).max(512) }) },
  responses: { 200: jsonContent(MessageSchema, "Email verified"), ...errorResponses() },
});

const resetLinkRoute = createRoute({
  method: "get",
  path: "/auth/reset-password/confirm",
  tags: ["Auth"],
  summary: "The reset email's link: tells whether the token is usable (does not consume it)",
  request: { query: z.object({ token: z.string().min(1).max(512) }) },
  responses: {
    200: jsonContent(
      MessageSchema.extend({ expires_at: z.string() }).openapi("ResetTokenStatus"),
      "The token is usable until expires_at",
    ),
    ...errorResponses(),
  },
});

export const authRoutes = createRouter()
  .openapi(signupRoute, async (c) => {
    const { email, password, role } = c.req.valid("json");
    if (role === "admin") throw forbidden("Admin accounts cannot be created by signup");
    const { user, tokens } = await signup(c.var.db, c.var.deps, { email, password, role }, c.var.now, linkBase(c));
    return c.json(
      {
        id: user.id,
        email: user.email,
        role,
        is_active: user.isActive,
        email_verified: user.emailVerified,
        created_at: requireIso(user.createdAt),
        ...tokens,
        user: { id: user.id, email: user.email, role: user.role },
      },
      201,
    );
  })
  .openapi(loginRoute, async (c) => {
    const { user, tokens } = await login(c.var.db, c.var.deps, c.req.valid("json"), c.var.now);
    return c.json({ ...tokens, user: { id: user.id, email: user.email, role: user.role } }, 200);
  })
  .openapi(refreshRoute, async (c) => {
    const tokens = await refreshSession(c.var.db, c.var.deps, c.req.valid("json").refresh_token, c.var.now);
    return c.json(tokens, 200);
  })
  .openapi(logoutRoute, async (c) => {
    const user = requireUser(c);
    await logout(c.var.db, c.var.deps, user.id, c.req.valid("json").refresh_token, c.var.now);
    return c.body(null, 204);
  })
  .openapi(resetRoute, async (c) => {
    await requestPasswordReset(c.var.db, c.var.deps, c.req.valid("json").email, c.var.now, linkBase(c));
    return c.json({ message: "If an account exists for this email, a password reset link has been sent." }, 200);
  })
  .openapi(resetConfirmRoute, async (c) => {
    const { token, new_password } = c.req.valid("json");
    await confirmPasswordReset(c.var.db, { token, newPassword: new_password }, c.var.now);
    return c.json({ message: "Your password has been changed. Please sign in again." }, 200);
  })
  .openapi(verifyRoute, async (c) => {
    await verifyEmail(c.var.db, c.req.valid("json").token, c.var.now);
    return c.json({ message: "Your email address is verified." }, 200);
  })
  .openapi(verifyLinkRoute, async (c) => {
    await verifyEmail(c.var.db, c.req.valid("query").token, c.var.now);
    return c.json({ message: "Your email address is verified." }, 200);
  })
  .openapi(resetLinkRoute, async (c) => {
    const expiresAt = await checkResetToken(c.var.db, c.req.valid("query").token, c.var.now);
    return c.json(
      {
        message: "The reset token is valid: POST it with new_password to /auth/reset-password/confirm.",
        expires_at: requireIso(expiresAt),
      },
      200,
    );
  });
