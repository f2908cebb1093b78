import { createRouter } from "../lib/router.ts";

export const calendarRoutes = createRouter();
