import { createRouter } from "../lib/router.ts";

export const communityRoutes = createRouter();
