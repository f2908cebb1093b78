/**
 * `npm start` (scripts/dev.ts) as a developer meets it: it refuses a port that
 * something else holds, runs the cron locally, and when it is killed outright
 * (SIGKILL: no handler runs) wrangler and workerd go with it and free the port.
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../scripts/lib/database.ts";
import { freePort, portInUse } from "../../scripts/lib/wrangler.ts";

interface Launcher {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const cleanup of cleanups) cleanup();
});

function startLauncher(port: number, extraEnv: Record<string, string> = {}): Launcher {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "culturebridge-launcher-"));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    DATA_DIR: dataDir,
    SEED_DEMO: "0",
    ...extraEnv,
  };
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, ["scripts/dev.ts"], { cwd: projectRoot, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  return { child, output: () => output, exited };
}

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs: number, context = () => "") {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${context()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Every live process below `root` (Linux /proc: parent links). */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      // pid (comm) state ppid ...: comm may contain spaces, so split after the last ')'
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      /* exited while we looked */
    }
  }
  const found: number[] = [];
  const visit = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      visit(child);
    }
  };
  visit(root);
  return found;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    // a zombie still answers kill(0): it holds nothing, count it as gone
    return !fs.readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
  } catch {
    return false;
  }
};

describe.skipIf(process.platform !== "linux")("npm start launcher", () => {
  it("refuses to start when another process already listens on its port, and says so", async () => {
    const squatter = net.createServer((socket) => {
      // The launcher's port probe may close its side with a reset before our answer is flushed;
      // an unhandled 'error' on this socket would surface as an uncaught ECONNRESET in vitest.
      socket.on("error", () => {});
      socket.end("HTTP/1.1 503 Service Unavailable\r\n\r\n");
    });
    const port = await freePort();
    await new Promise<void>((resolve) => squatter.listen(port, "127.0.0.1", () => resolve()));
    try {
      const launcher = startLauncher(port);
      const code = await launcher.exited;
      expect(code).toBe(1);
      expect(launcher.output()).toMatch(new RegExp(`port ${port} .*already in use`));
      expect(launcher.output()).not.toMatch(/ready on/);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  }, 60_000);

  it("runs the cron, and takes wrangler and workerd with it when killed with SIGKILL", async () => {
    const port = await freePort();
    const launcher = startLauncher(port, { CRON_INTERVAL_SECONDS: "2" });
    const pid = launcher.child.pid as number;
    await waitFor("ready", () => /API ready on/.test(launcher.output()), 240_000, launcher.output);
    expect(launcher.output()).toMatch(/cron: the scheduled handler .* runs every 2 s/);
    // The Worker's scheduled handler logs its report: the launcher's trigger reached it.
    await waitFor("a scheduled run", () => /"msg":"maintenance"/.test(launcher.output()), 60_000, launcher.output);
    expect(launcher.output()).not.toMatch(/cron: scheduled handler failed/);

    const tree = descendants(pid);
    const commands = tree.map((child) => fs.readFileSync(`/proc/${child}/cmdline`, "utf8").replaceAll("\0", " "));
    expect(commands.some((command) => command.includes("workerd"))).toBe(true);
    expect(commands.some((command) => command.includes("wrangler"))).toBe(true);

    process.kill(pid, "SIGKILL");
    await launcher.exited;
    await waitFor(
      "the launcher's children to exit",
      () => tree.every((child) => !alive(child)),
      20_000,
      () => tree.filter(alive).join(", "),
    );
    expect(await portInUse(port)).toBe(false);
  }, 360_000);
});
