/** Wire shapes of the contract's Auth section. */
import { z } from "@hono/zod-openapi";
import { emailField } from "../lib/fields.ts";
import { passwordProblems } from "../lib/passwords.ts";

/** Every broken rule is its own issue, so the 400's details list all of them. */
export const PasswordField = z
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

/** A single-use token from an email link. */
export const EmailTokenField = z.string().min(1).max(512);

export const UserSummary = z
  .object({ id: z.string().guid(), email: z.string(), role: z.enum(["client", "coach", "admin"]) })
  .openapi("UserSummary");

export const TokenPair = z
  .object({
    access_token: z.string(),
    refresh_token: z.string(),
    token_type: z.literal("bearer"),
    expires_in: z.number().int().openapi({ example: 86400 }),
  })
  .openapi("TokenPair");

export const LoginResponse = TokenPair.extend({ user: UserSummary }).openapi("LoginResponse");

export const SignupResponse = LoginResponse.extend({
  id: z.string().guid(),
  email: z.string(),
  role: z.enum(["client", "coach"]),
  is_active: z.boolean(),
  email_verified: z.boolean(),
  created_at: z.string(),
}).openapi("SignupResponse");

export const Message = z.object({ message: z.string() }).openapi("Message");

export const SignupRequest = z.object({ email: emailField, password: PasswordField, role: RoleField }).openapi("SignupRequest");

/** Login does not apply the password rules: old accounts may have weaker passwords. */
export const LoginRequest = z
  .object({ email: z.string().trim().min(1).max(255), password: z.string().min(1).max(1024) })
  .openapi("LoginRequest");

export const RefreshRequest = z.object({ refresh_token: z.string().min(1).max(4096) }).openapi("RefreshRequest");
export const LogoutRequest = z.object({ refresh_token: z.string().min(1).max(4096) }).openapi("LogoutRequest");
export const ResetPasswordRequest = z.object({ email: emailField }).openapi("ResetPasswordRequest");
export const ResetPasswordConfirmRequest = z
  .object({ token: EmailTokenField, new_password: PasswordField })
  .openapi("ResetPasswordConfirmRequest");
export const VerifyEmailRequest = z.object({ token: EmailTokenField }).openapi("VerifyEmailRequest");

export const ChangePasswordRequest = z
  .object({
    // Like login: the current password is whatever the account has, old rules included.
    current_password: z.string().min(1).max(1024),
    new_password: PasswordField,
  })
  .openapi("ChangePasswordRequest");

export const TokenQuery = z.object({
  token: EmailTokenField.openapi({ param: { name: "token", in: "query" }, description: "The token from the email link" }),
});

/** The HTML reset form's fields (application/x-www-form-urlencoded). */
export const ResetPasswordForm = z
  .object({ token: EmailTokenField, new_password: z.string().max(1024) })
  .openapi("ResetPasswordForm");

export const HtmlPage = z.string().openapi({ description: "A small HTML page for a person following an email link" });

export type LoginResponseBody = z.infer<typeof LoginResponse>;
export type TokenPairBody = z.infer<typeof TokenPair>;
