/**
 * Wire shapes shared by every contract section: the path parameter of an id.
 */
import { z } from "@hono/zod-openapi";
import { UUID_PATTERN } from "../lib/openapi.ts";

const UUID_EXAMPLE = "0b9c3c3e-2f7e-4a59-9d43-2a4d7a1f2b11";

interface IdParamOptions {
  /** Shown in the OpenAPI document beside the parameter. */
  description?: string;
  /** The 400's message for a malformed id (default "Must be a UUID"). */
  message?: string;
}

/**
 * A path parameter that must be a UUID (any case; services lower-case it): a malformed id is the
 * contract's 400 VALIDATION_ERROR, never a database error. A regex rather than z.guid(), so the
 * documented `pattern` and the 400's message stay what clients already see.
 */
export function uuidPathField(name: string, { description, message = "Must be a UUID" }: IdParamOptions = {}) {
  return z
    .string()
    .regex(UUID_PATTERN, message)
    .openapi({ param: { name, in: "path" }, ...(description ? { description } : {}), example: UUID_EXAMPLE });
}

/** The `params` object of a route with one id in its path: `{id}` unless named otherwise. */
export function IdParam<Name extends string = "id">(
  name: Name = "id" as Name,
  options: IdParamOptions = {},
): z.ZodObject<{ [K in NoInfer<Name>]: z.ZodString }> {
  return z.object({ [name]: uuidPathField(name, options) }) as z.ZodObject<{ [K in Name]: z.ZodString }>;
}
