/** `npm run migrate`: applies migrations/ to DATABASE_URL (Neon or any Postgres) over TCP. */
import { migrateUrl } from "./lib/database.ts";

const url = process.env.DATABASE_URL;
if (!url) {
  console.error("DATABASE_URL is required");
  process.exit(2);
}
await migrateUrl(url);
console.log("migrations applied");
