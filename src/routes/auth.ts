import { createRouter } from "../lib/router.ts";

export const authRoutes = createRouter();
