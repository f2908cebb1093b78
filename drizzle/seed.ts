/**
 * Demo data for local development: a realistic small market. Deterministic
 * (seeded PRNG), so every fresh `.data/` looks the same.
 */
import bcrypt from "bcryptjs";
import { eq, inArray, sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { minorToDecimalString, platformFeeMinor, sessionPriceMinor } from "../src/lib/currencies.ts";
import * as schema from "./schema.ts";
import {
  CHALLENGES,
  COUNTRIES,
  EXPERTISE,
  FIRST_NAMES,
  GOALS,
  INDUSTRIES,
  LANGUAGE_SETS,
  LAST_NAMES,
  WEEKDAYS,
  WINDOWS,
  ZONES,
} from "./seed-data.ts";

export const DEMO_PASSWORD = "CultureBridge#2026";
export const DEMO_LOGINS = {
  admin: "admin@culturebridge.demo",
  client: "client1@culturebridge.demo",
  coach: "coach1@culturebridge.demo",
};

type AnyDatabase = PgDatabase<PgQueryResultHKT, typeof schema>;

function prng(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const some = <T>(items: readonly T[], min: number, max: number): T[] => {
    const count = min + Math.floor(next() * (max - min + 1));
    const pool = [...items];
    const out: T[] = [];
    while (out.length < count && pool.length > 0) out.push(pool.splice(Math.floor(next() * pool.length), 1)[0] as T);
    return out;
  };
  return { next, pick, some };
}

function availability(rand: ReturnType<typeof prng>, timezone: string) {
  const days = rand.some(WEEKDAYS, 3, 6);
  const result: Record<string, unknown> = { timezone };
  for (const day of days) result[day] = rand.pick(WINDOWS);
  return result;
}

export function demoQuiz(rand: ReturnType<typeof prng>, languages: string[], timezone: string) {
  const min = 25 + Math.floor(rand.next() * 8) * 10;
  return {
    target_countries: rand.some(COUNTRIES, 1, 2),
    cultural_goals: rand.some(GOALS, 1, 3),
    preferred_languages: languages,
    industry: rand.pick(INDUSTRIES),
    family_status: rand.pick(["single", "partnered", "married", "married_with_children", "single_parent", "other"]),
    previous_expat_experience: rand.next() < 0.5,
    timeline_urgency: 1 + Math.floor(rand.next() * 5),
    budget_range: { min, max: min + 50 + Math.floor(rand.next() * 10) * 25 },
    coaching_style: rand.pick(["directive", "collaborative", "reflective", "structured", "flexible"]),
    specific_challenges: rand.some(CHALLENGES, 1, 3),
    home_country: rand.pick(COUNTRIES),
    current_country: rand.pick(COUNTRIES),
    relocation_stage: rand.pick(["planning", "recently_arrived", "settled", "returning_home"]),
    career_level: rand.pick(["student", "early_career", "mid_career", "senior", "executive"]),
    communication_style: rand.pick(["direct", "indirect", "mixed"]),
    preferred_session_duration: rand.pick([30, 60, 90]),
    session_frequency: rand.pick(["weekly", "biweekly", "monthly", "ad_hoc"]),
    preferred_times: rand.some(["morning", "afternoon", "evening", "weekend"], 1, 3),
    timezone,
    languages_learning: rand.some(["Spanish", "German", "Japanese", "French", "Mandarin Chinese"], 0, 2),
  };
}

export interface SeedSummary {
  coaches: number;
  clients: number;
  posts: number;
  resources: number;
  bookings: number;
  payments: number;
}

export async function seedDemoData(db: AnyDatabase, options: { coaches?: number; clients?: number } = {}): Promise<SeedSummary> {
  const rand = prng(20261125);
  const coachCount = options.coaches ?? 64;
  const clientCount = options.clients ?? 12;
  // One hash for every demo account: cost-12 bcrypt is ~0.25 s of CPU per hash.
  const passwordHash = await bcrypt.hash(DEMO_PASSWORD, 12);

  const [admin] = await db
    .insert(schema.users)
    .values({ email: DEMO_LOGINS.admin, passwordHash, role: "admin", emailVerified: true })
    .returning({ id: schema.users.id });

  const coachUsers = await db
    .insert(schema.users)
    .values(
      Array.from({ length: coachCount }, (_, i) => ({
        email: `coach${i + 1}@culturebridge.demo`,
        passwordHash,
        role: "coach" as const,
        emailVerified: true,
      })),
    )
    .returning({ id: schema.users.id });
  await db.insert(schema.coachProfiles).values(
    coachUsers.map((user, i) => {
      const timezone = ZONES[i % ZONES.length] as string;
      const languages = LANGUAGE_SETS[i % LANGUAGE_SETS.length] as string[];
      const expertise = rand.some(EXPERTISE, 2, 4);
      const countries = rand.some(COUNTRIES, 1, 4);
      return {
        userId: user.id,
        firstName: rand.pick(FIRST_NAMES),
        lastName: rand.pick(LAST_NAMES),
        bio: `Intercultural coach focused on ${expertise.join(", ")}. I have lived and worked in ${countries.join(", ")} and coach in ${languages.join(" and ")}.`,
        introVideoUrl: i % 3 === 0 ? `https://videos.culturebridge.demo/coach-${i + 1}.mp4` : null,
        expertise,
        languages,
        countries,
        hourlyRate: (25 + Math.floor(rand.next() * 95) * 5).toFixed(2),
        currency: "USD",
        availability: availability(rand, timezone),
        rating: (3 + rand.next() * 2).toFixed(2),
        totalSessions: Math.floor(rand.next() * 300),
        isVerified: rand.next() < 0.6,
      };
    }),
  );

  const clientUsers = await db
    .insert(schema.users)
    .values(
      Array.from({ length: clientCount }, (_, i) => ({
        email: `client${i + 1}@culturebridge.demo`,
        passwordHash,
        role: "client" as const,
        emailVerified: true,
      })),
    )
    .returning({ id: schema.users.id });
  await db.insert(schema.clientProfiles).values(
    clientUsers.map((user, i) => {
      const timezone = ZONES[(i * 5) % ZONES.length] as string;
      return {
        userId: user.id,
        firstName: rand.pick(FIRST_NAMES),
        lastName: rand.pick(LAST_NAMES),
        timezone,
        phone: `+3460000${String(1000 + i)}`,
        quizData: demoQuiz(rand, (LANGUAGE_SETS[i % LANGUAGE_SETS.length] as string[]).slice(0, 2), timezone),
        preferences: {},
      };
    }),
  );

  const authors = [...clientUsers.slice(0, 6), ...coachUsers.slice(0, 4)];
  const postRows = [
    [
      "First month in Tokyo: what surprised me",
      "The quiet on trains, the bowing, the paperwork. What helped you most?",
      "discussion",
    ],
    [
      "How do you find a pediatrician abroad?",
      "We just moved to Berlin with two kids. Any tips on the insurance system?",
      "question",
    ],
    ["Networking in Madrid", "Lunch is at 14:00 and dinner at 21:30; meetings follow the same rhythm.", "discussion"],
    ["Reverse culture shock is real", "Coming home after six years in Singapore was harder than leaving.", "discussion"],
    ["Which language app actually works?", "I need conversational Portuguese before São Paulo in March.", "question"],
    ["Diplomatic receptions: dress codes decoded", "A short guide from my years in protocol.", "discussion"],
  ] as const;
  const posts = await db
    .insert(schema.posts)
    .values(
      postRows.map(([title, content, postType], i) => ({
        authorId: (authors[i % authors.length] as { id: string }).id,
        title,
        content,
        postType,
        upvotes: 0,
      })),
    )
    .returning({ id: schema.posts.id });
  await db.insert(schema.posts).values({
    authorId: (admin as { id: string }).id,
    title: "Welcome to the CultureBridge community",
    content: "Introduce yourself, ask anything, and be kind.",
    postType: "announcement",
  });
  await db.insert(schema.comments).values(
    posts.flatMap((post, i) => [
      {
        postId: post.id,
        authorId: (authors[(i + 1) % authors.length] as { id: string }).id,
        content: "Thanks for sharing, same here!",
      },
      {
        postId: post.id,
        authorId: (authors[(i + 2) % authors.length] as { id: string }).id,
        content: "A coach helped me a lot with exactly this.",
      },
    ]),
  );
  const resourceRows = [
    [
      "The expat's guide to culture shock",
      "Stages of adjustment and what to do in each.",
      "article",
      ["culture-shock", "adaptation"],
    ],
    [
      "Negotiating across cultures",
      "High-context vs low-context communication in practice.",
      "video",
      ["negotiation", "communication"],
    ],
    ["Relocation checklist", "Documents, schools, healthcare, banking: a printable list.", "document", ["relocation", "family"]],
    ["Working remotely from abroad", "Tax residency, time zones and team rituals.", "article", ["remote-work", "career"]],
    ["Raising third culture kids", "Helping children belong everywhere and somewhere.", "article", ["family", "adaptation"]],
    ["Protocol basics for diplomats", "Precedence, forms of address and receptions.", "document", ["diplomacy", "etiquette"]],
  ] as const;
  await db.insert(schema.resources).values(
    resourceRows.map(([title, description, resourceType, tags], i) => ({
      title,
      description,
      resourceType,
      url: `https://resources.culturebridge.demo/${i + 1}`,
      tags: [...tags],
      createdBy: i % 2 === 0 ? (admin as { id: string }).id : (coachUsers[i] as { id: string }).id,
    })),
  );
  await seedDemoReviews(
    db,
    rand,
    coachUsers.map((user) => user.id),
    clientUsers.map((user) => user.id),
  );
  const money = await seedDemoBookings(db, coachUsers, clientUsers, new Date());
  return { coaches: coachCount, clients: clientCount, posts: postRows.length + 1, resources: resourceRows.length, ...money };
}

/** The demo Express account of coach2 (the local Stripe stand-in knows every acct_demo_ id). */
export const DEMO_CONNECTED_ACCOUNT = "acct_demo_coach2";
const DEMO_FEE_PERCENT = 15;

/**
 * Paid history, so that the admin revenue report, a coach's earnings and the
 * payment objects show something: completed sessions over the last two months
 * (one refunded), and paid confirmed sessions ahead. coach2 has a connected
 * account (destination charges: its shares were transferred); the others'
 * shares are owed. coach1 has none, so that onboarding can be tried.
 * No demo client is left holding unpaid bookings (the 3-unpaid limit).
 */
async function seedDemoBookings(
  db: AnyDatabase,
  coachUsers: { id: string }[],
  clientUsers: { id: string }[],
  now: Date,
): Promise<{ bookings: number; payments: number }> {
  const coaches = coachUsers.slice(0, 4);
  const clients = clientUsers.slice(0, 6);
  if (coaches.length < 4 || clients.length < 6) return { bookings: 0, payments: 0 };
  const demoCoach = coaches[1] as { id: string };
  await db
    .update(schema.coachProfiles)
    .set({
      stripeAccountId: DEMO_CONNECTED_ACCOUNT,
      stripeChargesEnabled: true,
      stripePayoutsEnabled: true,
      stripeDetailsSubmitted: true,
    })
    .where(eq(schema.coachProfiles.userId, demoCoach.id));
  const rates = await db
    .select({
      userId: schema.coachProfiles.userId,
      rate: schema.coachProfiles.hourlyRate,
      currency: schema.coachProfiles.currency,
    })
    .from(schema.coachProfiles)
    .where(
      inArray(
        schema.coachProfiles.userId,
        coaches.map((coach) => coach.id),
      ),
    );
  const rateOf = new Map(rates.map((row) => [row.userId, row]));
  const DAY = 24 * 60 * 60 * 1000;
  const at = (days: number, hour: number) => {
    const date = new Date(now.getTime() + days * DAY);
    date.setUTCHours(hour, 0, 0, 0);
    return date;
  };
  // [coach index, client index, day offset, UTC hour, duration, outcome]
  const plan: [number, number, number, number, number, "completed" | "confirmed" | "refunded"][] = [
    [0, 0, -58, 9, 60, "completed"],
    [1, 0, -51, 10, 60, "completed"],
    [1, 1, -44, 11, 90, "completed"],
    [2, 2, -37, 12, 60, "completed"],
    [1, 3, -30, 9, 30, "completed"],
    [3, 4, -23, 10, 60, "completed"],
    [0, 5, -16, 11, 60, "refunded"],
    [1, 2, -9, 12, 60, "completed"],
    [2, 0, -5, 13, 60, "completed"],
    [1, 4, 12, 9, 60, "confirmed"],
    [0, 3, 13, 10, 60, "confirmed"],
    [3, 1, 14, 11, 90, "confirmed"],
  ];
  let payments = 0;
  for (const [coachIndex, clientIndex, day, hour, minutes, outcome] of plan) {
    const coach = coaches[coachIndex] as { id: string };
    const client = clients[clientIndex] as { id: string };
    const priced = rateOf.get(coach.id);
    if (!priced?.rate) continue;
    const start = at(day, hour);
    const bookedAt = new Date(Math.min(start.getTime() - 3 * DAY, now.getTime() - DAY));
    const paidAt = new Date(bookedAt.getTime() + 10 * 60_000);
    const amount = sessionPriceMinor(priced.rate, minutes, priced.currency);
    const fee = platformFeeMinor(amount, DEMO_FEE_PERCENT, priced.currency);
    const destination = coach.id === demoCoach.id ? DEMO_CONNECTED_ACCOUNT : null;
    const [booking] = await db
      .insert(schema.bookings)
      .values({
        clientId: client.id,
        coachId: coach.id,
        sessionDatetime: start,
        durationMinutes: minutes,
        status: outcome === "refunded" ? "cancelled" : outcome,
        meetingLink: outcome === "refunded" ? null : `https://meet.jit.si/culturebridge-demo-${payments + 1}`,
        notes: "Demo session",
        createdAt: bookedAt,
        updatedAt: paidAt,
      })
      .returning({ id: schema.bookings.id });
    const bookingId = (booking as { id: string }).id;
    const [payment] = await db
      .insert(schema.payments)
      .values({
        bookingId,
        amount: minorToDecimalString(amount, priced.currency),
        currency: priced.currency,
        status: outcome === "refunded" ? "refunded" : "succeeded",
        stripeSessionId: `cs_demo_${bookingId.slice(0, 8)}`,
        stripePaymentIntentId: `pi_demo_${bookingId.slice(0, 8)}`,
        paidAt,
        refundedAt: outcome === "refunded" ? new Date(paidAt.getTime() + DAY) : null,
        platformFee: minorToDecimalString(fee, priced.currency),
        coachAmount: minorToDecimalString(amount - fee, priced.currency),
        destinationAccount: destination,
        createdAt: bookedAt,
        updatedAt: paidAt,
      })
      .returning({ id: schema.payments.id });
    await db
      .update(schema.bookings)
      .set({ paymentId: (payment as { id: string }).id })
      .where(eq(schema.bookings.id, bookingId));
    payments++;
  }
  return { bookings: payments, payments };
}

const REVIEW_COMMENTS = [
  "Practical, warm and very well prepared. I left with a plan for my first month.",
  "Helped me understand why my emails kept landing badly with my new team.",
  "Great listener. The session on school choices saved us weeks of research.",
  null,
  "Good session, although I would have liked more concrete examples.",
  "Exactly what I needed before my posting: protocol, small talk, and what not to say.",
];

/**
 * v2 reviews for the demo: a few completed sessions in the past between demo clients and the
 * first coaches, each reviewed by its client, and the coaches' counters set as the API keeps them
 * (review_count, rating_sum, rating = their mean, the imported rating kept). The completed
 * bookings are the minimal set reviews need (no payments: the demo's paid flow is the payments
 * seed's); they never overlap a bookable future slot.
 */
export async function seedDemoReviews(
  db: AnyDatabase,
  rand: ReturnType<typeof prng>,
  coachIds: readonly string[],
  clientIds: readonly string[],
): Promise<number> {
  const pairs = clientIds.slice(0, 8).map((clientId, i) => ({ clientId, coachId: coachIds[i % 4] as string, i }));
  if (pairs.length === 0 || coachIds.length === 0) return 0;
  const now = Date.now();
  const completed = await db
    .insert(schema.bookings)
    .values(
      pairs.map(({ clientId, coachId, i }) => {
        const start = new Date(now - (3 + i * 4) * 86_400_000);
        start.setUTCHours(9 + (i % 6), 0, 0, 0);
        return { clientId, coachId, sessionDatetime: start, durationMinutes: 60, status: "completed" as const, notes: null };
      }),
    )
    .returning({ id: schema.bookings.id, clientId: schema.bookings.clientId, coachId: schema.bookings.coachId });
  await db.insert(schema.reviews).values(
    completed.map((booking, i) => ({
      bookingId: booking.id,
      coachId: booking.coachId,
      clientId: booking.clientId,
      rating: rand.next() < 0.75 ? 5 : 4 - (i % 2),
      comment: REVIEW_COMMENTS[i % REVIEW_COMMENTS.length] ?? null,
      createdAt: new Date(now - (2 + i * 4) * 86_400_000),
    })),
  );
  await db.execute(sql`
    update coach_profiles cp
       set imported_rating = cp.rating, review_count = r.n, rating_sum = r.s, rating = round(r.s::numeric / r.n, 2)
      from (select coach_id, count(*)::int as n, sum(rating)::int as s from reviews group by coach_id) r
     where cp.user_id = r.coach_id and cp.review_count = 0`);
  return completed.length;
}
