import { createRouter } from "../lib/router.ts";

export const adminRoutes = createRouter();
