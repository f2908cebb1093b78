/**
 * Display names of the people behind posts, comments and resources.
 *
 * Names live in the profile tables, not in `users`: a client's in
 * client_profiles, a coach's in coach_profiles, an admin has none (null names).
 * Queries LEFT JOIN both profile tables through these aliases and pick the
 * names from one profile (the coach profile when a user somehow has both,
 * e.g. after a role change), so first and last name never come from two
 * different profiles.
 */
import { type SQL, sql } from "drizzle-orm";
import { type AnyPgColumn, alias } from "drizzle-orm/pg-core";
import { clientProfiles, coachProfiles } from "../../../drizzle/schema.ts";

export const personClient = alias(clientProfiles, "person_client");
export const personCoach = alias(coachProfiles, "person_coach");

/** Join conditions for the two profile aliases, on the user id column that names the person. */
export function personJoins(userId: AnyPgColumn): { coach: SQL; client: SQL } {
  return { coach: sql`${personCoach.userId} = ${userId}`, client: sql`${personClient.userId} = ${userId}` };
}

export function personFirstName(): SQL<string | null> {
  return sql<
    string | null
  >`case when ${personCoach.id} is not null then ${personCoach.firstName} else ${personClient.firstName} end`;
}

export function personLastName(): SQL<string | null> {
  return sql<
    string | null
  >`case when ${personCoach.id} is not null then ${personCoach.lastName} else ${personClient.lastName} end`;
}

export interface Person {
  id: string;
  firstName: string | null;
  lastName: string | null;
}
