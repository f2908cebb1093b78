import bcrypt from "bcryptjs";
import { eq } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import type * as schema from "../../drizzle/schema.ts";
import { users } from "../../drizzle/schema.ts";
import { normalizeEmail } from "../lib/email-address.ts";

export const BCRYPT_COST = 12;

type AnyDatabase = PgDatabase<PgQueryResultHKT, typeof schema>;

/**
 * Makes sure that an admin with this email and password exists: created, or
 * its password, role and active flag set. Used by `npm start` (ADMIN_EMAIL /
 * ADMIN_PASSWORD) and `npm run admin:create`.
 */
export async function ensureAdmin(db: AnyDatabase, email: string, password: string): Promise<{ id: string; created: boolean }> {
  const normalized = normalizeEmail(email);
  const passwordHash = await bcrypt.hash(password, BCRYPT_COST);
  const [existing] = await db.select({ id: users.id }).from(users).where(eq(users.email, normalized)).limit(1);
  if (existing) {
    await db
      .update(users)
      .set({ passwordHash, role: "admin", isActive: true, emailVerified: true, updatedAt: new Date() })
      .where(eq(users.id, existing.id));
    return { id: existing.id, created: false };
  }
  const [created] = await db
    .insert(users)
    .values({ email: normalized, passwordHash, role: "admin", isActive: true, emailVerified: true })
    .returning({ id: users.id });
  return { id: (created as { id: string }).id, created: true };
}
