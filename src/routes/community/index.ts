/**
 * Community routes (contract: Community), a folder mirroring services/community/:
 * posts.ts, comments.ts, resources.ts; wire shapes in contract/community.ts.
 *
 * Every route needs a signed-in user (any role). Private posts follow the
 * one visibility predicate of services/community/visibility.ts: a post the
 * caller may not see -- and every comment on it -- is 404 on every route,
 * like one that does not exist. Text is stored and returned verbatim as
 * JSON; nothing here renders HTML. A malformed id in a path is 400.
 */
import { createRouter } from "../../lib/router.ts";
import { requireRole } from "../../middleware/auth.ts";
import { commentRoutes } from "./comments.ts";
import { postRoutes } from "./posts.ts";
import { resourceRoutes } from "./resources.ts";

export const communityRoutes = createRouter();
// Authentication before validation: an anonymous caller learns nothing from 400s.
communityRoutes.use("/community/*", requireRole());
communityRoutes.route("/", postRoutes);
communityRoutes.route("/", commentRoutes);
communityRoutes.route("/", resourceRoutes);
