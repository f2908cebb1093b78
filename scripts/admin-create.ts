/**
 * `npm run admin:create -- --email E --password P`
 *
 * Makes sure that this admin exists in the database at DATABASE_URL (created,
 * or its password, role and active flag set) -- the way to get the first admin
 * of a deployed database, since signup refuses the admin role. The password
 * must pass the same rule as signup.
 */
import { parseArgs } from "node:util";
import { emailField } from "../src/lib/fields.ts";
import { passwordProblems } from "../src/lib/passwords.ts";
import { ensureAdmin } from "../src/services/admins.ts";
import { connectNode } from "./lib/node-db.ts";

const USAGE =
  "usage: npm run admin:create -- --email admin@example.com --password 'Str0ng#Passw0rd'   (DATABASE_URL must be set)";

function fail(message: string): never {
  process.stderr.write(`admin:create: ${message}\n${USAGE}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values: { email?: string; password?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: { email: { type: "string" }, password: { type: "string" }, help: { type: "boolean", short: "h" } },
      strict: true,
    }));
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const url = process.env.DATABASE_URL;
  if (!url) fail("DATABASE_URL is not set");
  if (!values.email) fail("--email is required");
  if (!values.password) fail("--password is required");

  const email = emailField.safeParse(values.email);
  if (!email.success) fail(`invalid email: ${email.error.issues.map((issue) => issue.message).join("; ")}`);
  const problems = passwordProblems(values.password);
  if (problems.length > 0) fail(`weak password:\n  - ${problems.join("\n  - ")}`);

  const { db, close } = connectNode(url);
  try {
    const admin = await ensureAdmin(db, email.data, values.password);
    process.stdout.write(
      `admin ${email.data} ${admin.created ? "created" : "updated (password, role and active flag set)"} (id ${admin.id})\n`,
    );
  } finally {
    await close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`admin:create failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
