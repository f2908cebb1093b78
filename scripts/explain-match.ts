/**
 * EXPLAIN (ANALYZE, BUFFERS) of the POST /match candidate statement for bench:match's quizzes,
 * on a database seeded by bench:match (docs/MATCHING.md, Benchmark).
 * Usage: URL=postgresql://... node scripts/explain-match.ts [--quizzes 0,2,6] [--brief] [--root ../main]
 * --brief prints one line per quiz (execution time, rows pre-ranked) and the p50 / p95 over them;
 * --root takes candidateSql from another checkout (e.g. main) for a before/after on the same data.
 */
import path from "node:path";
import { PgDialect } from "drizzle-orm/pg-core";
import pg from "pg";
import type { candidateSql as CandidateSql } from "../src/services/matching/candidates.ts";
import { benchQuiz } from "./lib/bench-match-quiz.ts";

const option = (name: string) => {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
};
const url = process.env.URL ?? process.env.BENCH_MATCH_DATABASE_URL;
if (!url) throw new Error("URL (or BENCH_MATCH_DATABASE_URL) is required");
const brief = process.argv.includes("--brief");
const quizzes = (option("--quizzes") ?? Array.from({ length: 40 }, (_, index) => index).join(",")).split(",").map(Number);
const root = path.resolve(option("--root") ?? path.join(import.meta.dirname, ".."));
const { candidateSql } = (await import(path.join(root, "src/services/matching/candidates.ts"))) as {
  candidateSql: typeof CandidateSql;
};

const client = new pg.Client({ connectionString: url });
await client.connect();
const dialect = new PgDialect();
const times: number[] = [];
try {
  for (const index of quizzes) {
    const query = dialect.sqlToQuery(candidateSql(benchQuiz(index)));
    await client.query(query.sql, query.params); // warm: plan and buffers
    const result = await client.query<{ "QUERY PLAN": string }>(`EXPLAIN (ANALYZE, BUFFERS) ${query.sql}`, query.params);
    const lines = result.rows.map((row) => row["QUERY PLAN"]);
    const execution = Number(/Execution Time: ([\d.]+)/.exec(lines.join("\n"))?.[1]);
    times.push(execution);
    const scanned = lines
      .filter((line) => /(Bitmap Heap Scan|Index Only Scan using coach_match_keys_pkey) on coach_/.test(line))
      .map((line) => /actual time=[\d.]+\.\.[\d.]+ rows=(\d+)/.exec(line)?.[1] ?? "never");
    // the statement's first Buffers line: every buffer it touched (hit + read)
    const buffers = /Buffers: (.*)/.exec(lines.join("\n"))?.[1] ?? "";
    console.log(`quiz ${index}: ${execution.toFixed(1)} ms, buffers ${buffers}, focus rows pre-ranked: ${scanned.join(", ")}`);
    if (!brief) console.log(lines.join("\n"));
  }
} finally {
  await client.end();
}
const sorted = [...times].sort((a, b) => a - b);
const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
console.log(`execution time over ${times.length} quizzes: p50 ${at(0.5).toFixed(1)} ms, p95 ${at(0.95).toFixed(1)} ms`);
