/**
 * Coach discovery v2 over HTTP: `verified` and `q` filters (AND-ed with the others),
 * `review_count` on items, exact totals above the exact-count threshold (stored per coaches
 * version), and PATCH /admin/coaches/{id}/verification (audited; admin only).
 * Each test tags its coaches with a unique country or name so totals are exact in a shared database.
 */
import { afterAll, describe, expect, it } from "vitest";
import { CoachPageSchema } from "../../src/contract/coaches.ts";
import { CoachProfileSchema } from "../../src/contract/profiles.ts";
import { EXACT_COUNT_THRESHOLD } from "../../src/services/coaches.ts";
import { expectEnvelope, get, type Json, patch } from "../helpers/api.ts";
import { closeTestPool, query } from "../helpers/db.ts";
import { createClient, createCoach, createUser } from "../helpers/fixtures.ts";

afterAll(closeTestPool);

const UNKNOWN_ID = "00000000-0000-4000-8000-000000000000";
const tag = (prefix: string) => `${prefix}${crypto.randomUUID().replace(/-/g, "").slice(0, 10)}`;

async function list(path: string, token: string) {
  const result = await get(path, { token });
  expect(result.status, result.text).toBe(200);
  return CoachPageSchema.strict().parse(result.body);
}

describe("GET /coaches: verified and q", () => {
  it("verified=true / false split the coaches; the flag is AND-ed with the other filters", async () => {
    const country = tag("Verifia");
    const verified = await createCoach({ countries: [country], languages: ["English"] });
    const unverified = await createCoach({ countries: [country], languages: ["English"] });
    const verifiedSpanish = await createCoach({ countries: [country], languages: ["Spanish"] });
    await query(`update coach_profiles set is_verified = true where user_id = any($1)`, [[verified.id, verifiedSpanish.id]]);
    const viewer = (await createClient()).token;

    const yes = await list(`/coaches?country=${country}&verified=true`, viewer);
    expect(yes.items.map((item) => item.user_id).sort()).toEqual([verified.id, verifiedSpanish.id].sort());
    expect(yes.total).toBe(2);
    const no = await list(`/coaches?country=${country}&verified=false`, viewer);
    expect(no.items.map((item) => item.user_id)).toEqual([unverified.id]);
    const both = await list(`/coaches?country=${country}&verified=true&language=english`, viewer);
    expect(both.items.map((item) => item.user_id)).toEqual([verified.id]);
    expect(both.items[0]).toMatchObject({ is_verified: true, review_count: 0 });
  });

  it("q: every word must occur (as a word prefix, any case) in the name, bio or expertise", async () => {
    const country = tag("Searchia");
    const word = tag("zq").toLowerCase();
    const inName = await createCoach({ countries: [country], firstName: `${word}ina` });
    const inExpertise = await createCoach({ countries: [country], expertise: [`Expat ${word} relocation`] });
    const inBio = await createCoach({ countries: [country] });
    await query(`update coach_profiles set bio = $2 where user_id = $1`, [inBio.id, `I coach ${word.toUpperCase()} families`]);
    const other = await createCoach({ countries: [country], expertise: ["negotiation"] });
    const viewer = (await createClient()).token;

    const found = await list(`/coaches?country=${country}&q=${word}`, viewer);
    expect(found.items.map((item) => item.user_id).sort()).toEqual([inName.id, inExpertise.id, inBio.id].sort());
    expect(found.total).toBe(3);
    // Two words: both required (AND); order and punctuation do not matter.
    const two = await list(`/coaches?country=${country}&q=${encodeURIComponent(`relocation, ${word.slice(0, 5)}`)}`, viewer);
    expect(two.items.map((item) => item.user_id)).toEqual([inExpertise.id]);
    // AND-ed with the other filters.
    const narrowed = await list(`/coaches?country=${country}&q=${word}&expertise=negotiation`, viewer);
    expect(narrowed.items).toEqual([]);
    const negotiation = await list(`/coaches?country=${country}&q=Negot`, viewer);
    expect(negotiation.items.map((item) => item.user_id)).toEqual([other.id]);
    // Query syntax is not interpreted: operators are just separators between words.
    const syntax = await list(`/coaches?country=${country}&q=${encodeURIComponent(`${word} | !:*( & '`)}`, viewer);
    expect(syntax.total).toBe(3);
  });

  it("400 for a q without any word, over 200 characters, or with a NUL; 400 for verified=yes", async () => {
    const viewer = (await createClient()).token;
    for (const q of ["  ", "!!!", "a".repeat(201), "x\u0000y"]) {
      expectEnvelope(await get(`/coaches?q=${encodeURIComponent(q)}`, { token: viewer }), 400, "VALIDATION_ERROR");
    }
    expectEnvelope(await get(`/coaches?verified=yes`, { token: viewer }), 400, "VALIDATION_ERROR");
  });

  it("401 without a token, also with the new filters", async () => {
    expectEnvelope(await get(`/coaches?q=anything&verified=true`), 401, "UNAUTHORIZED");
  });
});

describe("ids that are not RFC 4122 UUIDs (md5-derived, as imported or benchmark rows)", () => {
  it("are listed, reviewed and verified like any other", async () => {
    const country = tag("Md5land");
    const coachId = crypto
      .randomUUID()
      .replace(/^(.{14})./, "$1f")
      .replace(/^(.{19})./, "$1c");
    await query(`insert into users (id, email, role, is_active, email_verified) values ($1, $2, 'coach', true, true)`, [
      coachId,
      `${country.toLowerCase()}@example.test`,
    ]);
    const [profile] = await query<{ id: string }>(
      `insert into coach_profiles (user_id, first_name, countries, hourly_rate) values ($1, 'Md', array[$2], 90) returning id`,
      [coachId, country],
    );
    const viewer = await createClient();
    const listed = await get(`/coaches?country=${country}`, { token: viewer.token });
    expect(listed.status, listed.text).toBe(200);
    expect(listed.body.items.map((item: Json) => item.user_id)).toEqual([coachId]);
    const admin = await createUser("admin");
    const verified = await patch(`/admin/coaches/${coachId}/verification`, { is_verified: true }, { token: admin.token });
    expect(verified.status, verified.text).toBe(200);
    expect(verified.body).toMatchObject({ id: profile!.id, user_id: coachId, is_verified: true });
    const reviews = await get(`/coaches/${coachId}/reviews`, { token: viewer.token });
    expect(reviews.status, reviews.text).toBe(200);
  });
});

describe("GET /coaches: totals above the exact-count threshold", () => {
  it("are exact: a language/country filter's from coach_list_totals, another filter's stored once per coaches version", async () => {
    const country = tag("Bigland");
    const many = EXACT_COUNT_THRESHOLD + 5;
    // Set-based: a thousand coaches in two statements.
    await query(
      `with u as (
         insert into users (email, password_hash, role, is_active, email_verified)
         select 'bulk-' || $1 || '-' || g || '@example.test', null, 'coach', true, true from generate_series(1, $2::int) g
         returning id)
       insert into coach_profiles (user_id, first_name, countries, languages, hourly_rate, rating)
       select id, 'Bulk', array[$1], array['English'], 80, 4 from u`,
      [country, many],
    );
    const viewer = (await createClient()).token;
    const first = await list(`/coaches?country=${country}&limit=5`, viewer);
    expect(first.total).toBe(many);
    expect(first.items).toHaveLength(5);
    // A pure filter's total is kept by triggers: the read writes nothing.
    const later = await list(`/coaches?country=${country}&skip=1000&limit=100`, viewer);
    expect(later).toMatchObject({ total: many, skip: 1000 });
    expect(later.items).toHaveLength(5);
    expect(await query(`select 1 from coach_list_counts where total = $1`, [many])).toEqual([]);

    // Another condition (a rate bound): counted once and stored for this coaches version.
    const bounded = await list(`/coaches?country=${country}&min_rate=50&limit=5`, viewer);
    expect(bounded.total).toBe(many);
    const stored = await query<{ total: number }>(`select total from coach_list_counts where total = $1`, [many]);
    expect(stored.length).toBeGreaterThanOrEqual(1);
    expect((await list(`/coaches?country=${country}&min_rate=50&skip=1000&limit=100`, viewer)).total).toBe(many);

    // A coach change bumps the coaches version (as every coach write does): the totals follow.
    const extra = await createCoach({ countries: [country] });
    const admin = await createUser("admin");
    const verified = await patch(`/admin/coaches/${extra.id}/verification`, { is_verified: true }, { token: admin.token });
    expect(verified.status, verified.text).toBe(200);
    expect((await list(`/coaches?country=${country}&limit=1`, viewer)).total).toBe(many + 1);
    expect((await list(`/coaches?country=${country}&min_rate=50&limit=1`, viewer)).total).toBe(many + 1);
    expect((await list(`/coaches?country=${country}&verified=true&limit=1`, viewer)).total).toBe(1);
  });
});

describe("PATCH /admin/coaches/{id}/verification", () => {
  it("happy: by profile id or user id; answers the coach profile; audits before/after and the note; bumps the version", async () => {
    const coach = await createCoach();
    const admin = await createUser("admin");
    const [before] = await query<{ value: string }>(`select value from app_counters where name = 'coaches_version'`);

    const on = await patch(
      `/admin/coaches/${coach.profileId}/verification`,
      { is_verified: true, note: "ID and certificates checked" },
      { token: admin.token },
    );
    expect(on.status, on.text).toBe(200);
    const profile = CoachProfileSchema.strict().parse(on.body);
    expect(profile).toMatchObject({ id: coach.profileId, user_id: coach.id, is_verified: true, review_count: 0 });
    const [after] = await query<{ value: string }>(`select value from app_counters where name = 'coaches_version'`);
    expect(Number(after!.value)).toBeGreaterThan(Number(before?.value ?? 0));

    const off = await patch(`/admin/coaches/${coach.id}/verification`, { is_verified: false }, { token: admin.token });
    expect(off.status).toBe(200);
    expect(off.body.is_verified).toBe(false);
    const seen = await get(`/coaches/${coach.id}`, { token: (await createClient()).token });
    expect(seen.body.is_verified).toBe(false);

    const audit = await get(`/admin/audit-log?actor_id=${admin.id}&action=coach.verification`, { token: admin.token });
    expect(audit.status, audit.text).toBe(200);
    const entries = audit.body.items as Json[];
    expect(entries.map((entry) => entry.details.after)).toEqual([false, true]);
    expect(entries[1]).toMatchObject({
      target_type: "coach",
      target_id: coach.profileId,
      details: { user_id: coach.id, before: false, after: true, changed: true, note: "ID and certificates checked" },
    });
  });

  it("errors: 404 unknown coach (or a client's id), 400 malformed id or body", async () => {
    const admin = await createUser("admin");
    const client = await createClient();
    const coach = await createCoach();
    expectEnvelope(
      await patch(`/admin/coaches/${UNKNOWN_ID}/verification`, { is_verified: true }, { token: admin.token }),
      404,
      "NOT_FOUND",
    );
    expectEnvelope(
      await patch(`/admin/coaches/${client.id}/verification`, { is_verified: true }, { token: admin.token }),
      404,
      "NOT_FOUND",
    );
    expectEnvelope(
      await patch(`/admin/coaches/bad/verification`, { is_verified: true }, { token: admin.token }),
      400,
      "VALIDATION_ERROR",
    );
    for (const body of [{}, { is_verified: "yes" }, { is_verified: true, extra: 1 }, { is_verified: true, note: "" }]) {
      expectEnvelope(
        await patch(`/admin/coaches/${coach.id}/verification`, body, { token: admin.token }),
        400,
        "VALIDATION_ERROR",
      );
    }
  });

  it("security: 403 for clients and coaches (the coach itself included), 401 anonymous; nothing changes", async () => {
    const coach = await createCoach();
    for (const caller of [coach, await createClient(), await createCoach()]) {
      expectEnvelope(
        await patch(`/admin/coaches/${coach.id}/verification`, { is_verified: true }, { token: caller.token }),
        403,
        "FORBIDDEN",
      );
    }
    expectEnvelope(await patch(`/admin/coaches/${coach.id}/verification`, { is_verified: true }), 401, "UNAUTHORIZED");
    const [row] = await query<{ is_verified: boolean }>(`select is_verified from coach_profiles where user_id = $1`, [coach.id]);
    expect(row!.is_verified).toBe(false);
  });
});
