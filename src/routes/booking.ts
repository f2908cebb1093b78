import { createRouter } from "../lib/router.ts";

export const bookingRoutes = createRouter();
