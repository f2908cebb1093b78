/**
 * The WebSocket-to-TCP proxy in a process of its own for the benchmark, so
 * that the load generator (autocannon, in the bench process) and the proxy do
 * not share one event loop: in production the proxy is Neon's, on other
 * machines. Prints `{"url": ...}` once listening; exits on SIGTERM or when its
 * parent goes away (stdin closes).
 */
import { startWsProxy } from "../lib/ws-proxy.ts";

const proxy = await startWsProxy(0);
process.stdout.write(`${JSON.stringify({ url: proxy.url })}\n`);
const stop = async () => {
  await proxy.close().catch(() => {});
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
process.stdin.on("end", () => void stop());
process.stdin.resume();
