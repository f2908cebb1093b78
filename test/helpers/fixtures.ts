/**
 * Fast fixtures: users inserted straight into the database with a real
 * cost-12 bcrypt hash (computed once per file) and real signed JWTs. Each test
 * makes its own users (unique emails): no shared fixtures, any order.
 */
import bcrypt from "bcryptjs";
import { SAMPLE_QUIZ, WEEK_AVAILABILITY } from "../../scripts/lib/samples.ts";
import { type Role, signToken } from "../../src/lib/tokens.ts";
import { uniqueEmail } from "./api.ts";
import { query } from "./db.ts";
import { TEST_JWT_SECRET } from "./stack.ts";

export const FIXTURE_PASSWORD = "Fixture#Pass1";
let fixtureHash: Promise<string> | undefined;

export interface TestUser {
  id: string;
  email: string;
  role: Role;
  token: string;
  /** coach/client profile id when one was created */
  profileId?: string;
}

export async function accessToken(userId: string, role: Role, now = new Date()): Promise<string> {
  return (await signToken(new TextEncoder().encode(TEST_JWT_SECRET), { sub: userId, role, type: "access" }, now)).token;
}

export async function createUser(role: Role, options: { email?: string; isActive?: boolean } = {}): Promise<TestUser> {
  fixtureHash ??= bcrypt.hash(FIXTURE_PASSWORD, 12);
  const email = options.email ?? uniqueEmail(role);
  const [row] = await query<{ id: string }>(
    `INSERT INTO users (email, password_hash, role, is_active, email_verified) VALUES ($1, $2, $3, $4, true) RETURNING id`,
    [email.toLowerCase(), await fixtureHash, role, options.isActive ?? true],
  );
  const id = (row as { id: string }).id;
  return { id, email: email.toLowerCase(), role, token: await accessToken(id, role) };
}

export { WEEK_AVAILABILITY };

export async function createCoach(
  options: {
    languages?: string[];
    countries?: string[];
    expertise?: string[];
    hourlyRate?: number | null;
    rating?: number;
    availability?: object;
    firstName?: string;
    currency?: string;
  } = {},
): Promise<TestUser> {
  const user = await createUser("coach");
  const [row] = await query<{ id: string }>(
    `INSERT INTO coach_profiles (user_id, first_name, last_name, bio, expertise, languages, countries, hourly_rate, currency, availability, rating)
     VALUES ($1, $2, 'Coach', 'Intercultural coach', $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
    [
      user.id,
      options.firstName ?? "Test",
      options.expertise ?? ["cultural adaptation"],
      options.languages ?? ["English"],
      options.countries ?? ["Spain"],
      options.hourlyRate === undefined ? 100 : options.hourlyRate,
      options.currency ?? "USD",
      JSON.stringify(options.availability ?? WEEK_AVAILABILITY),
      options.rating ?? 4.5,
    ],
  );
  return { ...user, profileId: (row as { id: string }).id };
}

export function completeQuiz(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...structuredClone(SAMPLE_QUIZ), ...overrides };
}

export async function createClient(
  options: { quiz?: Record<string, unknown> | null; firstName?: string } = {},
): Promise<TestUser> {
  const user = await createUser("client");
  const quiz = options.quiz === undefined ? completeQuiz() : options.quiz;
  const [row] = await query<{ id: string }>(
    `INSERT INTO client_profiles (user_id, first_name, last_name, timezone, quiz_data) VALUES ($1, $2, 'Client', 'Europe/Madrid', $3) RETURNING id`,
    [user.id, options.firstName ?? "Test", JSON.stringify(quiz ?? {})],
  );
  return { ...user, profileId: (row as { id: string }).id };
}
