import { notFound, pgErrorCode } from "../../lib/errors.ts";

/**
 * A row inserted under a post or resource that was deleted by a concurrent
 * request between our read and the foreign-key check fails with SQLSTATE
 * 23503. For the caller that is simply "not found" (not a 500).
 */
export function rethrowMissingParent(what: string) {
  return (error: unknown): never => {
    if (pgErrorCode(error) === "23503") throw notFound(what);
    throw error;
  };
}
