/**
 * Calendar (contract: Calendar): a secret, rotatable iCalendar feed URL.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { notFound } from "../lib/errors.ts";
import { bearerSecurity, errorResponses, jsonContent } from "../lib/openapi.ts";
import { createRouter } from "../lib/router.ts";
import { requireUser } from "../middleware/auth.ts";
import { feedForToken, feedUrl, rotateFeedToken } from "../services/calendar.ts";

const FeedTokenSchema = z
  .object({ feed_url: z.string().openapi({ example: "https://api.culturebridge.app/calendar/feed/Zm9v...YmFy.ics" }) })
  .openapi("CalendarFeed");

const feedTokenRoute = createRoute({
  method: "post",
  path: "/calendar/feed-token",
  tags: ["Calendar"],
  summary: "Issue (or rotate) the caller's secret calendar feed URL",
  description:
    "Subscribe to the URL in Google Calendar, Outlook or Apple Calendar. Calling again replaces the URL; the old one stops working.",
  security: bearerSecurity,
  responses: { 200: jsonContent(FeedTokenSchema, "The feed URL"), ...errorResponses(401) },
});

/** Tokens are base64url (randomToken): anything else cannot be one. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{20,200}$/;

export const calendarRoutes = createRouter().openapi(feedTokenRoute, async (c) => {
  const user = requireUser(c);
  const token = await rotateFeedToken(c.var.db, user.id, c.var.now);
  return c.json({ feed_url: feedUrl(c.var.config.publicBaseUrl, token) }, 200);
});

// The public path ends in ".ics" right after the parameter, which Hono's
// router cannot express as one param; the route takes the whole segment and
// the handler strips the suffix. The document shows the public form.
calendarRoutes.get("/calendar/feed/:file", async (c) => {
  const file = c.req.param("file");
  const token = file.endsWith(".ics") ? file.slice(0, -4) : file;
  if (!TOKEN_PATTERN.test(token)) throw notFound("Calendar feed");
  const body = await feedForToken(c.var.db, token, c.var.now);
  return c.body(body, 200, {
    "content-type": "text/calendar; charset=utf-8",
    "content-disposition": 'inline; filename="culturebridge.ics"',
    // A secret URL: keep it out of shared caches.
    "cache-control": "private, max-age=300",
  });
});

calendarRoutes.openAPIRegistry.registerPath({
  method: "get",
  path: "/calendar/feed/{token}.ics",
  tags: ["Calendar"],
  summary: "The caller's iCalendar feed (RFC 5545); the token in the URL is the credential",
  request: { params: z.object({ token: z.string().openapi({ param: { name: "token", in: "path" } }) }) },
  responses: {
    200: { description: "The feed", content: { "text/calendar": { schema: z.string() } } },
    ...errorResponses(404),
  },
});
