import type { Log } from "../env.ts";

/** One JSON line per event (Workers Logs / wrangler tail index the fields). */
export function createLog(base: Record<string, unknown> = {}): Log {
  const write = (level: "info" | "error", msg: string, fields: Record<string, unknown> = {}) => {
    const line = JSON.stringify({ level, msg, ...base, ...fields });
    if (level === "error") console.error(line);
    else console.log(line);
  };
  return { info: (msg, fields) => write("info", msg, fields), error: (msg, fields) => write("error", msg, fields) };
}
