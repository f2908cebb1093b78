import type { TestProject } from "vitest/node";
import { startApiStack } from "./stack.ts";

declare module "vitest" {
  export interface ProvidedContext {
    baseUrl: string;
    databaseUrl: string;
    databaseKind: "pglite" | "postgres";
    proxyUrl: string;
    stripeUrl: string;
  }
}

/** Integration tests: the API in wrangler dev over the test database. */
export default async function setup(project: TestProject) {
  const stack = await startApiStack();
  project.provide("baseUrl", stack.baseUrl);
  project.provide("databaseUrl", stack.database.url);
  project.provide("databaseKind", stack.database.kind);
  project.provide("proxyUrl", stack.proxy.url);
  project.provide("stripeUrl", stack.stripe.url);
  return async () => {
    await stack.close();
  };
}
