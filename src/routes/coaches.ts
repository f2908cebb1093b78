import { createRouter } from "../lib/router.ts";

export const coachesRoutes = createRouter();
