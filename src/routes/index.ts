import type { OpenAPIHono } from "@hono/zod-openapi";
import type { RouterEnv } from "../lib/router.ts";
import { adminRoutes } from "./admin.ts";
import { authRoutes } from "./auth.ts";
import { benchRoutes } from "./bench.ts";
import { bookingRoutes } from "./booking.ts";
import { calendarRoutes } from "./calendar.ts";
import { coachesRoutes } from "./coaches.ts";
import { communityRoutes } from "./community.ts";
import { devRoutes } from "./dev.ts";
import { matchRoutes } from "./match.ts";
import { paymentRoutes } from "./payment.ts";
import { payoutsRoutes } from "./payouts.ts";
import { profileRoutes } from "./profile.ts";

/** Every feature module, mounted at the root (each declares its full paths). */
export function mountFeatureRoutes(app: OpenAPIHono<RouterEnv>): void {
  app.route("/", authRoutes);
  app.route("/", profileRoutes);
  app.route("/", coachesRoutes);
  app.route("/", matchRoutes);
  app.route("/", bookingRoutes);
  app.route("/", paymentRoutes);
  app.route("/", payoutsRoutes);
  app.route("/", calendarRoutes);
  app.route("/", communityRoutes);
  app.route("/", adminRoutes);
  app.route("/", devRoutes);
  app.route("/", benchRoutes);
}
