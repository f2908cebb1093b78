import type { Context } from "hono";
import { badRequest } from "./errors.ts";

interface Issue {
  path: PropertyKey[];
  message: string;
  /** zod's `unrecognized_keys` issue (strict objects) lists the offending keys */
  code?: string;
  keys?: readonly string[];
}

/**
 * Zod issues -> the envelope's details: one entry per field, path joined with
 * dots. Unknown keys of a strict object get one entry each, named by the key
 * (e.g. a read-only `rating` sent to PUT /profile), not one for the object.
 */
export function validationDetails(issues: readonly Issue[], location: string) {
  return {
    errors: issues.flatMap((issue) => {
      if (issue.code === "unrecognized_keys" && issue.keys && issue.keys.length > 0) {
        return issue.keys.map((key) => ({
          field: [...issue.path.map(String), key].join("."),
          location,
          message: "Unknown or read-only field",
        }));
      }
      return [{ field: issue.path.map(String).join(".") || location, location, message: issue.message }];
    }),
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
