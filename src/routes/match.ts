import { createRouter } from "../lib/router.ts";

export const matchRoutes = createRouter();
