import { createRouter } from "../lib/router.ts";

export const profileRoutes = createRouter();
