/**
 * CSV exports of GET /admin/users and GET /admin/bookings (contract v2):
 * every matching row, streamed. The body is a ReadableStream that reads one
 * keyset chunk (EXPORT_CHUNK_ROWS rows, one query) per pull, so a
 * 100,000-row export holds at most one chunk in memory and starts answering
 * at once.
 *
 * The stream outlives the route handler, and the request's pool is ended as
 * soon as the handler returns (middleware/database.ts); so the export opens
 * its own database session and ends it when the stream ends, fails or is
 * cancelled by the client. Each chunk is its own statement: a row changed
 * between chunks may appear in its old or new state (as in any paginated
 * read); no row that matched throughout is skipped or repeated (keyset).
 */
import {
  ADMIN_BOOKING_CSV_COLUMNS,
  ADMIN_USER_CSV_COLUMNS,
  AdminBookingListItemSchema,
  AdminUserSchema,
} from "../../contract/admin.ts";
import { createDatabase, type Database } from "../../db/client.ts";
import type { ServiceEnv } from "../../env.ts";
import { csvStream } from "../../lib/csv.ts";
import type { ExportCursor } from "../../lib/keyset.ts";
import { type BookingFilters, bookingsExportChunk } from "./bookings.ts";
import { type UserFilters, usersExportChunk } from "./users.ts";

export const EXPORT_CHUNK_ROWS = 1000;

/**
 * The first chunk is read before the stream is handed out: a database that is
 * down answers the export with the usual 503 envelope, not a 200 whose body
 * breaks off after the header row.
 */
async function exportStream<Item>(
  env: ServiceEnv,
  columns: readonly string[],
  read: (db: Database, cursor: ExportCursor | undefined) => Promise<{ items: Item[]; next: ExportCursor | undefined }>,
  shape: (item: Item) => Record<string, unknown>,
): Promise<ReadableStream<Uint8Array>> {
  let session: ReturnType<typeof createDatabase> | undefined;
  const open = () => {
    session ??= createDatabase({ DATABASE_URL: env.config.database.url, WS_PROXY: env.config.database.wsProxy }, (error) =>
      env.log.error("export pool error", { error: error.message }),
    );
    return session.db;
  };
  let first: { items: Item[]; next: ExportCursor | undefined } | undefined;
  try {
    first = await read(open(), undefined);
  } catch (error) {
    await session?.end();
    throw error;
  }
  return csvStream<ExportCursor>(
    columns,
    async (cursor) => {
      const chunk = first ?? (await read(open(), cursor));
      first = undefined;
      return { items: chunk.items.map(shape), next: chunk.next };
    },
    async () => {
      await session?.end();
    },
  );
}

export function exportUsersCsv(env: ServiceEnv, filters: UserFilters, chunkRows = EXPORT_CHUNK_ROWS) {
  return exportStream(
    env,
    ADMIN_USER_CSV_COLUMNS,
    (db, cursor) => usersExportChunk(db, filters, cursor, chunkRows),
    // Shaped by the contract schema, as the JSON list is: nothing else reaches the file.
    (user) => AdminUserSchema.parse(user),
  );
}

export function exportBookingsCsv(env: ServiceEnv, filters: BookingFilters, chunkRows = EXPORT_CHUNK_ROWS) {
  return exportStream(
    env,
    ADMIN_BOOKING_CSV_COLUMNS,
    (db, cursor) => bookingsExportChunk(db, filters, cursor, chunkRows),
    (booking) => AdminBookingListItemSchema.parse(booking),
  );
}
