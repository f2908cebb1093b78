import { afterAll, describe, expect, it } from "vitest";
import { closeTestPool, isRealPostgres, query, testPool } from "../helpers/db.ts";
import { createClient, createCoach, createUser } from "../helpers/fixtures.ts";

afterAll(closeTestPool);

const SEED_TABLES: Record<string, string[]> = {
  users: ["id", "email", "password_hash", "role", "is_active", "email_verified", "created_at", "updated_at"],
  client_profiles: [
    "id",
    "user_id",
    "first_name",
    "last_name",
    "photo_url",
    "phone",
    "timezone",
    "quiz_data",
    "preferences",
    "created_at",
    "updated_at",
  ],
  coach_profiles: [
    "id",
    "user_id",
    "first_name",
    "last_name",
    "photo_url",
    "bio",
    "intro_video_url",
    "expertise",
    "languages",
    "countries",
    "hourly_rate",
    "currency",
    "availability",
    "rating",
    "total_sessions",
    "is_verified",
    "created_at",
    "updated_at",
  ],
  bookings: [
    "id",
    "client_id",
    "coach_id",
    "session_datetime",
    "duration_minutes",
    "status",
    "payment_id",
    "meeting_link",
    "notes",
    "created_at",
    "updated_at",
  ],
  payments: [
    "id",
    "booking_id",
    "amount",
    "currency",
    "status",
    "stripe_session_id",
    "stripe_payment_intent_id",
    "created_at",
    "updated_at",
  ],
  posts: ["id", "author_id", "title", "content", "post_type", "is_private", "upvotes", "created_at", "updated_at"],
  comments: ["id", "post_id", "author_id", "content", "created_at"],
  resources: ["id", "title", "description", "resource_type", "url", "tags", "created_by", "created_at"],
  bookmarks: ["id", "user_id", "resource_id", "created_at"],
  match_cache: ["id", "client_id", "match_results", "expires_at", "created_at"],
};

describe("the seed's schema", () => {
  it("has the ten tables with their columns", async () => {
    const rows = await query<{ table_name: string; column_name: string }>(
      `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'`,
    );
    for (const [table, columns] of Object.entries(SEED_TABLES)) {
      const present = rows.filter((row) => row.table_name === table).map((row) => row.column_name);
      expect(present, table).toEqual(expect.arrayContaining(columns));
    }
  });

  it("has the five enums with their values", async () => {
    const rows = await query<{ typname: string; labels: string[] }>(
      `SELECT t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder)::text[] AS labels
       FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname`,
    );
    const enums = Object.fromEntries(rows.map((row) => [row.typname, row.labels]));
    expect(enums).toMatchObject({
      user_role: ["client", "coach", "admin"],
      booking_status: ["pending", "confirmed", "completed", "cancelled"],
      payment_status: ["pending", "succeeded", "failed", "refunded"],
      post_type: ["discussion", "question", "announcement"],
      resource_type: ["article", "video", "document"],
    });
  });

  it("has the six indexes, the languages one USING gin and the email one unique", async () => {
    const rows = await query<{ tablename: string; indexdef: string }>(
      `SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'public'`,
    );
    const defs = rows.map((row) => row.indexdef);
    expect(defs.some((d) => /UNIQUE INDEX .* ON public\.users USING btree \(email\)/.test(d))).toBe(true);
    expect(defs.some((d) => /ON public\.bookings USING btree \(client_id\)/.test(d))).toBe(true);
    expect(defs.some((d) => /ON public\.bookings USING btree \(coach_id\)/.test(d))).toBe(true);
    expect(defs.some((d) => /ON public\.bookings USING btree \(session_datetime\)/.test(d))).toBe(true);
    expect(defs.some((d) => /ON public\.posts USING btree \(created_at\)/.test(d))).toBe(true);
    expect(defs.some((d) => /ON public\.coach_profiles USING gin \(languages\)/.test(d))).toBe(true);
  });

  it("has the booking exclusion constraints on btree_gist", async () => {
    const rows = await query<{ conname: string; def: string }>(
      `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE contype = 'x' AND conrelid = 'bookings'::regclass`,
    );
    expect(rows.map((row) => row.conname).sort()).toEqual(["bookings_client_no_overlap", "bookings_coach_no_overlap"]);
    expect(rows[0]?.def).toContain("EXCLUDE USING gist");
    const ext = await query(`SELECT 1 FROM pg_extension WHERE extname = 'btree_gist'`);
    expect(ext).toHaveLength(1);
  });
});

describe("cascades", () => {
  it("deleting a user removes the profiles, posts, comments and bookmarks", async () => {
    const client = await createClient();
    const other = await createUser("client");
    const [post] = await query<{ id: string }>(
      `INSERT INTO posts (author_id, title, content) VALUES ($1, 't', 'c') RETURNING id`,
      [client.id],
    );
    const [otherPost] = await query<{ id: string }>(
      `INSERT INTO posts (author_id, title, content) VALUES ($1, 't', 'c') RETURNING id`,
      [other.id],
    );
    await query(`INSERT INTO comments (post_id, author_id, content) VALUES ($1, $2, 'mine on other')`, [
      otherPost?.id,
      client.id,
    ]);
    const [resource] = await query<{ id: string }>(
      `INSERT INTO resources (title, resource_type) VALUES ('r', 'article') RETURNING id`,
    );
    await query(`INSERT INTO bookmarks (user_id, resource_id) VALUES ($1, $2)`, [client.id, resource?.id]);

    await query(`DELETE FROM users WHERE id = $1`, [client.id]);

    expect(await query(`SELECT 1 FROM client_profiles WHERE user_id = $1`, [client.id])).toHaveLength(0);
    expect(await query(`SELECT 1 FROM posts WHERE id = $1`, [post?.id])).toHaveLength(0);
    expect(await query(`SELECT 1 FROM comments WHERE author_id = $1`, [client.id])).toHaveLength(0);
    expect(await query(`SELECT 1 FROM bookmarks WHERE user_id = $1`, [client.id])).toHaveLength(0);
    expect(await query(`SELECT 1 FROM posts WHERE id = $1`, [otherPost?.id])).toHaveLength(1);
  });

  it("deleting a coach user removes the coach profile", async () => {
    const coach = await createCoach();
    await query(`DELETE FROM users WHERE id = $1`, [coach.id]);
    expect(await query(`SELECT 1 FROM coach_profiles WHERE user_id = $1`, [coach.id])).toHaveLength(0);
  });

  it("deleting a post removes its comments; deleting a resource removes its bookmarks", async () => {
    const user = await createUser("client");
    const [post] = await query<{ id: string }>(
      `INSERT INTO posts (author_id, title, content) VALUES ($1, 't', 'c') RETURNING id`,
      [user.id],
    );
    await query(`INSERT INTO comments (post_id, author_id, content) VALUES ($1, $2, 'x')`, [post?.id, user.id]);
    await query(`DELETE FROM posts WHERE id = $1`, [post?.id]);
    expect(await query(`SELECT 1 FROM comments WHERE post_id = $1`, [post?.id])).toHaveLength(0);

    const [resource] = await query<{ id: string }>(
      `INSERT INTO resources (title, resource_type) VALUES ('r', 'video') RETURNING id`,
    );
    await query(`INSERT INTO bookmarks (user_id, resource_id) VALUES ($1, $2)`, [user.id, resource?.id]);
    await query(`DELETE FROM resources WHERE id = $1`, [resource?.id]);
    expect(await query(`SELECT 1 FROM bookmarks WHERE resource_id = $1`, [resource?.id])).toHaveLength(0);
  });
});

describe("the exclusion constraint", () => {
  it("refuses an overlapping pending booking of the same coach with 23P01 and allows back-to-back", async () => {
    const coach = await createCoach();
    const clientA = await createUser("client");
    const clientB = await createUser("client");
    const start = new Date(Date.now() + 10 * 86_400_000);
    start.setUTCHours(10, 0, 0, 0);
    await query(`INSERT INTO bookings (client_id, coach_id, session_datetime, duration_minutes) VALUES ($1, $2, $3, 60)`, [
      clientA.id,
      coach.id,
      start,
    ]);
    const overlapping = new Date(start.getTime() + 15 * 60_000);
    await expect(
      query(`INSERT INTO bookings (client_id, coach_id, session_datetime, duration_minutes) VALUES ($1, $2, $3, 60)`, [
        clientB.id,
        coach.id,
        overlapping,
      ]),
    ).rejects.toMatchObject({ code: "23P01" });
    const backToBack = new Date(start.getTime() + 60 * 60_000);
    await query(`INSERT INTO bookings (client_id, coach_id, session_datetime, duration_minutes) VALUES ($1, $2, $3, 30)`, [
      clientB.id,
      coach.id,
      backToBack,
    ]);
    // a cancelled booking frees its slot
    await query(`UPDATE bookings SET status = 'cancelled' WHERE coach_id = $1 AND session_datetime = $2`, [coach.id, start]);
    await query(`INSERT INTO bookings (client_id, coach_id, session_datetime, duration_minutes) VALUES ($1, $2, $3, 30)`, [
      clientA.id,
      coach.id,
      overlapping,
    ]);
    // the client's own bookings may not overlap either, whatever the coach
    const otherCoach = await createCoach();
    await expect(
      query(`INSERT INTO bookings (client_id, coach_id, session_datetime, duration_minutes) VALUES ($1, $2, $3, 60)`, [
        clientA.id,
        otherCoach.id,
        overlapping,
      ]),
    ).rejects.toMatchObject({ code: "23P01" });
  });

  it.runIf(isRealPostgres())("keeps exactly one of 20 concurrent inserts of the same coach slot (real Postgres)", async () => {
    const coach = await createCoach();
    const clients = await Promise.all(Array.from({ length: 20 }, () => createUser("client")));
    const start = new Date(Date.now() + 20 * 86_400_000);
    start.setUTCHours(9, 0, 0, 0);
    const pool = testPool();
    const results = await Promise.allSettled(
      clients.map((client) =>
        pool.query(`INSERT INTO bookings (client_id, coach_id, session_datetime, duration_minutes) VALUES ($1, $2, $3, 60)`, [
          client.id,
          coach.id,
          start,
        ]),
      ),
    );
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    const codes = rejected.map((r) => (r.reason as { code?: string }).code ?? String(r.reason));
    expect(
      results.filter((r) => r.status === "fulfilled"),
      `rejections: ${codes.join(",")}`,
    ).toHaveLength(1);
    // 23P01 = exclusion violation; under contention Postgres may also break a
    // wait cycle between the waiting inserts with 40P01 (deadlock): both refuse.
    expect(
      codes.every((code) => code === "23P01" || code === "40P01"),
      codes.join(","),
    ).toBe(true);
    expect(await query(`SELECT 1 FROM bookings WHERE coach_id = $1`, [coach.id])).toHaveLength(1);
  });
});
