/**
 * A TCP proxy that adds a round-trip time: every chunk is forwarded DELAY_MS / 2
 * later in each direction, in order. Stands for the distance between the edge
 * (Worker + pooler) and the database region in the far-database scenario.
 * Own process (the bench's event loop drives the load). Usage:
 *   node scripts/bench/delay-proxy.ts <targetHost:port> <rttMs>
 * Prints `{"port": N}` once listening; exits on SIGTERM or when stdin closes.
 */
import net from "node:net";

const [target = "127.0.0.1:55432", rtt = "50"] = process.argv.slice(2);
const [host, port] = target.split(":");
const oneWay = Number(rtt) / 2;

/**
 * How late the timers fire (ms past the intended one-way delay), reported on exit: on a loaded
 * machine this process waits for a CPU too, and every far round trip then costs more than the RTT.
 */
const lateness: number[] = [];

function forward(from: net.Socket, to: net.Socket): void {
  from.on("data", (chunk) => {
    if (oneWay <= 0) {
      to.write(chunk);
      return;
    }
    const due = performance.now() + oneWay;
    // Timers of equal delay fire in the order they were set: chunks keep their order.
    setTimeout(() => {
      if (lateness.length < 1_000_000) lateness.push(performance.now() - due);
      to.write(chunk);
    }, oneWay);
  });
  from.on("end", () => setTimeout(() => to.end(), oneWay));
  from.on("error", () => to.destroy());
}

const server = net.createServer((client) => {
  client.setNoDelay(true);
  const upstream = net.connect(Number(port), host, () => upstream.setNoDelay(true));
  forward(client, upstream);
  forward(upstream, client);
  upstream.on("close", () => client.destroy());
  client.on("close", () => upstream.destroy());
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === "object" && address ? address.port : 0 })}\n`);
});
const stop = () => {
  if (lateness.length > 0) {
    const sorted = lateness.sort((a, b) => a - b);
    const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!.toFixed(1);
    process.stderr.write(
      `delay proxy (+${rtt} ms RTT): ${sorted.length} chunks delayed, timer lateness p50 ${at(0.5)} ms, p90 ${at(0.9)} ms, p99 ${at(0.99)} ms per direction\n`,
    );
  }
  server.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stdin.on("end", stop);
process.stdin.resume();
