/**
 * Prints the SQL of coach_expertise_topics() generated from the taxonomy, for a custom
 * migration (`npx drizzle-kit generate --custom --name <name>`, then paste this, followed by
 * `UPDATE coach_profiles SET expertise = expertise;` to recompute the stored column).
 * Usage: node scripts/gen-expertise-topics.ts (Node 24, through npm/npx)
 */
import { expertiseTopicsFunctionSql } from "../src/services/matching/expertise-topics.ts";

console.log(expertiseTopicsFunctionSql());
