/**
 * PgBouncer in transaction mode in front of the bench database: what Neon's
 * pooled endpoint (and Cloudflare Hyperdrive) put between a Worker and
 * Postgres. A Worker still opens one connection per request (it cannot keep
 * one across requests), but it lands on the pooler, which hands it an
 * already-running, warm Postgres backend instead of forking a new one.
 * The benchmark drives a second Worker through it to measure that lever.
 *
 * Debian's `pgbouncer` package; installed with apt-get when missing and we
 * are root (as scripts/local-postgres.sh does for Postgres), else skipped.
 */

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export interface Pooler {
  port: number;
  stop(): Promise<void>;
}

function which(binary: string): string | undefined {
  for (const dir of ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"]) {
    const candidate = path.join(dir, binary);
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

const isRoot = () => typeof process.getuid === "function" && process.getuid() === 0;

/** The pgbouncer binary, installing Debian's package when possible; undefined when unavailable. */
export function pgbouncerBinary(log: (line: string) => void): string | undefined {
  const found = which("pgbouncer");
  if (found || !isRoot()) return found;
  try {
    log("installing pgbouncer (apt-get)");
    execFileSync("apt-get", ["install", "-y", "-qq", "pgbouncer"], {
      stdio: "ignore",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
  } catch {
    try {
      execFileSync("apt-get", ["update", "-qq"], { stdio: "ignore" });
      execFileSync("apt-get", ["install", "-y", "-qq", "pgbouncer"], {
        stdio: "ignore",
        env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      });
    } catch {
      return undefined;
    }
  }
  return which("pgbouncer");
}

/** Starts pgbouncer on `port` for the Postgres server of `databaseUrl` (trust auth, loopback only). */
export async function startPooler(binary: string, databaseUrl: string, port: number): Promise<Pooler> {
  const target = new URL(databaseUrl);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "culturebridge-bench-pgbouncer-"));
  const user = decodeURIComponent(target.username || "postgres");
  fs.writeFileSync(path.join(dir, "users.txt"), `"${user}" ""\n`);
  fs.writeFileSync(
    path.join(dir, "pgbouncer.ini"),
    [
      "[databases]",
      `* = host=${target.hostname} port=${target.port || "5432"}`,
      "[pgbouncer]",
      "listen_addr = 127.0.0.1",
      `listen_port = ${port}`,
      "auth_type = trust",
      `auth_file = ${path.join(dir, "users.txt")}`,
      // Transaction pooling, as Neon's pooled endpoint: a server connection per transaction.
      "pool_mode = transaction",
      "max_client_conn = 2000",
      "default_pool_size = 20",
      "ignore_startup_parameters = extra_float_digits,options,application_name",
      "unix_socket_dir =",
      `logfile = ${path.join(dir, "pgbouncer.log")}`,
      "",
    ].join("\n"),
  );
  // pgbouncer refuses to run as root.
  const asRoot = isRoot();
  if (asRoot) execFileSync("chown", ["-R", "postgres", dir]);
  const args = [path.join(dir, "pgbouncer.ini")];
  const child: ChildProcess = asRoot
    ? spawn("runuser", ["-u", "postgres", "--", binary, ...args], { stdio: "ignore" })
    : spawn(binary, args, { stdio: "ignore" });
  // exitCode stays null when a signal ended the process: remember the exit itself.
  let exited = false;
  const gone = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
    }),
  );
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (exited) throw new Error(`pgbouncer exited (${child.exitCode ?? child.signalCode}); see ${dir}/pgbouncer.log`);
    const log = fs.existsSync(path.join(dir, "pgbouncer.log")) ? fs.readFileSync(path.join(dir, "pgbouncer.log"), "utf8") : "";
    if (/listening on/i.test(log)) break;
    if (Date.now() > deadline) throw new Error(`pgbouncer did not start; see ${dir}/pgbouncer.log`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    port,
    stop: async () => {
      if (!exited) {
        child.kill("SIGTERM");
        await gone;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
