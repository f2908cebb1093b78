import type { OpenAPIHono } from "@hono/zod-openapi";
import type { RouterEnv } from "../lib/router.ts";
import { adminRoutes } from "./admin/index.ts";
import { adminVerificationRoutes } from "./admin/verification.ts";
import { authRoutes } from "./auth.ts";
import { authPageRoutes } from "./auth-pages.ts";
import { bookingRoutes } from "./booking.ts";
import { calendarRoutes } from "./calendar.ts";
import { coachesRoutes } from "./coaches.ts";
import { communityRoutes } from "./community/index.ts";
import { devRoutes } from "./dev/index.ts";
import { matchRoutes } from "./match.ts";
import { paymentRoutes } from "./payment.ts";
import { payoutsRoutes } from "./payouts.ts";
import { profileRoutes } from "./profile.ts";
import { reviewRoutes } from "./reviews.ts";

/** Every feature module, mounted at the root (each declares its full paths). */
export function mountFeatureRoutes(app: OpenAPIHono<RouterEnv>): void {
  app.route("/", authRoutes);
  app.route("/", authPageRoutes);
  app.route("/", profileRoutes);
  app.route("/", coachesRoutes);
  app.route("/", matchRoutes);
  app.route("/", bookingRoutes);
  app.route("/", paymentRoutes);
  app.route("/", payoutsRoutes);
  app.route("/", calendarRoutes);
  app.route("/", communityRoutes);
  app.route("/", adminRoutes);
  app.route("/", reviewRoutes);
  app.route("/", adminVerificationRoutes);
  // Development-only (/dev/*), behind one guard.
  app.route("/", devRoutes);
}
