/** /community/resources: the library and bookmarks (services/community/resources.ts). */

import { createRoute } from "@hono/zod-openapi";
import { IdParam } from "../../contract/common.ts";
import { BookmarkCreatedSchema, CreateResourceBody, ResourceListQuery, ResourceSchema } from "../../contract/community.ts";
import { badRequest } from "../../lib/errors.ts";
import { bearerSecurity, errorResponses, jsonContent } from "../../lib/openapi.ts";
import { page, pageSchema, paginationQuery } from "../../lib/pagination.ts";
import { createRouter } from "../../lib/router.ts";
import { validationDetails } from "../../lib/validation.ts";
import { requireUser } from "../../middleware/auth.ts";
import {
  addBookmark,
  createResource,
  listBookmarkedResources,
  listResources,
  MAX_TAG_LENGTH,
  MAX_TAGS,
  normalizeTag,
  removeBookmark,
  searchWords,
} from "../../services/community/resources.ts";
import { resourceJson } from "./shape.ts";

const TAGS = ["Community"];

/** `tags=a,b` -> normalised tags; empty entries are ignored; too many or too long -> 400. */
function parseTagsFilter(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const tags = [
    ...new Set(
      raw
        .split(",")
        .map(normalizeTag)
        .filter((tag) => tag.length > 0),
    ),
  ];
  const problem =
    tags.length > MAX_TAGS
      ? `At most ${MAX_TAGS} tags`
      : tags.some((tag) => tag.length > MAX_TAG_LENGTH)
        ? `Tags have at most ${MAX_TAG_LENGTH} characters`
        : undefined;
  if (problem) throw badRequest("Request validation failed", validationDetails([{ path: ["tags"], message: problem }], "query"));
  return tags.length > 0 ? tags : undefined;
}

/** Blank `q` means no search; text without any letter or digit cannot match anything -> 400. */
function parseSearch(raw: string | undefined): string | undefined {
  if (raw === undefined || raw.trim().length === 0) return undefined;
  if (searchWords(raw).length === 0) {
    throw badRequest(
      "Request validation failed",
      validationDetails([{ path: ["q"], message: "Must contain at least one letter or digit" }], "query"),
    );
  }
  return raw;
}

const listBookmarksRoute = createRoute({
  method: "get",
  path: "/community/resources/bookmarks",
  tags: TAGS,
  summary: "Resources the caller bookmarked, most recently bookmarked first",
  security: bearerSecurity,
  request: { query: paginationQuery },
  responses: { 200: jsonContent(pageSchema(ResourceSchema, "ResourcePage"), "A page of resources"), ...errorResponses(401, 403) },
});

const listResourcesRoute = createRoute({
  method: "get",
  path: "/community/resources",
  tags: TAGS,
  summary: "The resource library, newest first; filter by type, tags (all must match) and text",
  security: bearerSecurity,
  request: { query: ResourceListQuery },
  responses: { 200: jsonContent(pageSchema(ResourceSchema, "ResourcePage"), "A page of resources"), ...errorResponses(401, 403) },
});

const createResourceRoute = createRoute({
  method: "post",
  path: "/community/resources",
  tags: TAGS,
  summary: "Add a resource to the library (admins and coaches)",
  security: bearerSecurity,
  request: { body: { required: true, content: { "application/json": { schema: CreateResourceBody } } } },
  responses: { 201: jsonContent(ResourceSchema, "The new resource"), ...errorResponses(401, 403) },
});

const bookmarkRoute = createRoute({
  method: "post",
  path: "/community/resources/{id}/bookmark",
  tags: TAGS,
  summary: "Bookmark a resource; a second bookmark of the same resource is 409",
  security: bearerSecurity,
  request: { params: IdParam() },
  responses: { 201: jsonContent(BookmarkCreatedSchema, "Bookmarked"), ...errorResponses(401, 403, 404, 409) },
});

const removeBookmarkRoute = createRoute({
  method: "delete",
  path: "/community/resources/{id}/bookmark",
  tags: TAGS,
  summary: "Remove the caller's bookmark (404 when there is none)",
  security: bearerSecurity,
  request: { params: IdParam() },
  responses: { 204: { description: "Removed" }, ...errorResponses(401, 403, 404) },
});

export const resourceRoutes = createRouter()
  // The literal path first: /community/resources/bookmarks is never read as a resource id.
  .openapi(listBookmarksRoute, async (c) => {
    const viewer = requireUser(c);
    const query = c.req.valid("query");
    const { items, total } = await listBookmarkedResources(c.var.db, viewer.id, query);
    return c.json(page(items.map(resourceJson), total, query), 200);
  })
  .openapi(listResourcesRoute, async (c) => {
    requireUser(c);
    const query = c.req.valid("query");
    const filters = { resourceType: query.resource_type, tags: parseTagsFilter(query.tags), q: parseSearch(query.q) };
    const { items, total } = await listResources(c.var.db, filters, query);
    return c.json(page(items.map(resourceJson), total, query), 200);
  })
  .openapi(createResourceRoute, async (c) => {
    const viewer = requireUser(c, "admin", "coach");
    const body = c.req.valid("json");
    const resource = await createResource(
      c.var.db,
      viewer.id,
      {
        title: body.title,
        description: body.description ?? null,
        resourceType: body.resource_type,
        url: body.url,
        tags: body.tags,
      },
      c.var.now,
    );
    return c.json(resourceJson(resource), 201);
  })
  .openapi(bookmarkRoute, async (c) => {
    const viewer = requireUser(c);
    await addBookmark(c.var.db, viewer.id, c.req.valid("param").id, c.var.now);
    return c.json({ message: "Resource bookmarked" }, 201);
  })
  .openapi(removeBookmarkRoute, async (c) => {
    const viewer = requireUser(c);
    await removeBookmark(c.var.db, viewer.id, c.req.valid("param").id);
    return c.body(null, 204);
  });
