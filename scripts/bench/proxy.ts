/**
 * The WebSocket-to-TCP proxy in a process of its own for the benchmark, so
 * that the load generator (autocannon, in the bench process) and the proxy do
 * not share one event loop: in production the proxy is Neon's, on other
 * machines. Prints `{"url": ...}` once listening; exits on SIGTERM or when its
 * parent goes away (stdin closes).
 */
import { startWsProxy } from "../lib/ws-proxy.ts";

// The database it may dial comes as the only argument (the proxy refuses any other address).
const target = process.argv[2];
if (!target) throw new Error("usage: proxy.ts <database url>");
const proxy = await startWsProxy({ target });
process.stdout.write(`${JSON.stringify({ url: proxy.url })}\n`);
const stop = async () => {
  await proxy.close().catch(() => {});
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
process.stdin.on("end", () => void stop());
process.stdin.resume();
