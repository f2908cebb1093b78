import type { Context } from "hono";
import { badRequest } from "./errors.ts";

interface Issue {
  path: PropertyKey[];
  message: string;
}

/** Zod issues -> the envelope's details: one entry per field, path joined with dots. */
export function validationDetails(issues: readonly Issue[], location: string) {
  return {
    errors: issues.map((issue) => ({
      field: issue.path.map(String).join(".") || location,
      location,
      message: issue.message,
    })),
  };
}

/** The one validation hook shared by every sub-app: zod failure -> 400 VALIDATION_ERROR. */
export function validationHook(
  result: { success: true } | { success: false; error: { issues: readonly Issue[] }; target?: string },
  _c: Context,
): void {
  if (!result.success) {
    const target = result.target ?? "body";
    throw badRequest("Request validation failed", validationDetails(result.error.issues, target === "json" ? "body" : target));
  }
}
