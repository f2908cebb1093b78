/**
 * WebSocket-to-TCP proxy for the Neon serverless driver, in the shape of
 * Neon's own `wsproxy`: the driver connects to `ws://host:port/v2?address=db:5432`
 * and this proxy pipes the binary frames to that TCP address.
 *
 * It watches the client's Postgres messages for Terminate ('X') and then hangs
 * up both sides itself: the driver never closes its socket inside workerd after
 * `pool.end()`, and pglite-socket (unlike a real server) does not hang up on
 * Terminate, so without this every request would leak a connection.
 *
 * It is reachable by anything on the machine, a web page in the developer's
 * browser included (a page may open a WebSocket to 127.0.0.1), and the database
 * behind it trusts everyone. So (issue 19):
 *  - a handshake carrying an `Origin` header is refused (403): browsers always
 *    send one on a WebSocket handshake, the Neon driver in workerd and in Node
 *    (the `ws` package) send none;
 *  - the only address it dials is the configured database's host:port; any
 *    other `address=` is refused (403), so it is no gateway to other local ports.
 */

import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import net from "node:net";
import type { RawData, WebSocket } from "ws";

// Loaded through require: bundler-style resolvers (vite in the workers test
// project) pick ws's browser stub for an ESM import, which has no server.
const { WebSocketServer } = createRequire(import.meta.url)("ws") as typeof import("ws");

const SSL_REQUEST_CODE = 80877103;
const GSSENC_REQUEST_CODE = 80877104;
const TERMINATE = 0x58; // 'X'

/** Incremental scanner of the frontend protocol stream; reports Terminate. */
export class FrontendMessageScanner {
  private buffer = Buffer.alloc(0);
  private inStartup = true;

  /** Feeds bytes; returns true once a Terminate message has been seen. */
  push(chunk: Buffer): boolean {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.inStartup) {
        if (this.buffer.length < 8) return false;
        const length = this.buffer.readInt32BE(0);
        if (this.buffer.length < length) return false;
        const code = this.buffer.readInt32BE(4);
        if (code !== SSL_REQUEST_CODE && code !== GSSENC_REQUEST_CODE) this.inStartup = false;
        this.buffer = this.buffer.subarray(length);
        continue;
      }
      if (this.buffer.length < 5) return false;
      const type = this.buffer[0];
      const length = this.buffer.readInt32BE(1);
      if (type === TERMINATE) return true;
      if (this.buffer.length < length + 1) return false;
      this.buffer = this.buffer.subarray(length + 1);
    }
  }
}

function toBuffer(data: RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return Buffer.from(new Uint8Array(data));
  return data;
}

export interface WsProxyOptions {
  /** The database it may dial: a postgres:// URL or "host:port" (several for tests that relay). */
  target: string | string[];
  port?: number;
  host?: string;
}

/** "host:port" of a postgres URL or of a "host:port" string (port 5432 by default). */
export function targetAddress(target: string): string {
  const url = new URL(target.includes("://") ? target : `postgresql://${target}`);
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  return `${host}:${url.port || "5432"}`;
}

export interface WsProxy {
  url: string;
  port: number;
  openConnections(): number;
  close(): Promise<void>;
}

/** The requested `address=` if it is one of `allowed`, else undefined. */
function allowedTarget(requestUrl: string | undefined, allowed: Set<string>): { host: string; port: number } | undefined {
  const address = new URL(requestUrl ?? "/", "http://proxy").searchParams.get("address") ?? "";
  let normalised: string;
  try {
    normalised = targetAddress(address);
  } catch {
    return undefined;
  }
  if (!allowed.has(normalised)) return undefined;
  const separator = normalised.lastIndexOf(":");
  return { host: normalised.slice(0, separator), port: Number(normalised.slice(separator + 1)) };
}

export async function startWsProxy(options: WsProxyOptions): Promise<WsProxy> {
  const { port = 0, host = "127.0.0.1" } = options;
  const allowed = new Set((Array.isArray(options.target) ? options.target : [options.target]).map(targetAddress));
  const wss = new WebSocketServer({
    host,
    port,
    // Refused before the upgrade, with a status a browser's console shows.
    verifyClient: ({ req }, done) => {
      if (req.headers.origin !== undefined) return done(false, 403, "browser origins are not allowed");
      if (!allowedTarget(req.url, allowed)) return done(false, 403, "only the configured database may be dialled");
      done(true);
    },
  });
  const sockets = new Set<net.Socket>();

  wss.on("connection", (ws: WebSocket, request) => {
    if (process.env.PROXY_DEBUG) console.log("proxy connection", request.url, request.headers);
    const target = allowedTarget(request.url, allowed);
    if (!target) {
      ws.close(1008, "address not allowed");
      return;
    }
    const { host: targetHost, port: targetPort } = target;
    const socket = net.connect({ host: targetHost, port: targetPort });
    socket.setNoDelay(true);
    sockets.add(socket);
    const scanner = new FrontendMessageScanner();
    const pending: Buffer[] = [];
    let connected = false;

    const hangUp = () => {
      socket.end();
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close();
    };

    socket.on("connect", () => {
      connected = true;
      for (const chunk of pending) socket.write(chunk);
      pending.length = 0;
    });
    socket.on("data", (data) => {
      if (process.env.PROXY_DEBUG) console.log("proxy s->c", data.length, data.subarray(0, 24));
      if (ws.readyState === ws.OPEN) ws.send(data, { binary: true });
    });
    socket.on("error", () => hangUp());
    socket.on("close", () => {
      sockets.delete(socket);
      if (ws.readyState === ws.OPEN) ws.close(1000);
    });

    ws.on("message", (data) => {
      const chunk = toBuffer(data);
      if (process.env.PROXY_DEBUG) console.log("proxy c->s", chunk.length, chunk.subarray(0, 16));
      if (connected) socket.write(chunk);
      else pending.push(chunk);
      if (scanner.push(chunk)) {
        // Let the Terminate reach the server, then hang up; the socket's
        // close closes the WebSocket cleanly (1000).
        if (connected) socket.end();
        else socket.once("connect", () => socket.end());
        setTimeout(() => socket.destroy(), 1000).unref();
      }
    });
    ws.on("close", () => socket.end());
    ws.on("error", () => hangUp());
  });

  await new Promise<void>((resolve, reject) => {
    wss.once("listening", () => resolve());
    wss.once("error", reject);
  });
  const actualPort = (wss.address() as AddressInfo).port;
  return {
    url: `ws://${host}:${actualPort}`,
    port: actualPort,
    openConnections: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
}
