/**
 * Adapter to the RateLimiter Durable Object for callers outside the request
 * pipeline (services): token revocation marks.
 */
import type { RateLimiter } from "../durable/rate-limiter.ts";

/** Marks every access token of the user issued until now as revoked (deactivation, deletion, role change). */
export async function revokeUserTokens(
  namespace: DurableObjectNamespace<RateLimiter> | undefined,
  userId: string,
  now: Date,
): Promise<void> {
  if (!namespace) return;
  const stub = namespace.get(namespace.idFromName(`user:${userId}`));
  // +1: iat has one-second resolution; a token minted in this very second is revoked too.
  await stub.revokeTokensBefore(Math.floor(now.getTime() / 1000) + 1);
}
