/**
 * The resource library (articles, videos, documents) and bookmarks.
 *
 * Tags are stored trimmed and lower-cased (and de-duplicated), so that the
 * `tags` filter is a plain, GIN-indexed containment test (`tags @> ARRAY[..]`)
 * that matches whatever case the author or the searcher typed.
 *
 * `q` searches title and description with Postgres full-text search over the
 * expression of the GIN index ix_resources_search (the expression must stay
 * identical to the index's for the planner to use it). Every word of `q` is
 * a prefix ("negot" finds "negotiating") and all words must match.
 */
import { and, desc, eq, type SQL, sql } from "drizzle-orm";
import { bookmarks, resources } from "../../../drizzle/schema.ts";
import type { Executor } from "../../db/client.ts";
import { conflict, notFound } from "../../lib/errors.ts";
import type { Pagination } from "../../lib/pagination.ts";
import { rethrowMissingParent } from "./errors.ts";
import { personClient, personCoach, personFirstName, personJoins } from "./people.ts";

export type ResourceType = (typeof resources.resourceType.enumValues)[number];

export interface ResourceRecord {
  id: string;
  title: string;
  description: string | null;
  resourceType: ResourceType;
  url: string | null;
  tags: string[];
  /** null when the creator's account is gone (created_by SET NULL). */
  createdBy: { id: string; firstName: string | null } | null;
  createdAt: Date;
}

export interface ResourceFilters {
  resourceType?: ResourceType | undefined;
  /** Normalised tags (normalizeTag); a resource must carry all of them. */
  tags?: string[] | undefined;
  /** Raw search text; must contain at least one word (searchWords). */
  q?: string | undefined;
}

export interface NewResource {
  title: string;
  description: string | null;
  resourceType: ResourceType;
  url: string;
  tags: string[];
}

import { MAX_TAG_LENGTH, MAX_TAGS } from "../../contract/community.ts";

export { MAX_TAG_LENGTH, MAX_TAGS };

/** The stored form of a tag. */
export function normalizeTag(tag: string): string {
  return tag.trim().toLowerCase();
}

/** Normalised, de-duplicated tags in first-seen order. */
export function normalizeTags(tags: readonly string[]): string[] {
  return [...new Set(tags.map(normalizeTag))];
}

/**
 * The words of a search text: runs of letters and digits, lower-cased.
 * Everything else (tsquery operators included) is a separator, so user input
 * can never be a tsquery syntax error.
 */
export function searchWords(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** A tsquery text for to_tsquery: every word as a prefix, all required. */
export function prefixQuery(words: readonly string[]): string {
  return words.map((word) => `${word}:*`).join(" & ");
}

/** Exactly the expression of the index ix_resources_search (drizzle/schema.ts). */
const searchDocument = sql`to_tsvector('simple', coalesce(${resources.title}, '') || ' ' || coalesce(${resources.description}, ''))`;

const creator = personJoins(resources.createdBy);

function resourceColumns() {
  return {
    id: resources.id,
    title: resources.title,
    description: resources.description,
    resourceType: resources.resourceType,
    url: resources.url,
    tags: resources.tags,
    createdBy: resources.createdBy,
    createdAt: resources.createdAt,
    creatorFirstName: personFirstName().as("creator_first_name"),
  };
}

type ResourceColumnsRow = {
  id: string;
  title: string;
  description: string | null;
  resourceType: ResourceType;
  url: string | null;
  tags: string[];
  createdBy: string | null;
  createdAt: Date;
  creatorFirstName: string | null;
};

function toResourceRecord(row: ResourceColumnsRow): ResourceRecord {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    resourceType: row.resourceType,
    url: row.url,
    tags: row.tags,
    createdBy: row.createdBy === null ? null : { id: row.createdBy, firstName: row.creatorFirstName },
    createdAt: row.createdAt,
  };
}

function selectResources(db: Executor) {
  return db.select(resourceColumns()).from(resources).leftJoin(personCoach, creator.coach).leftJoin(personClient, creator.client);
}

/** Rows of a "page LEFT JOIN one-row total" query -> items and total. */
type PageRow = { [K in keyof ResourceColumnsRow]: ResourceColumnsRow[K] | null } & { total: number | null };

/**
 * The resource columns of a page subquery, selected again beside the total (the list and the
 * bookmark list read a page the same way; the bookmark list adds its own columns).
 */
function pageResourceColumns<Page extends Record<keyof ResourceColumnsRow, unknown>>(
  page: Page,
): Pick<Page, keyof ResourceColumnsRow> {
  return {
    id: page.id,
    title: page.title,
    description: page.description,
    resourceType: page.resourceType,
    url: page.url,
    tags: page.tags,
    createdBy: page.createdBy,
    createdAt: page.createdAt,
    creatorFirstName: page.creatorFirstName,
  };
}

function collectPage(rows: readonly PageRow[]) {
  const total = Number(rows[0]?.total ?? 0);
  const items: ResourceRecord[] = [];
  for (const row of rows) {
    if (row.id === null) continue; // an empty page: the row carries only the total
    items.push(toResourceRecord(row as ResourceColumnsRow));
  }
  return { items, total };
}

/** The WHERE conditions of the resource list; exported so a test can EXPLAIN them against the indexes. */
export function resourceFilterConditions(filters: ResourceFilters): SQL[] {
  const conditions: SQL[] = [];
  if (filters.resourceType !== undefined) conditions.push(eq(resources.resourceType, filters.resourceType));
  if (filters.tags !== undefined && filters.tags.length > 0) {
    // Containment on the GIN index ix_resources_tags: the resource carries every tag asked for.
    conditions.push(
      sql`${resources.tags} @> array[${sql.join(
        filters.tags.map((tag) => sql`${tag}`),
        sql`, `,
      )}]::text[]`,
    );
  }
  if (filters.q !== undefined) {
    const words = searchWords(filters.q);
    // Text without words matches nothing (the route answers 400 before it gets here).
    conditions.push(words.length > 0 ? sql`${searchDocument} @@ to_tsquery('simple', ${prefixQuery(words)})` : sql`false`);
  }
  return conditions;
}

/** Newest first; one round trip (page, total and creator names together). */
export async function listResources(
  db: Executor,
  filters: ResourceFilters,
  pagination: Pagination,
): Promise<{ items: ResourceRecord[]; total: number }> {
  const conditions = resourceFilterConditions(filters);
  const where = conditions.length > 0 ? and(...conditions) : undefined;

  const pageRows = selectResources(db)
    .where(where)
    .orderBy(desc(resources.createdAt), desc(resources.id))
    .limit(pagination.limit)
    .offset(pagination.skip)
    .as("page_rows");
  const totals = db
    .select({ total: sql<number>`count(*)::int`.as("total") })
    .from(resources)
    .where(where)
    .as("totals");
  const rows = await db
    .select({
      total: totals.total,
      ...pageResourceColumns(pageRows),
    })
    .from(totals)
    .leftJoin(pageRows, sql`true`)
    .orderBy(desc(pageRows.createdAt), desc(pageRows.id));
  return collectPage(rows);
}

/** The caller's bookmarks, most recently bookmarked first; one round trip. */
export async function listBookmarkedResources(
  db: Executor,
  userId: string,
  pagination: Pagination,
): Promise<{ items: ResourceRecord[]; total: number }> {
  const pageRows = db
    .select({
      ...resourceColumns(),
      // Renamed: resources and bookmarks both have id and created_at, a subquery needs distinct names.
      bookmarkedAt: sql<string>`${bookmarks.createdAt}`.as("bookmarked_at"),
      bookmarkId: sql<string>`${bookmarks.id}`.as("bookmark_id"),
    })
    .from(bookmarks)
    .innerJoin(resources, eq(resources.id, bookmarks.resourceId))
    .leftJoin(personCoach, creator.coach)
    .leftJoin(personClient, creator.client)
    .where(eq(bookmarks.userId, userId))
    .orderBy(desc(bookmarks.createdAt), desc(bookmarks.id))
    .limit(pagination.limit)
    .offset(pagination.skip)
    .as("page_rows");
  const totals = db
    .select({ total: sql<number>`count(*)::int`.as("total") })
    .from(bookmarks)
    .where(eq(bookmarks.userId, userId))
    .as("totals");
  const rows = await db
    .select({
      total: totals.total,
      ...pageResourceColumns(pageRows),
      bookmarkedAt: pageRows.bookmarkedAt,
      bookmarkId: pageRows.bookmarkId,
    })
    .from(totals)
    .leftJoin(pageRows, sql`true`)
    .orderBy(desc(pageRows.bookmarkedAt), desc(pageRows.bookmarkId));
  return collectPage(rows);
}

export async function createResource(db: Executor, creatorId: string, input: NewResource, now: Date): Promise<ResourceRecord> {
  const [created] = await db
    .insert(resources)
    .values({
      title: input.title,
      description: input.description,
      resourceType: input.resourceType,
      url: input.url,
      tags: normalizeTags(input.tags),
      createdBy: creatorId,
      createdAt: now,
    })
    .returning({ id: resources.id });
  const [row] = created ? await selectResources(db).where(eq(resources.id, created.id)) : [];
  if (!row) throw notFound("Resource");
  return toResourceRecord(row);
}

/**
 * Bookmarks a resource; one statement tells "no such resource" (404) from
 * "already bookmarked" (409) without a race between a check and the insert.
 */
export async function addBookmark(db: Executor, userId: string, resourceId: string, now: Date): Promise<void> {
  const result = await db
    .execute<{ found: number; inserted: number }>(
      sql`with target as (
            select ${resources.id} as id from ${resources} where ${resources.id} = ${resourceId}
          ), saved as (
            insert into ${bookmarks} (user_id, resource_id, created_at)
            select ${userId}, target.id, ${now.toISOString()}::timestamptz from target
            on conflict (user_id, resource_id) do nothing
            returning 1
          )
          select (select count(*) from target)::int as found, (select count(*) from saved)::int as inserted`,
    )
    .catch(rethrowMissingParent("Resource"));
  const row = result.rows[0];
  if (!row || Number(row.found) === 0) throw notFound("Resource");
  if (Number(row.inserted) === 0) throw conflict("This resource is already bookmarked");
}

/** Removes the caller's bookmark; NOT_FOUND when there was none (or no such resource). */
export async function removeBookmark(db: Executor, userId: string, resourceId: string): Promise<void> {
  const removed = await db
    .delete(bookmarks)
    .where(and(eq(bookmarks.userId, userId), eq(bookmarks.resourceId, resourceId)))
    .returning({ id: bookmarks.id });
  if (removed.length === 0) throw notFound("Bookmark");
}
