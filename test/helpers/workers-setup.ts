import type { TestProject } from "vitest/node";
import { startDatabaseStack } from "./stack.ts";

/** Workers tests: only the database and the proxy; the code under test runs inside workerd. */
export default async function setup(project: TestProject) {
  const stack = await startDatabaseStack();
  project.provide("databaseUrl", stack.database.url);
  project.provide("databaseKind", stack.database.kind);
  project.provide("proxyUrl", stack.proxy.url);
  return async () => {
    await stack.close();
  };
}
