/**
 * Runs `wrangler dev` (real workerd) as a child process group, for `npm start`,
 * tests and benchmarks.
 *
 * The group dies with its parent, however the parent dies. A SIGKILL of the
 * launcher runs no handler, so it cannot stop its children; before this the
 * wrangler group (its own group, so that stop() can end wrangler and workerd
 * together) lived on, kept the port and answered 503, and the next start
 * took the orphan's /health for its own "ready". Now wrangler's process
 * inherits a pipe from the parent (fd 3) and a preload (PARENT_WATCH, a data:
 * URL given to node's --import) watches it: the kernel closes the parent's end
 * when the parent dies for any reason, and the preload then ends the whole
 * group (SIGTERM, SIGKILL 3 s later). Linux's PR_SET_PDEATHSIG would do the
 * same but is not reachable from Node; this works on every POSIX system.
 */

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

/** True when something already accepts connections on host:port. */
export async function portInUse(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(1000);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve(true); // something holds the port but does not answer: not ours to use either
    });
    socket.once("error", () => resolve(false));
  });
}

/** The environment variable naming the parent-watch pipe's fd; the preload removes it so grandchildren don't act on it. */
const PARENT_FD_VARIABLE = "CULTUREBRIDGE_PARENT_FD";
const PARENT_FD = 3;

/**
 * Preloaded into wrangler's node process: when the pipe from the parent ends
 * (the parent died or closed it), end this process group. wrangler's bin
 * re-spawns node with the same execArgv, so the preload also runs there; the
 * variable is gone by then and it does nothing.
 */
const PARENT_WATCH = `
const fd = Number(process.env.${PARENT_FD_VARIABLE});
delete process.env.${PARENT_FD_VARIABLE};
if (fd > 2) {
  const { Socket } = await import("node:net");
  const pipe = new Socket({ fd, readable: true, writable: false });
  let dying = false;
  const die = () => {
    if (dying) return;
    dying = true;
    process.on("SIGTERM", () => {});
    try { process.kill(-process.pid, "SIGTERM"); } catch {}
    setTimeout(() => { try { process.kill(-process.pid, "SIGKILL"); } catch {} }, 3000);
  };
  pipe.on("end", die);
  pipe.on("error", die);
  pipe.resume();
  pipe.unref();
}
`;

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
  /** A fixed DevTools port (e.g. to take a CPU profile of the Worker under load); default: any free port. */
  inspectorPort?: number;
}

export function startWranglerDev(options: WranglerDevOptions): WranglerDev {
  const host = "127.0.0.1";
  const wranglerBin = path.join(projectRoot, "node_modules", "wrangler", "bin", "wrangler.js");
  const args = [
    "--import",
    `data:text/javascript,${encodeURIComponent(PARENT_WATCH)}`,
    wranglerBin,
    "dev",
    "--ip",
    host,
    "--port",
    String(options.port),
    "--inspector-port",
    String(options.inspectorPort ?? 0),
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
    stdio: ["ignore", output === "inherit" ? "inherit" : "pipe", output === "inherit" ? "inherit" : "pipe", "pipe"],
    detached: true, // own process group: stop() ends wrangler and workerd together
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", [PARENT_FD_VARIABLE]: String(PARENT_FD) },
  });
  // Our end of the parent-watch pipe: never written, closed by the kernel when this process dies.
  const parentPipe = child.stdio[PARENT_FD] as import("node:stream").Writable | null;
  parentPipe?.on("error", () => {});
  (parentPipe as unknown as { unref?: () => void } | null)?.unref?.();
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
