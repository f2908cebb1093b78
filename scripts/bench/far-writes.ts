/**
 * The write journeys of the far-database suite (issue 14): writes need state
 * (a booking to cancel, a pending booking to pay, a completed one to review),
 * so they are not replayed by autocannon but driven here, one request at a
 * time (at one request in flight the p50 is latency only: no CPU queueing),
 * each iteration creating what it needs. Every request's own duration is
 * recorded (the whole response read), with its statement count (the
 * `X-DB-Queries` header of a development Worker).
 *
 * A journey runs for `seconds` and at least `minIterations`, at most
 * `maxIterations` iterations (bounded either way), after `warmupIterations`
 * that are not recorded. What the journeys create is listed in `created` and
 * removed by `cleanupWrites` (bookings, their payments and reviews, posts and
 * their comments, the bench admin, the audit rows and e-mails of the run), and
 * what they change on seeded rows (coach ratings, client photo URLs) is put
 * back, so that a re-run starts from the same database.
 */
import type pg from "pg";
import { type Availability, randomSlot } from "./slots.ts";

/** An 8x8 baseline JPEG (268 bytes, made with sharp): a real image, as a phone would send. */
const JPEG = Buffer.from(
  "/9j/2wBDAAYEBQYFBAYGBQYHBwYIChAKCgkJChQODwwQFxQYGBcUFhYaHSUfGhsjHBYWICwgIyYnKSopGR8tMC0oMCUoKSj/2wBDAQcHBwoIChMKChMoGhYaKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCj/wAARCAAIAAgDASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAb/xAAUEAEAAAAAAAAAAAAAAAAAAAAA/8QAFAEBAAAAAAAAAAAAAAAAAAAABv/EABQRAQAAAAAAAAAAAAAAAAAAAAD/2gAMAwEAAhEDEQA/AJMAxHH/2Q==",
  "base64",
);

/** The bench's own admin account (seeded markets have none); removed by cleanupWrites. */
export const BENCH_ADMIN_EMAIL = "far-admin@bench.culturebridge.test";

export interface Actor {
  id: string;
  token: string;
}

export interface WriteWorld {
  /** direct connection to the database (setup and clean-up, never measured) */
  db: pg.Client;
  /** clients whose rate-limit state is warm on the Worker */
  clients: Actor[];
  /** coaches (user id, availability) whose tokens are warm on the Worker */
  coaches: Array<Actor & { availability: Availability }>;
  admin: Actor;
  random: () => number;
  /**
   * Shared by every target's journeys (one world for the whole run): round-robin positions and the
   * hour of the next past session, so that two targets never make the same client's or coach's
   * session at the same time (the exclusion constraints).
   */
  cursors: { client: number; coach: number; reviewHour: number };
}

export function newCursors(): WriteWorld["cursors"] {
  return { client: 0, coach: 0, reviewHour: 0 };
}

export interface WriteRow {
  operation: string;
  p50: number;
  p99: number;
  requests: number;
  errors: number;
  statuses: Record<string, number>;
  /** X-DB-Queries of the recorded requests (the most frequent value; null when the header was missing) */
  statements: number | null;
}

interface Sample {
  ms: number;
  status: number;
  statements: number | null;
}

/** What the journeys made or changed, for cleanupWrites. */
export interface Created {
  bookings: Set<string>;
  posts: Set<string>;
  /** coach_profiles rating columns before the first review (restored verbatim) */
  coachRatings: Map<string, { review_count: number; rating_sum: number; rating: string | null; imported_rating: string | null }>;
  /** client_profiles.photo_url before the first upload */
  photoUrls: Map<string, string | null>;
  since: Date;
}

export function newCreated(): Created {
  return { bookings: new Set(), posts: new Set(), coachRatings: new Map(), photoUrls: new Map(), since: new Date() };
}

type Body = { json: unknown } | { form: FormData } | undefined;

interface Answer {
  status: number;
  ms: number;
  statements: number | null;
  // biome-ignore lint/suspicious/noExplicitAny: the answers are read by field name only (id), checked by status
  body: any;
}

async function call(base: string, method: string, target: string, token: string, body?: Body): Promise<Answer> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  let payload: string | FormData | undefined;
  if (body && "json" in body) {
    headers["content-type"] = "application/json";
    payload = JSON.stringify(body.json);
  } else if (body) payload = body.form;
  const t0 = performance.now();
  const response = await fetch(`${base}${target}`, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
  const text = await response.text();
  const ms = performance.now() - t0;
  const header = response.headers.get("x-db-queries");
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON (a 204, or an error page): kept as text for the log
  }
  return { status: response.status, ms, statements: header === null ? null : Number(header), body: parsed };
}

/** One journey: `run` makes one iteration's requests, recording the measured ones through `step`. */
export interface Journey {
  name: string;
  /** operations in the order they are reported */
  operations: string[];
  /** pairs reported as a sum per iteration: [name, ...operations] */
  sums?: Array<[string, ...string[]]>;
  run: (step: Step) => Promise<void>;
}

/** Runs one request as `operation`; throws (ending the iteration) when the status is not `expected`. */
type Step = (operation: string, method: string, target: string, token: string, expected: number, body?: Body) => Promise<Answer>;

class Unexpected extends Error {}

/** The free-slot view a client makes before it books (reported on its own, not in the pair). */
const VIEW_SLOTS = "GET /booking/coach/{id}/availability (before booking)";

export function writeJourneys(world: WriteWorld, created: Created): Journey[] {
  const { random, cursors } = world;
  /** Round-robin: each client has at most a few unpaid bookings (the API's limit is 3). */
  const nextClient = () => world.clients[cursors.client++ % world.clients.length]!;
  const nextCoach = () => world.coaches[cursors.coach++ % world.coaches.length]!;
  const slot = (coach: { availability: Availability }) =>
    (
      randomSlot(coach.availability, 60, Date.now(), random) ?? new Date(Date.now() + (10 + random() * 100) * 86_400_000)
    ).toISOString();

  /**
   * As the client app books: the coach's free slots first (contract v2), then one of them. The
   * view is its own operation (a read: 1 statement, 0 on an edge hit); the Worker keeps the coach
   * it read, so the booking right after it can be one statement (bookable-coach-memo.ts).
   */
  const startOf = new Map<string, string>();
  const book = async (step: Step, client: Actor, coach: Actor & { availability: Availability }, operation = "POST /booking") => {
    const view = await step(
      `${VIEW_SLOTS}${operation === "POST /booking" ? "" : " (setup)"}`,
      "GET",
      `/booking/coach/${coach.id}/availability?duration_minutes=60`,
      client.token,
      200,
    );
    // A slot at least two days ahead: a client may reschedule only >= 24 h before the start.
    const listed = ((view.body.available_slots as Array<{ start: string }> | undefined) ?? []).filter(
      (free) => Date.parse(free.start) > Date.now() + 2 * 86_400_000,
    );
    const chosen = listed.length > 0 ? listed[Math.floor(random() * listed.length)]!.start : slot(coach);
    const answer = await step(operation, "POST", "/booking", client.token, 201, {
      json: { coach_id: coach.id, session_datetime: chosen, duration_minutes: 60 },
    });
    created.bookings.add(answer.body.id as string);
    startOf.set(answer.body.id as string, chosen);
    return answer.body.id as string;
  };
  /** Another start for a booking: the API refuses a reschedule to the time it already has (400). */
  const otherSlot = (coach: { availability: Availability }, bookingId: string) => {
    let target = slot(coach);
    for (let attempt = 0; attempt < 20 && Date.parse(target) === Date.parse(startOf.get(bookingId) ?? ""); attempt++)
      target = slot(coach);
    return target;
  };

  return [
    {
      name: "book and cancel",
      operations: [VIEW_SLOTS, "POST /booking", "DELETE /booking/{id}"],
      sums: [["POST /booking + DELETE /booking/{id}", "POST /booking", "DELETE /booking/{id}"]],
      run: async (step) => {
        const client = nextClient();
        const id = await book(step, client, nextCoach());
        await step("DELETE /booking/{id}", "DELETE", `/booking/${id}`, client.token, 204);
      },
    },
    {
      name: "book, confirm, reschedule",
      operations: ["PATCH /booking/{id}/status (coach confirms)", "POST /booking/{id}/reschedule"],
      run: async (step) => {
        const client = nextClient();
        const coach = nextCoach();
        const id = await book(step, client, coach, "POST /booking (setup)");
        await step("PATCH /booking/{id}/status (coach confirms)", "PATCH", `/booking/${id}/status`, coach.token, 200, {
          json: { status: "confirmed" },
        });
        await step("POST /booking/{id}/reschedule", "POST", `/booking/${id}/reschedule`, client.token, 200, {
          json: { session_datetime: otherSlot(coach, id) },
        });
      },
    },
    {
      name: "checkout",
      operations: ["POST /payment/checkout"],
      run: async (step) => {
        const client = nextClient();
        const id = await book(step, client, nextCoach(), "POST /booking (setup)");
        await step("POST /payment/checkout", "POST", "/payment/checkout", client.token, 200, { json: { booking_id: id } });
      },
    },
    {
      name: "review",
      operations: ["POST /booking/{id}/review"],
      run: async (step) => {
        // A session that ended days ago (inside the review window), made directly in the database:
        // the seeded completed bookings are from 2024, past the window.
        const client = nextClient();
        const coach = nextCoach();
        if (!created.coachRatings.has(coach.id)) {
          const before = await world.db.query<{
            review_count: number;
            rating_sum: number;
            rating: string | null;
            imported_rating: string | null;
          }>(`select review_count, rating_sum, rating, imported_rating from coach_profiles where user_id = $1`, [coach.id]);
          if (before.rows[0]) created.coachRatings.set(coach.id, before.rows[0]);
        }
        const inserted = await world.db.query<{ id: string }>(
          `insert into bookings (client_id, coach_id, session_datetime, duration_minutes, status)
           values ($1, $2, date_trunc('hour', now()) - interval '3 days' - $3 * interval '2 hours', 60, 'completed') returning id`,
          [client.id, coach.id, cursors.reviewHour++],
        );
        const id = inserted.rows[0]!.id;
        created.bookings.add(id);
        await step("POST /booking/{id}/review", "POST", `/booking/${id}/review`, client.token, 201, {
          json: { rating: 4 + Math.floor(random() * 2), comment: "Practical and candid." },
        });
      },
    },
    {
      name: "profile",
      operations: ["PUT /profile (client)", "POST /profile/photo (client, JPEG)"],
      run: async (step) => {
        const client = nextClient();
        const before = await world.db.query<{ photo_url: string | null; first_name: string | null }>(
          `select photo_url, first_name from client_profiles where user_id = $1`,
          [client.id],
        );
        if (!created.photoUrls.has(client.id)) created.photoUrls.set(client.id, before.rows[0]?.photo_url ?? null);
        // A harmless change: the client's first name, set to what it is (the row is still written, and its updated_at).
        await step("PUT /profile (client)", "PUT", "/profile", client.token, 200, {
          json: { first_name: before.rows[0]?.first_name ?? "Ana" },
        });
        const form = new FormData();
        form.append("photo", new Blob([JPEG], { type: "image/jpeg" }), "me.jpg");
        await step("POST /profile/photo (client, JPEG)", "POST", "/profile/photo", client.token, 200, { form });
      },
    },
    {
      name: "community",
      operations: ["POST /community/posts", "POST /community/posts/{id}/comment"],
      run: async (step) => {
        const author = nextClient();
        const post = await step("POST /community/posts", "POST", "/community/posts", author.token, 201, {
          json: { title: "Far bench: opening a bank account", content: "Which documents did you need?", post_type: "question" },
        });
        created.posts.add(post.body.id as string);
        await step(
          "POST /community/posts/{id}/comment",
          "POST",
          `/community/posts/${post.body.id}/comment`,
          nextClient().token,
          201,
          {
            json: { content: "A passport and a rental contract." },
          },
        );
      },
    },
    {
      name: "admin",
      operations: ["PATCH /admin/users/{id}"],
      run: async (step) => {
        // Seeded clients are verified: setting it again changes nothing but updated_at (and writes the audit entry).
        await step("PATCH /admin/users/{id}", "PATCH", `/admin/users/${nextClient().id}`, world.admin.token, 200, {
          json: { email_verified: true },
        });
      },
    },
  ];
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round(sorted[index]! * 10) / 10;
}

function mostFrequent(values: Array<number | null>): number | null {
  const counts = new Map<number | null, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  let best: number | null = null;
  let bestCount = -1;
  for (const [value, count] of counts) if (count > bestCount) [best, bestCount] = [value, count];
  return best;
}

export interface DriveOptions {
  seconds: number;
  minIterations: number;
  maxIterations: number;
  warmupIterations: number;
  log: (line: string) => void;
}

/** One target's recording of one journey: its samples per operation, its failures. */
class Recorder {
  readonly samples = new Map<string, Sample[]>();
  readonly errors = new Map<string, { count: number; statuses: Record<string, number> }>();
  iterationSamples = new Map<string, Sample>();
  recording = false;
  iterations = 0;
  failed = 0;

  readonly base: string;
  readonly journey: Journey;
  readonly log: (line: string) => void;

  // Plain fields, no parameter properties: the script runs under Node's type stripping.
  constructor(base: string, journey: Journey, log: (line: string) => void) {
    this.base = base;
    this.journey = journey;
    this.log = log;
  }

  readonly step: Step = async (operation, method, target, token, expected, body) => {
    const answer = await call(this.base, method, target, token, body);
    if (this.recording) {
      const error = this.errors.get(operation) ?? { count: 0, statuses: {} };
      error.statuses[answer.status] = (error.statuses[answer.status] ?? 0) + 1;
      if (answer.status !== expected) error.count++;
      this.errors.set(operation, error);
    }
    if (answer.status !== expected) {
      this.log(`  ${this.journey.name}: ${operation} answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 240)}`);
      throw new Unexpected(operation);
    }
    this.iterationSamples.set(operation, { ms: answer.ms, status: answer.status, statements: answer.statements });
    return answer;
  };

  /** One iteration; its samples are kept only when every step answered as expected. */
  async iterate(): Promise<void> {
    this.iterationSamples = new Map();
    if (this.recording) this.iterations++;
    try {
      await this.journey.run(this.step);
    } catch (error) {
      if (!(error instanceof Unexpected)) throw error;
      if (this.recording) this.failed++;
      return;
    }
    if (!this.recording) return;
    const keep = (operation: string, sample: Sample) => {
      const list = this.samples.get(operation) ?? [];
      list.push(sample);
      this.samples.set(operation, list);
    };
    for (const [operation, sample] of this.iterationSamples) keep(operation, sample);
    for (const [name, ...parts] of this.journey.sums ?? []) {
      const partSamples = parts.map((part) => this.iterationSamples.get(part));
      if (partSamples.some((sample) => !sample)) continue;
      keep(name, {
        ms: partSamples.reduce((sum, sample) => sum + sample!.ms, 0),
        status: 200,
        statements: partSamples.some((sample) => sample!.statements === null)
          ? null
          : partSamples.reduce((sum, sample) => sum + sample!.statements!, 0),
      });
    }
  }

  rows(): WriteRow[] {
    const reported = [...this.journey.operations, ...(this.journey.sums ?? []).map(([name]) => name)];
    return reported.map((operation) => {
      const list = this.samples.get(operation) ?? [];
      const sorted = list.map((sample) => sample.ms).sort((a, b) => a - b);
      const error = this.errors.get(operation);
      return {
        operation,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        requests: list.length,
        errors: error?.count ?? 0,
        statuses: error?.statuses ?? {},
        statements: mostFrequent(list.map((sample) => sample.statements)),
      };
    });
  }
}

export interface WriteTarget {
  label: string;
  base: string;
  journeys: Journey[];
}

/**
 * Runs every journey against every target, one request at a time, the targets taking turns
 * iteration by iteration: on a shared machine the load drifts within seconds, and the rtt-0 and
 * rtt-50 figures of one operation are then taken under the same load. Returns, per target, one
 * row per operation (and per sum), in the journeys' order.
 */
export async function driveWrites(targets: WriteTarget[], options: DriveOptions): Promise<WriteRow[][]> {
  const rows: WriteRow[][] = targets.map(() => []);
  const count = Math.min(...targets.map((target) => target.journeys.length));
  for (let index = 0; index < count; index++) {
    const recorders = targets.map((target) => new Recorder(target.base, target.journeys[index]!, options.log));
    const t0 = Date.now();
    const seconds = options.seconds * targets.length;
    for (let warm = 0; warm < options.warmupIterations; warm++) for (const recorder of recorders) await recorder.iterate();
    for (const recorder of recorders) recorder.recording = true;
    let rounds = 0;
    while (
      rounds < options.maxIterations &&
      (rounds < options.minIterations || Date.now() - t0 < seconds * 1000) &&
      // a hard bound whatever happens (a slow or failing journey)
      Date.now() - t0 < seconds * 4000
    ) {
      rounds++;
      for (const recorder of recorders) await recorder.iterate();
    }
    recorders.forEach((recorder, at) => {
      const journeyRows = recorder.rows();
      rows[at]!.push(...journeyRows);
      options.log(
        `  [${targets[at]!.label}] ${recorder.journey.name}: ${recorder.iterations} iterations (${recorder.failed} failed): ` +
          journeyRows.map((row) => `${row.operation} p50 ${row.p50} ms (${row.statements ?? "?"} statements)`).join(", "),
      );
    });
    options.log(`  ${recorders[0]!.journey.name}: ${rounds} rounds in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  return rows;
}

/** The bench admin (inserted once; its password hash matches nothing: only signed tokens are used). */
export async function ensureBenchAdmin(db: pg.Client): Promise<string> {
  const result = await db.query<{ id: string }>(
    `insert into users (email, password_hash, role, is_active, email_verified)
     values ($1, '!far-bench-no-login', 'admin', true, true)
     on conflict (email) do update set role = 'admin', is_active = true
     returning id`,
    [BENCH_ADMIN_EMAIL],
  );
  return result.rows[0]!.id;
}

/** Removes the bench admin and the audit entries it wrote. */
export async function removeBenchAdmin(db: pg.Client, adminId: string): Promise<void> {
  await db.query(`delete from audit_log where actor_id = $1`, [adminId]);
  await db.query(`delete from users where id = $1`, [adminId]);
}

/** Removes what the journeys made and restores what they changed on seeded rows. */
export async function cleanupWrites(db: pg.Client, created: Created): Promise<void> {
  const bookings = [...created.bookings];
  await db.query("begin");
  try {
    await db.query(`delete from reviews where booking_id = any($1::uuid[])`, [bookings]);
    await db.query(`delete from payments where booking_id = any($1::uuid[])`, [bookings]);
    await db.query(`delete from bookings where id = any($1::uuid[])`, [bookings]);
    await db.query(`delete from posts where id = any($1::uuid[])`, [[...created.posts]]);
    for (const [coachId, before] of created.coachRatings)
      await db.query(
        `update coach_profiles set review_count = $2, rating_sum = $3, rating = $4, imported_rating = $5 where user_id = $1`,
        [coachId, before.review_count, before.rating_sum, before.rating, before.imported_rating],
      );
    for (const [clientId, photoUrl] of created.photoUrls)
      await db.query(`update client_profiles set photo_url = $2 where user_id = $1`, [clientId, photoUrl]);
    await db.query(`delete from email_outbox where created_at >= $1 and to_address like '%@bench.culturebridge.test'`, [
      created.since,
    ]);
    await db.query("commit");
  } catch (error) {
    await db.query("rollback");
    throw error;
  }
}
