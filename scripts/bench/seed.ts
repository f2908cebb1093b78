/**
 * The benchmark market, written by set-based SQL (INSERT ... SELECT over
 * generate_series: Postgres builds the rows itself, nothing is sent row by
 * row): 100,000 coaches and 10,000 clients with complete quizzes, 20,000
 * community posts (10 % private) with 40,000 comments, 500 resources, and
 * 20,000 past completed bookings that make private posts visible to booking
 * partners, as in real use.
 *
 * Values are derived from a hash of the row number (deterministic: every
 * seeded database is the same market). Ids are md5-derived UUIDs, so the
 * benchmark can name users without reading them back. A marker row in
 * app_counters records the seed version: an already seeded database is left
 * alone.
 */
import bcrypt from "bcryptjs";
import type pg from "pg";
import {
  CHALLENGES,
  COUNTRIES,
  EXPERTISE,
  GOALS,
  INDUSTRIES,
  FIRST_NAMES as SEED_FIRST_NAMES,
  LANGUAGE_SETS as SEED_LANGUAGE_SETS,
  LAST_NAMES as SEED_LAST_NAMES,
  WINDOWS,
  ZONES,
} from "../../drizzle/seed-data.ts";

export const SEED_VERSION = 1;
const MARKER = "bench_seed_version";

export interface MarketSize {
  coaches: number;
  clients: number;
  posts: number;
  commentsPerPost: number;
  resources: number;
  pastBookings: number;
}

export const MARKET: MarketSize = {
  coaches: 100_000,
  clients: 10_000,
  posts: 20_000,
  commentsPerPost: 2,
  resources: 500,
  pastBookings: 20_000,
};

/** The password of every seeded account (login is not benchmarked; the hash is real so it could be). */
export const BENCH_PASSWORD = "Bench#Market2026";

const sqlText = (values: readonly string[]) =>
  `array[${values.map((value) => `'${value.replace(/'/g, "''")}'`).join(",")}]::text[]`;

/** ASCII spellings of the shared names: the bench market keeps the spellings it was measured with. */
const asciiName = (name: string) => name.normalize("NFD").replace(/[^A-Za-z ]/g, "");
const FIRST_NAMES = SEED_FIRST_NAMES.map(asciiName);
const LAST_NAMES = SEED_LAST_NAMES.map(asciiName);

export { COUNTRIES };
/** Language sets as `|`-joined text (Postgres arrays of arrays must be rectangular). */
export const LANGUAGE_SETS = SEED_LANGUAGE_SETS.map((set) => set.join("|"));
const WINDOW_SETS = `'${JSON.stringify(WINDOWS)}'::jsonb`;
const TAGS = ["visa", "housing", "schooling", "taxes", "language", "networking", "healthcare", "banking", "culture", "career"];

export const coachUserId = (n: number) => `md5('bench-coach-${n}')::uuid`;

/** SQL of a pseudo-random non-negative integer from a row number and a salt. */
const h = (column: string, salt: string) => `abs(hashtext((${column})::text || '${salt}'))`;

export async function isSeeded(client: pg.ClientBase): Promise<boolean> {
  const result = await client.query<{ value: string }>(`select value from app_counters where name = $1`, [MARKER]);
  return Number(result.rows[0]?.value ?? 0) === SEED_VERSION;
}

/** Seeds the market in one transaction (all or nothing); returns the seconds it took. */
export async function seedMarket(
  client: pg.ClientBase,
  size: MarketSize = MARKET,
  log: (line: string) => void = () => {},
): Promise<number> {
  const started = Date.now();
  const passwordHash = await bcrypt.hash(BENCH_PASSWORD, 12);
  const step = async (label: string, text: string, params: unknown[] = []) => {
    const t0 = Date.now();
    const result = await client.query(text, params);
    log(`  ${label}: ${result.rowCount ?? 0} rows in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  };
  await client.query("begin");
  try {
    // A partial earlier seed (other version) is wiped: bench rows only (emails under @bench.culturebridge.test).
    await client.query(
      `delete from bookings where client_id in (select id from users where email like '%@bench.culturebridge.test')`,
    );
    await client.query(`delete from users where email like '%@bench.culturebridge.test'`);

    await step(
      "coach users",
      `insert into users (id, email, password_hash, role, is_active, email_verified, created_at, updated_at)
       select md5('bench-coach-' || g)::uuid, 'coach-' || g || '@bench.culturebridge.test', $1, 'coach', true, true,
              now() - (${h("g", "c")} % 900) * interval '1 day', now()
         from generate_series(1, $2::int) g`,
      [passwordHash, size.coaches],
    );
    await step(
      "coach profiles",
      `insert into coach_profiles (user_id, first_name, last_name, bio, expertise, languages, countries, hourly_rate, currency,
                                   availability, rating, total_sessions, is_verified)
       select md5('bench-coach-' || g)::uuid,
              (${sqlText(FIRST_NAMES)})[1 + ${h("g", "f")} % ${FIRST_NAMES.length}],
              (${sqlText(LAST_NAMES)})[1 + ${h("g", "l")} % ${LAST_NAMES.length}],
              'Intercultural coach helping people with ' || e1 || ' and ' || e2 || '. Structured, candid sessions with a practical roadmap.',
              array[e1, e2],
              string_to_array((${sqlText(LANGUAGE_SETS)})[1 + ${h("g", "lang")} % ${LANGUAGE_SETS.length}], '|'),
              array_remove(array[c1, case when c2 <> c1 then c2 end], null),
              40 + (${h("g", "rate")} % 37) * 10,
              'USD',
              jsonb_build_object('timezone', (${sqlText(ZONES)})[1 + ${h("g", "tz")} % ${ZONES.length}],
                                 'monday', w, 'tuesday', w, 'wednesday', w, 'thursday', w, 'friday', w),
              round(3 + (${h("g", "rating")} % 200) / 100.0, 2),
              ${h("g", "sessions")} % 400,
              ${h("g", "verified")} % 3 = 0
         from (select g,
                      (${sqlText(EXPERTISE)})[1 + ${h("g", "e1")} % ${EXPERTISE.length}] as e1,
                      (${sqlText(EXPERTISE)})[1 + ${h("g", "e2")} % ${EXPERTISE.length}] as e2,
                      (${sqlText(COUNTRIES)})[1 + ${h("g", "c1")} % ${COUNTRIES.length}] as c1,
                      (${sqlText(COUNTRIES)})[1 + ${h("g", "c2")} % ${COUNTRIES.length}] as c2,
                      ${WINDOW_SETS} -> (${h("g", "w")} % 6) as w
                 from generate_series(1, $1::int) g) as src`,
      [size.coaches],
    );
    await step(
      "client users",
      `insert into users (id, email, password_hash, role, is_active, email_verified, created_at, updated_at)
       select md5('bench-client-' || g)::uuid, 'client-' || g || '@bench.culturebridge.test', $1, 'client', true, true,
              now() - (${h("g", "c")} % 400) * interval '1 day', now()
         from generate_series(1, $2::int) g`,
      [passwordHash, size.clients],
    );
    await step(
      "client profiles (complete quizzes)",
      `insert into client_profiles (user_id, first_name, last_name, timezone, quiz_data)
       select md5('bench-client-' || g)::uuid,
              (${sqlText(FIRST_NAMES)})[1 + ${h("g", "f")} % ${FIRST_NAMES.length}],
              (${sqlText(LAST_NAMES)})[1 + ${h("g", "l")} % ${LAST_NAMES.length}],
              tz,
              jsonb_build_object(
                'target_countries', jsonb_build_array(country),
                'cultural_goals', jsonb_build_array((${sqlText(GOALS)})[1 + ${h("g", "goal")} % ${GOALS.length}]),
                'preferred_languages', to_jsonb(string_to_array((${sqlText(LANGUAGE_SETS)})[1 + ${h("g", "lang")} % ${LANGUAGE_SETS.length}], '|')),
                'industry', (${sqlText(INDUSTRIES)})[1 + ${h("g", "ind")} % ${INDUSTRIES.length}],
                'family_status', (array['single','partnered','married','married_with_children','single_parent','other'])[1 + ${h("g", "fam")} % 6],
                'previous_expat_experience', ${h("g", "exp")} % 2 = 0,
                'timeline_urgency', 1 + ${h("g", "urg")} % 5,
                'budget_range', jsonb_build_object('min', budget, 'max', budget + 100 + (${h("g", "bmax")} % 8) * 25),
                'coaching_style', (array['directive','collaborative','reflective','structured','flexible'])[1 + ${h("g", "style")} % 5],
                'specific_challenges', jsonb_build_array((${sqlText(CHALLENGES)})[1 + ${h("g", "ch")} % ${CHALLENGES.length}]),
                'home_country', (${sqlText(COUNTRIES)})[1 + ${h("g", "home")} % ${COUNTRIES.length}],
                'current_country', country,
                'relocation_stage', (array['planning','recently_arrived','settled','returning_home'])[1 + ${h("g", "stage")} % 4],
                'career_level', (array['student','early_career','mid_career','senior','executive'])[1 + ${h("g", "career")} % 5],
                'communication_style', (array['direct','indirect','mixed'])[1 + ${h("g", "comm")} % 3],
                'preferred_session_duration', (array[30, 60, 90])[1 + ${h("g", "dur")} % 3],
                'session_frequency', (array['weekly','biweekly','monthly','ad_hoc'])[1 + ${h("g", "freq")} % 4],
                'preferred_times', jsonb_build_array((array['morning','afternoon','evening','weekend'])[1 + ${h("g", "time")} % 4]),
                'timezone', tz,
                'languages_learning', jsonb_build_array()
              )
         from (select g,
                      (${sqlText(ZONES)})[1 + ${h("g", "tz")} % ${ZONES.length}] as tz,
                      (${sqlText(COUNTRIES)})[1 + ${h("g", "country")} % ${COUNTRIES.length}] as country,
                      30 + (${h("g", "budget")} % 8) * 10 as budget
                 from generate_series(1, $1::int) g) as src`,
      [size.clients],
    );
    await step(
      "past completed bookings",
      // Booking k: client k mod clients, coach k*7 mod coaches, one hour at 2024-01-01 + k hours:
      // no two bookings of one client or one coach overlap (the exclusion constraints hold).
      `insert into bookings (client_id, coach_id, session_datetime, duration_minutes, status, created_at, updated_at)
       select md5('bench-client-' || (1 + k % $2::int))::uuid, md5('bench-coach-' || (1 + (k * 7) % $3::int))::uuid,
              timestamptz '2024-01-01 00:00:00+00' + k * interval '1 hour', 60, 'completed',
              timestamptz '2023-12-01 00:00:00+00', timestamptz '2024-01-01 00:00:00+00' + k * interval '1 hour'
         from generate_series(1, $1::int) k`,
      [size.pastBookings, size.clients, size.coaches],
    );
    await step(
      "posts",
      `insert into posts (id, author_id, title, content, post_type, is_private, upvotes, created_at, updated_at)
       select md5('bench-post-' || p)::uuid,
              case when p % 3 = 0 then md5('bench-coach-' || (1 + ${h("p", "a")} % $2::int))::uuid
                   else md5('bench-client-' || (1 + ${h("p", "a")} % $3::int))::uuid end,
              'Question ' || p || ' about ' || (${sqlText(TAGS)})[1 + ${h("p", "t")} % ${TAGS.length}],
              repeat('Has anyone dealt with this when moving abroad? Looking for practical advice. ', 1 + ${h("p", "len")} % 6),
              (array['discussion','question','discussion','question','announcement'])[1 + ${h("p", "type")} % 5]::post_type,
              ${h("p", "private")} % 10 = 0,
              0,
              now() - p * interval '7 minutes', now() - p * interval '7 minutes'
         from generate_series(1, $1::int) p`,
      [size.posts, size.coaches, size.clients],
    );
    await step(
      "comments",
      `insert into comments (post_id, author_id, content, created_at)
       select md5('bench-post-' || p)::uuid, md5('bench-client-' || (1 + ${h("p * 10 + i", "ca")} % $3::int))::uuid,
              'Same here, what worked for me was asking the local community.', now() - p * interval '7 minutes' + i * interval '1 minute'
         from generate_series(1, $1::int) p, generate_series(1, $2::int) i`,
      [size.posts, size.commentsPerPost, size.clients],
    );
    await step(
      "resources",
      `insert into resources (title, description, resource_type, url, tags, created_by, created_at)
       select 'Guide ' || r || ': ' || (${sqlText(TAGS)})[1 + ${h("r", "t")} % ${TAGS.length}] || ' abroad',
              'A practical guide for newcomers.', (array['article','video','document'])[1 + r % 3]::resource_type,
              'https://resources.culturebridge.test/' || r,
              array[(${sqlText(TAGS)})[1 + ${h("r", "t")} % ${TAGS.length}], (${sqlText(TAGS)})[1 + ${h("r", "t2")} % ${TAGS.length}]],
              md5('bench-coach-' || r)::uuid, now() - r * interval '1 hour'
         from generate_series(1, $1::int) r`,
      [size.resources],
    );
    await client.query(
      `insert into app_counters (name, value) values ($1, $2) on conflict (name) do update set value = excluded.value`,
      [MARKER, SEED_VERSION],
    );
    await client.query("commit");
  } catch (error) {
    await client.query("rollback");
    throw error;
  }
  // VACUUM too: the visibility map lets index-only scans (the post list's counts) skip the heap.
  await client.query("vacuum analyze");
  return (Date.now() - started) / 1000;
}
