/**
 * Every CSV the API writes goes through these options (csv-stringify):
 * RFC 4180 quoting, CRLF records, booleans as `true`/`false` (as in JSON),
 * and the formula-injection rule of the contract: a text cell starting with
 * `=`, `+`, `-`, `@`, tab or CR gets a leading `'` (csv-stringify's
 * `escape_formulas`), so a spreadsheet shows it as text instead of running it.
 */
import { type Options, stringify } from "csv-stringify/sync";

export const CSV_OPTIONS = {
  escape_formulas: true,
  record_delimiter: "\r\n",
  cast: { boolean: (value: boolean) => String(value) },
} satisfies Options;

/** A whole (small) CSV with its header row. */
export function csvText(columns: readonly string[], rows: readonly unknown[][]): string {
  return stringify(rows as unknown[][], { ...CSV_OPTIONS, header: true, columns: [...columns] });
}

/** Rows without the header (a chunk of a streamed CSV). */
export function csvRows(rows: readonly unknown[][]): string {
  return rows.length === 0 ? "" : stringify(rows as unknown[][], CSV_OPTIONS);
}

/**
 * The columns of a JSON item as CSV columns: nested objects become dotted
 * names (`client.first_name`), so the columns are named as the item's fields.
 */
export function flatten(item: Record<string, unknown>, prefix = ""): Record<string, unknown> {
  const flat: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(item)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (value !== null && typeof value === "object" && !Array.isArray(value) && !(value instanceof Date)) {
      Object.assign(flat, flatten(value as Record<string, unknown>, name));
    } else {
      flat[name] = Array.isArray(value) ? value.join(";") : value;
    }
  }
  return flat;
}

export interface CsvChunk<Cursor> {
  /** JSON items of this chunk, in export order. */
  items: Record<string, unknown>[];
  /** Where the next chunk starts; undefined after the last one. */
  next: Cursor | undefined;
}

/**
 * A CSV body streamed chunk by chunk: the header first, then one
 * `readChunk(cursor)` per pull (keyset pagination: a chunk of rows per
 * query), so at most one chunk of rows is in memory whatever the export's
 * size, and a slow reader slows the queries down (backpressure) instead of
 * rows piling up. `close` runs once, when the export ends, fails or the
 * client goes away.
 */
export function csvStream<Cursor>(
  columns: readonly string[],
  readChunk: (cursor: Cursor | undefined) => Promise<CsvChunk<Cursor>>,
  close: () => Promise<void>,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let cursor: Cursor | undefined;
  let closed = false;
  const finish = async () => {
    if (closed) return;
    closed = true;
    await close();
  };
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controller.enqueue(encoder.encode(csvText(columns, [])));
      },
      async pull(controller) {
        try {
          const chunk = await readChunk(cursor);
          const rows = chunk.items.map((item) => {
            const flat = flatten(item);
            return columns.map((column) => flat[column] ?? null);
          });
          if (rows.length > 0) controller.enqueue(encoder.encode(csvRows(rows)));
          cursor = chunk.next;
          if (cursor === undefined) {
            await finish();
            controller.close();
          }
        } catch (error) {
          await finish().catch(() => {});
          controller.error(error);
        }
      },
      async cancel() {
        await finish();
      },
    },
    { highWaterMark: 0 },
  );
}

/** The CSV column names of a JSON item's fields (nested objects dotted). */
export function csvColumns(example: Record<string, unknown>): string[] {
  return Object.keys(flatten(example));
}
