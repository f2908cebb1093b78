/**
 * The admin audit trail: one `audit_log` row per admin mutation, always
 * written with the transaction handle of the mutation itself, so that a
 * change and its record commit (or roll back) together.
 */
import { and, count, desc, eq, type SQL } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import type * as schema from "../../../drizzle/schema.ts";
import { auditLog } from "../../../drizzle/schema.ts";
import { type Pagination, pageTotal, windowTotal } from "../../lib/pagination.ts";
import { requireIso } from "../../lib/time.ts";

/**
 * Any drizzle Postgres handle over this schema: the Workers' Neon pool, an
 * open transaction, or node-postgres in the CLI scripts. Admin services take
 * this so that `npm run import:phase1` runs the very same code as the API.
 */
export type AnyDatabase = PgDatabase<PgQueryResultHKT, typeof schema>;

/** Verbs are `<target>.<change>`; the list is closed so that filters by action are predictable. */
export type AuditAction =
  | "user.update"
  | "user.delete"
  | "post.update"
  | "post.delete"
  | "comment.update"
  | "comment.delete"
  | "import.phase1";

export interface AuditEntryInput {
  /** The admin who acted; null for the CLI import, which has no signed-in actor. */
  actorId: string | null;
  action: AuditAction;
  targetType: "user" | "post" | "comment" | "import";
  targetId: string | null;
  details: Record<string, unknown>;
}

/** Writes one entry. Pass the mutation's transaction, never the pool. */
export async function writeAudit(tx: AnyDatabase, entry: AuditEntryInput): Promise<string> {
  const [row] = await tx
    .insert(auditLog)
    .values({
      actorId: entry.actorId,
      action: entry.action,
      targetType: entry.targetType,
      targetId: entry.targetId,
      details: entry.details,
    })
    .returning({ id: auditLog.id });
  return (row as { id: string }).id;
}

export interface AuditEntry {
  id: string;
  actor_id: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  details: Record<string, unknown>;
  created_at: string;
}

export interface AuditFilters {
  actorId?: string | undefined;
  action?: string | undefined;
}

/** Newest first; ties (one transaction writes one timestamp) broken by id so that pages are stable. */
export async function listAudit(
  db: AnyDatabase,
  filters: AuditFilters,
  pagination: Pagination,
): Promise<{ items: AuditEntry[]; total: number }> {
  const conditions: SQL[] = [];
  if (filters.actorId) conditions.push(eq(auditLog.actorId, filters.actorId));
  if (filters.action) conditions.push(eq(auditLog.action, filters.action));
  const where = conditions.length > 0 ? and(...conditions) : undefined;
  const rows = await db
    .select({ entry: auditLog, total: windowTotal })
    .from(auditLog)
    .where(where)
    .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
    .offset(pagination.skip)
    .limit(pagination.limit);
  const total = await pageTotal(
    rows,
    pagination,
    async () => (await db.select({ total: count() }).from(auditLog).where(where))[0]?.total ?? 0,
  );
  return {
    items: rows.map(({ entry }) => ({
      id: entry.id,
      actor_id: entry.actorId,
      action: entry.action,
      target_type: entry.targetType,
      target_id: entry.targetId,
      details: entry.details,
      created_at: requireIso(entry.createdAt),
    })),
    total,
  };
}
