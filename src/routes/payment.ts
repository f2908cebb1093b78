import { createRouter } from "../lib/router.ts";

export const paymentRoutes = createRouter();
