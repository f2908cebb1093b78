/**
 * Admin routes (contract: Admin), a folder mirroring services/admin/: one
 * file per sub-resource; wire shapes and input rules in contract/admin.ts.
 *
 * Every /admin/* path is for the role admin only: the middleware answers 401
 * without a valid token and 403 for clients and coaches before any
 * validation, so nobody else learns anything from these routes. Every
 * mutation writes an audit_log entry with the mutation (services/admin/audit.ts).
 */
import { createRouter } from "../../lib/router.ts";
import { requireRole } from "../../middleware/auth.ts";
import { auditRoutes } from "./audit.ts";
import { bookingRoutes } from "./bookings.ts";
import { importRoutes } from "./import.ts";
import { metricsRoutes } from "./metrics.ts";
import { moderationRoutes } from "./posts.ts";
import { revenueRoutes } from "./revenue.ts";
import { userRoutes } from "./users.ts";

export const adminRoutes = createRouter();

// Authorization first, for every /admin path: 401/403 before any validation or lookup.
adminRoutes.use("/admin/*", requireRole("admin"));
adminRoutes.route("/", metricsRoutes);
adminRoutes.route("/", userRoutes);
adminRoutes.route("/", bookingRoutes);
adminRoutes.route("/", moderationRoutes);
adminRoutes.route("/", revenueRoutes);
adminRoutes.route("/", auditRoutes);
adminRoutes.route("/", importRoutes);
