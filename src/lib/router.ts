import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../env.ts";
import type { AppError } from "./errors.ts";
import type { TokenClaims } from "./tokens.ts";
import { validationHook } from "./validation.ts";

export type RouterEnv = AppEnv & { Variables: { claims?: TokenClaims; authError?: AppError } };

/** Every route module is one of these: typed context, the shared validation hook. */
export function createRouter() {
  return new OpenAPIHono<RouterEnv>({ defaultHook: validationHook });
}
