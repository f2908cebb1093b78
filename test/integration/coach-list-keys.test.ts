/**
 * coach_list_keys (issue 14, GET /coaches at scale): the list's keys follow every write of a
 * coach profile or of its user (triggers, migration coach_list_keys_sync), and the list statement
 * that reads them (coachListSql) returns exactly what the plain query over coach_profiles and
 * users returns — same coaches, same order, same total — for every kind of filter, before and
 * after inserts, updates, deactivation, role changes and deletes.
 *
 * Each test uses a language and countries of its own, so the shared test database's other coaches
 * never match; the whole-table invariant is checked in one statement (one snapshot).
 */
import { PgDialect } from "drizzle-orm/pg-core";
import { afterAll, describe, expect, it } from "vitest";
import {
  type CoachFilters,
  type CoachListRow,
  coachListSql,
  coachPageRowsSql,
  filterKey,
  listKey,
  pageBodyFromRows,
  toCoachListItem,
} from "../../src/services/coaches.ts";
import { get } from "../helpers/api.ts";
import { closeTestPool, query, testPool } from "../helpers/db.ts";
import { createClient, createCoach } from "../helpers/fixtures.ts";

afterAll(closeTestPool);

const dialect = new PgDialect();
const tag = (prefix: string) => `${prefix}${crypto.randomUUID().replace(/-/g, "").slice(0, 10)}`;

/**
 * The route's statement, run as the route runs it: the answer's JSON text. A pure filter has two
 * forms (warm backends: one function call; fresh backends: rows the Worker joins): both are run
 * and must give the same bytes.
 */
async function bodyOf(filters: CoachFilters, skip = 0, limit = 100): Promise<string> {
  const statement = dialect.sqlToQuery(coachListSql(filters, { skip, limit }, await filterKey(filters)));
  const rows = await query<{ body: string }>(statement.sql, statement.params);
  expect(rows).toHaveLength(1);
  const body = rows[0]!.body;
  if (listKey(filters).pure) {
    const fresh = dialect.sqlToQuery(coachPageRowsSql(filters, { skip, limit }));
    const pageRows = await query<{ total: number; item: string | null }>(fresh.sql, fresh.params);
    expect(pageBodyFromRows(pageRows, { skip, limit }), `fresh-backend form of ${JSON.stringify(filters)}`).toBe(body);
  }
  return body;
}

/** ... its ids in order and the total. */
async function viaKeys(filters: CoachFilters, skip = 0, limit = 100): Promise<{ ids: string[]; total: number }> {
  const page = JSON.parse(await bodyOf(filters, skip, limit)) as { items: Array<{ id: string }>; total: number };
  return { ids: page.items.map((item) => item.id), total: page.total };
}

/** The list's definition, written plainly over coach_profiles and users (what the statement did before). */
async function plain(filters: CoachFilters, skip = 0, limit = 100): Promise<{ ids: string[]; total: number }> {
  const params: unknown[] = [];
  const p = (value: unknown) => `$${params.push(value)}`;
  const where = [`u.is_active`, `u.role = 'coach'`, `cp.hourly_rate is not null`];
  if (filters.languages?.length) where.push(`cp.languages @> ${p(filters.languages)}::text[]`);
  if (filters.countries?.length) where.push(`cp.countries @> ${p(filters.countries)}::text[]`);
  if (filters.expertise?.length) where.push(`cp.expertise @> ${p(filters.expertise)}::text[]`);
  if (filters.minRate !== undefined) where.push(`cp.hourly_rate >= ${p(filters.minRate)}`);
  if (filters.maxRate !== undefined) where.push(`cp.hourly_rate <= ${p(filters.maxRate)}`);
  if (filters.minRating !== undefined) where.push(`cp.rating >= ${p(filters.minRating)}`);
  if (filters.verified !== undefined) where.push(`cp.is_verified = ${p(filters.verified)}`);
  if (filters.words?.length) {
    where.push(
      `coach_search_vector(cp.first_name, cp.last_name, cp.bio, cp.expertise) @@ to_tsquery('simple', ${p(
        filters.words.map((word) => `${word}:*`).join(" & "),
      )})`,
    );
  }
  const rows = await query<{ id: string }>(
    `select cp.id from coach_profiles cp join users u on u.id = cp.user_id where ${where.join(" and ")}
      order by cp.rating desc, cp.total_sessions desc, cp.id`,
    params,
  );
  const ids = rows.map((row) => row.id);
  return { ids: ids.slice(skip, skip + limit), total: ids.length };
}

/** coach_list_keys equals its definition over the whole table (missing and extra rows, one snapshot). */
async function expectKeysExact(): Promise<void> {
  const [result] = await query<{ missing: string; extra: string }>(
    `with expected as (
       select l.language, c.country, cp.rating, cp.total_sessions, cp.id as coach_id
         from coach_profiles cp
         join users u on u.id = cp.user_id
         cross join lateral (select distinct x from unnest(array[''] || cp.languages) x
                              where x = '' or length(x) between 1 and 100) l(language)
         cross join lateral (select distinct x from unnest(array[''] || cp.countries) x
                              where x = '' or length(x) between 1 and 100) c(country)
        where u.is_active and u.role = 'coach' and cp.hourly_rate is not null),
     actual as (select language, country, rating, total_sessions, coach_id from coach_list_keys)
     select (select count(*) from (select * from expected except all select * from actual) m) as missing,
            (select count(*) from (select * from actual except all select * from expected) e) as extra`,
  );
  expect(result).toEqual({ missing: "0", extra: "0" });
  await expectTotalsExact();
}

/** coach_list_totals equals the sizes of coach_list_keys' ranges (a range without rows may keep a 0). */
async function expectTotalsExact(): Promise<void> {
  const wrong = await query<{ language: string; country: string; stored: number | null; actual: string | null }>(
    `with actual as (select language, country, count(*) as n from coach_list_keys group by language, country)
     select coalesce(t.language, a.language) as language, coalesce(t.country, a.country) as country,
            t.coaches as stored, a.n::text as actual
       from coach_list_totals t full join actual a on a.language = t.language and a.country = t.country
      where coalesce(t.coaches, 0) <> coalesce(a.n, 0)`,
  );
  expect(wrong).toEqual([]);
}

describe("coach_list_keys and the list statement", () => {
  it("agree with the plain query for every kind of filter, through inserts, updates, deactivation and deletes", async () => {
    const [l1, l2] = [tag("Lingua"), tag("Lingua")];
    const [c1, c2] = [tag("Terra"), tag("Terra")];
    const word = tag("zq");
    // Ties on rating and on sessions, so that the id decides some places.
    const coaches = [];
    for (let i = 0; i < 14; i++) {
      const coach = await createCoach({
        languages: i % 3 === 0 ? [l1] : i % 3 === 1 ? [l1, l2] : [l2, "English"],
        countries: i % 4 === 0 ? [c1] : i % 4 === 1 ? [c1, c2, c1] : [c2],
        expertise: i % 2 === 0 ? [`Career ${word}`] : ["Family relocation"],
        rating: 3 + (i % 4) * 0.5,
        hourlyRate: 50 + (i % 5) * 20,
      });
      coaches.push(coach);
      if (i % 3 === 0) await query("update coach_profiles set is_verified = true where id = $1", [coach.profileId]);
      if (i % 2 === 1) await query("update coach_profiles set total_sessions = $2 where id = $1", [coach.profileId, i % 5]);
    }
    const combos: CoachFilters[] = [
      { languages: [l1] },
      { countries: [c1] },
      { languages: [l1], countries: [c1] },
      { languages: [l2], countries: [c2] },
      { languages: [l1, l2], countries: [c1] },
      { languages: [l2], countries: [c1, c2] },
      { languages: [l1], expertise: ["Family relocation"] },
      { countries: [c2], verified: true },
      { countries: [c2], verified: false },
      { countries: [c1], minRating: 4 },
      { languages: [l2], minRate: 60, maxRate: 110 },
      { countries: [c2], words: [word] },
      { languages: [l1], countries: [c2], words: ["career"], minRating: 3.5 },
      { countries: [c1, "x".repeat(101)] },
      { languages: ["Nolanguage"], countries: [c1] },
    ];
    const check = async (step: string) => {
      await expectKeysExact();
      for (const filters of combos) {
        const expected = await plain(filters);
        expect(await viaKeys(filters), `${step}: ${JSON.stringify(filters)}`).toEqual(expected);
        // a later page, as the bench's misses ask for
        expect(await viaKeys(filters, 2, 3), `${step} page: ${JSON.stringify(filters)}`).toEqual(await plain(filters, 2, 3));
      }
    };
    await check("created");
    expect((await plain({ countries: [c1] })).total).toBeGreaterThan(5);

    const [a, b, c, d, e, f] = coaches.map((coach) => coach.profileId!);
    // a review or a completed session moves a coach in the order
    await query("update coach_profiles set rating = 4.99, total_sessions = total_sessions + 3 where id = $1", [a]);
    // new languages and countries (duplicates, an empty string and a 101-character value included)
    await query(`update coach_profiles set languages = array[$2, $2, ''], countries = array[$3, $4] where id = $1`, [
      b,
      l2,
      c2,
      "y".repeat(101),
    ]);
    // no rate: not listed
    await query("update coach_profiles set hourly_rate = null where id = $1", [c]);
    await check("updated");
    // an unrelated column leaves the rows alone
    const before = await query("select ctid::text from coach_list_keys where coach_id = $1 order by 1", [d]);
    await query("update coach_profiles set bio = 'Another bio', photo_url = 'https://example.test/p.png' where id = $1", [d]);
    expect(await query("select ctid::text from coach_list_keys where coach_id = $1 order by 1", [d])).toEqual(before);

    // the user: deactivated, role changed, reactivated
    await query("update users set is_active = false where id = $1", [coaches[3]!.id]);
    await query("update users set role = 'client' where id = $1", [coaches[4]!.id]);
    await check("deactivated");
    expect(await query("select 1 from coach_list_keys where coach_id = any($1)", [[d, e]])).toEqual([]);
    await query("update users set is_active = true where id = $1", [coaches[3]!.id]);
    await query("update users set role = 'coach' where id = $1", [coaches[4]!.id]);
    await query("update coach_profiles set hourly_rate = 75 where id = $1", [c]);
    await check("reactivated");

    // deletes: the profile alone, and the account (cascade)
    await query("delete from coach_profiles where id = $1", [e]);
    await query("delete from users where id = $1", [coaches[5]!.id]);
    expect(await query("select 1 from coach_list_keys where coach_id = any($1)", [[e, f]])).toEqual([]);
    await check("deleted");

    // a new coach (of an inactive user until activated)
    const late = await createCoach({ languages: [l1], countries: [c1], rating: 5 });
    await check("inserted");
    expect((await viaKeys({ languages: [l1], countries: [c1] })).ids[0]).toBe(late.profileId);
  }, 120_000);
});

describe("coach_list_totals", () => {
  it("stays exact when coaches are added, hidden and deleted at the same time, and a rating change does not touch it", async () => {
    const language = tag("Lingua");
    const country = tag("Terra");
    const coaches = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        createCoach({ languages: [language, "English"], countries: i % 2 ? [country] : [country, "Japan"], rating: 4 }),
      ),
    );
    await expectTotalsExact();
    const total = async (l: string, c: string) =>
      (await query<{ coaches: number }>("select coaches from coach_list_totals where language = $1 and country = $2", [l, c]))[0]
        ?.coaches;
    expect(await total(language, country)).toBe(8);
    expect(await total(language, "")).toBe(8);

    // a review's rating and a completed session rewrite the coach's keys in place, not the totals
    const before = await query("select language, country, xmin::text from coach_list_totals where language = $1", [language]);
    await query("update coach_profiles set rating = 4.75, total_sessions = total_sessions + 1 where id = $1", [
      coaches[0]!.profileId,
    ]);
    expect(await query("select language, country, xmin::text from coach_list_totals where language = $1", [language])).toEqual(
      before,
    );
    expect((await viaKeys({ languages: [language], countries: [country] })).ids[0]).toBe(coaches[0]!.profileId);

    // concurrent changes of membership: deactivation, a language removed, a profile and an account deleted
    await Promise.all([
      query("update users set is_active = false where id = $1", [coaches[1]!.id]),
      query("update coach_profiles set languages = array['English'] where id = $1", [coaches[2]!.profileId]),
      query("delete from coach_profiles where id = $1", [coaches[3]!.profileId]),
      query("delete from users where id = $1", [coaches[4]!.id]),
      query("update coach_profiles set countries = array[$2, 'Japan'] where id = $1", [coaches[5]!.profileId, country]),
    ]);
    await expectTotalsExact();
    expect(await total(language, country)).toBe(4);
    expect(await total(language, "Japan")).toBe(3);
    expect((await viaKeys({ languages: [language], countries: [country] })).total).toBe(4);
    // an empty page past the end still carries the total
    expect(await viaKeys({ languages: [language], countries: [country] }, 10, 5)).toEqual({ ids: [], total: 4 });
  }, 60_000);
});

describe("coach_list_totals under a multi-row INSERT", () => {
  it("updates each range's total once per statement, not once per coach (admin import batches, seeds)", async () => {
    const language = tag("Lingua");
    const country = tag("Terra");
    const client = await testPool().connect();
    try {
      await client.query("BEGIN");
      await client.query(
        `INSERT INTO users (email, role) SELECT $1 || '-' || g || '@example.test', 'coach' FROM generate_series(1, 300) g`,
        [language.toLowerCase()],
      );
      // This backend's writes to the totals, read before and after inside the transaction (the
      // counters may still hold earlier transactions' writes that were not flushed yet).
      const totalsWrites = async () =>
        Number(
          (
            await client.query<{ n: string }>(
              "SELECT (n_tup_ins + n_tup_upd)::text AS n FROM pg_stat_xact_user_tables WHERE relname = 'coach_list_totals'",
            )
          ).rows[0]?.n,
        );
      const writesBefore = await totalsWrites();
      await client.query(
        `INSERT INTO coach_profiles (user_id, languages, countries, hourly_rate, rating, total_sessions)
         SELECT id, array[$2::text], array[$3::text], 50, 4, 0 FROM users WHERE email LIKE $1 || '-%'`,
        [language.toLowerCase(), language, country],
      );
      // One write per range the 300 coaches are in ('' = any: ('', ''), ('', country), (language, ''),
      // (language, country)). Row by row it was 1,200, and each update walked the row versions the
      // earlier ones had left in this transaction (quadratic in the batch's size).
      expect((await totalsWrites()) - writesBefore).toBe(4);
      const totals = await client.query<{ language: string; country: string; coaches: number }>(
        "SELECT language, country, coaches FROM coach_list_totals WHERE language = $1 ORDER BY country",
        [language],
      );
      expect(totals.rows).toEqual([
        { language, country: "", coaches: 300 },
        { language, country, coaches: 300 },
      ]);
      const keys = await client.query<{ n: string }>("SELECT count(*)::text AS n FROM coach_list_keys WHERE language = $1", [
        language,
      ]);
      expect(keys.rows[0]?.n).toBe("600");
    } finally {
      await client.query("ROLLBACK");
      client.release();
    }
  }, 60_000);
});

describe("the answer's JSON text, built by Postgres", () => {
  it("is byte for byte JSON.stringify of the page built from the rows (escapes, numbers, nulls, order)", async () => {
    const country = tag("Bytia");
    const odd = [
      'Quote " and \\ backslash',
      "Line\nbreak\ttab\r\u0001\u001f\u007f",
      "Ünïcödé 名前 😀 \u2028\u2029 </script>",
      "",
    ];
    const cases: Array<{ rating: number; hourlyRate: number; sessions: number; reviews: number }> = [
      { rating: 4.5, hourlyRate: 99.99, sessions: 0, reviews: 0 },
      { rating: 3.33, hourlyRate: 100, sessions: 7, reviews: 3 },
      { rating: 5, hourlyRate: 40.5, sessions: 7, reviews: 1 },
      { rating: 0, hourlyRate: 25.1, sessions: 1, reviews: 0 },
      { rating: 4.5, hourlyRate: 499.99, sessions: 0, reviews: 2 },
    ];
    for (const [i, item] of cases.entries()) {
      const coach = await createCoach({
        countries: [country, odd[i % odd.length]!],
        languages: ["English", odd[(i + 1) % odd.length]!],
        expertise: [odd[(i + 2) % odd.length]!],
        firstName: odd[i % odd.length]!,
        rating: item.rating,
        hourlyRate: item.hourlyRate,
      });
      await query(
        `update coach_profiles set total_sessions = $2, review_count = $3, bio = $4, last_name = $5, photo_url = $6
          where id = $1`,
        [
          coach.profileId,
          item.sessions,
          item.reviews,
          i === 1 ? null : odd[(i + 3) % odd.length],
          i === 2 ? null : "Ng",
          i === 0 ? "https://example.test/a.png" : null,
        ],
      );
    }
    const expected = async (filters: CoachFilters, skip: number, limit: number) => {
      const { ids, total } = await plain(filters, 0, 1000);
      const rows = await query<CoachListRow>(
        `select id, user_id as "userId", first_name as "firstName", last_name as "lastName", photo_url as "photoUrl", bio,
                expertise, languages, countries, hourly_rate as "hourlyRate", currency, rating, total_sessions as "totalSessions",
                is_verified as "isVerified", review_count as "reviewCount"
           from coach_profiles where id = any($1)`,
        [ids],
      );
      const byId = new Map(rows.map((row) => [row.id, row]));
      const items = ids.slice(skip, skip + limit).map((id) => toCoachListItem(byId.get(id)!));
      return JSON.stringify({ items, total, skip, limit });
    };
    for (const filters of [{ countries: [country] }, { countries: [country], verified: false }] as CoachFilters[]) {
      for (const [skip, limit] of [
        [0, 20],
        [1, 2],
        [10, 5],
      ] as const) {
        expect(await bodyOf(filters, skip, limit), JSON.stringify({ filters, skip, limit })).toBe(
          await expected(filters, skip, limit),
        );
      }
    }
    // through the Worker: the route sends the text as it comes, as JSON
    const viewer = await createClient();
    const answer = await get(`/coaches?country=${encodeURIComponent(country)}&skip=1&limit=3`, { token: viewer.token });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.headers.get("content-type")).toMatch(/^application\/json/);
    expect(answer.text).toBe(await expected({ countries: [country] }, 1, 3));
  }, 60_000);
});
