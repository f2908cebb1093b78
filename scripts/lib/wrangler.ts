/** Runs `wrangler dev` (real workerd) as a child process group, for `npm start`, tests and benchmarks. */

import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { projectRoot } from "./database.ts";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface WranglerDev {
  url: string;
  child: ChildProcess;
  /** Resolves once GET /health answered (any status) or rejects after the timeout. */
  ready(timeoutMs?: number): Promise<number>;
  stop(): Promise<void>;
}

export interface WranglerDevOptions {
  port: number;
  vars: Record<string, string>;
  persistTo: string;
  /** Where wrangler's output goes; defaults to this process's stdout/stderr. */
  output?: "inherit" | "ignore" | ((chunk: string) => void);
  extraArgs?: string[];
}

export function startWranglerDev(options: WranglerDevOptions): WranglerDev {
  const host = "127.0.0.1";
  const wranglerBin = path.join(projectRoot, "node_modules", "wrangler", "bin", "wrangler.js");
  const args = [
    wranglerBin,
    "dev",
    "--ip",
    host,
    "--port",
    String(options.port),
    "--inspector-port",
    "0",
    "--persist-to",
    options.persistTo,
    "--show-interactive-dev-session=false",
    "--log-level",
    "log",
    ...(options.extraArgs ?? []),
  ];
  for (const [name, value] of Object.entries(options.vars)) args.push("--var", `${name}:${value}`);
  const output = options.output ?? "inherit";
  const child = spawn(process.execPath, args, {
    cwd: projectRoot,
    stdio: ["ignore", output === "inherit" ? "inherit" : "pipe", output === "inherit" ? "inherit" : "pipe"],
    detached: true, // own process group: stop() ends wrangler and workerd together
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  if (typeof output === "function") {
    child.stdout?.on("data", (chunk: Buffer) => output(chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => output(chunk.toString()));
  }
  const url = `http://${host}:${options.port}`;
  let exited = false;
  child.once("exit", () => {
    exited = true;
  });

  return {
    url,
    child,
    async ready(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (exited) throw new Error("wrangler dev exited before it was ready");
        try {
          const response = await fetch(`${url}/health`);
          await response.arrayBuffer();
          return response.status;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
      throw new Error(`wrangler dev not ready after ${timeoutMs} ms`);
    },
    async stop() {
      if (exited || !child.pid) return;
      const pid = child.pid;
      const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      try {
        process.kill(-pid, "SIGTERM");
      } catch {
        child.kill("SIGTERM");
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-pid, "SIGKILL");
        } catch {
          /* already gone */
        }
      }, 5000);
      await gone;
      clearTimeout(timer);
    },
  };
}

/**
 * A copy of `configPath` (written beside it, so its relative paths still hold) with a
 * `[[hyperdrive]]` binding HYPERDRIVE whose local connection string is `databaseUrl`:
 * `wrangler dev` then emulates Hyperdrive (workerd connects over TCP straight to that
 * database), the path the deployed Worker takes through a real Hyperdrive. The id is a
 * placeholder wrangler dev never resolves. Remove the file when done.
 */
export function configWithHyperdrive(databaseUrl: string, configPath = path.join(projectRoot, "wrangler.toml")): string {
  // wrangler refuses a Hyperdrive origin without a password; a trust-auth local server ignores this one.
  const origin = new URL(databaseUrl);
  if (!origin.password) origin.password = "hyperdrive-local";
  const derived = path.join(path.dirname(configPath), `.wrangler-hyperdrive-${process.pid}-${Date.now().toString(36)}.toml`);
  const block = [
    "",
    "# Added by scripts/lib/wrangler.ts: local Hyperdrive emulation.",
    "[[hyperdrive]]",
    'binding = "HYPERDRIVE"',
    'id = "00000000000000000000000000000000"',
    `localConnectionString = ${JSON.stringify(origin.toString())}`,
    "",
  ].join("\n");
  fs.writeFileSync(derived, fs.readFileSync(configPath, "utf8") + block);
  return derived;
}
