/**
 * The local WebSocket-to-Postgres proxy must not be a door for web pages: a
 * browser's WebSocket always carries an Origin (the Neon driver, in workerd or
 * through `ws` in Node, sends none -- test/workers/runtime.test.ts goes through
 * the proxy from workerd), and it dials only the configured database.
 */
import net from "node:net";
import { Pool as NeonPool, neonConfig } from "@neondatabase/serverless";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type DatabaseHandle, startEmbeddedDatabase } from "../../scripts/lib/database.ts";
import { startWsProxy, targetAddress, type WsProxy } from "../../scripts/lib/ws-proxy.ts";

let database: DatabaseHandle;
let proxy: WsProxy;
/** Another local service the proxy must not reach. */
let bystander: net.Server;
let bystanderPort: number;
let bystanderConnections = 0;

beforeAll(async () => {
  database = await startEmbeddedDatabase({});
  proxy = await startWsProxy({ target: database.url });
  bystander = net.createServer((socket) => {
    bystanderConnections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => bystander.listen(0, "127.0.0.1", () => resolve()));
  bystanderPort = (bystander.address() as net.AddressInfo).port;
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await new Promise((resolve) => bystander?.close(resolve));
  await database?.close();
});

/** Opens a WebSocket to the proxy; resolves "open" or the HTTP status of a refused handshake. */
function handshake(address: string, headers: Record<string, string> = {}): Promise<string | number> {
  return new Promise((resolve) => {
    const socket = new WebSocket(`${proxy.url}/v2?address=${address}`, { headers });
    socket.on("open", () => {
      socket.close();
      resolve("open");
    });
    socket.on("unexpected-response", (_request, response) => resolve(response.statusCode ?? 0));
    socket.on("error", () => resolve("error"));
  });
}

const databaseAddress = () => targetAddress(database.url);

describe("ws-proxy", () => {
  it("serves the configured database to a client without an Origin (the Neon driver)", async () => {
    expect(await handshake(databaseAddress())).toBe("open");
    neonConfig.webSocketConstructor = WebSocket as unknown as typeof globalThis.WebSocket;
    neonConfig.wsProxy = (host, port) => `127.0.0.1:${proxy.port}/v2?address=${host}:${port}`;
    neonConfig.useSecureWebSocket = false;
    neonConfig.pipelineTLS = false;
    neonConfig.pipelineConnect = false;
    const pool = new NeonPool({ connectionString: database.url });
    try {
      const result = await pool.query<{ ok: number }>("select 1 as ok");
      expect(result.rows[0]?.ok).toBe(1);
    } finally {
      await pool.end();
    }
  });

  it("refuses a handshake from a web page (any Origin header), before any byte reaches the database", async () => {
    expect(await handshake(databaseAddress(), { Origin: "https://evil.example" })).toBe(403);
    expect(await handshake(databaseAddress(), { Origin: "http://127.0.0.1:8787" })).toBe(403);
    expect(await handshake(databaseAddress(), { Origin: "null" })).toBe(403);
  });

  it("refuses any address other than the configured database (other local ports, other hosts)", async () => {
    const before = bystanderConnections;
    expect(await handshake(`127.0.0.1:${bystanderPort}`)).toBe(403);
    expect(await handshake(`localhost:${bystanderPort}`)).toBe(403);
    expect(await handshake("10.0.0.1:5432")).toBe(403);
    expect(await handshake("")).toBe(403);
    expect(await handshake("127.0.0.1:notaport")).toBe(403);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(bystanderConnections).toBe(before);
  });

  it("normalises the configured target from a URL or host:port", () => {
    expect(targetAddress("postgresql://u:p@127.0.0.1:6543/db?sslmode=disable")).toBe("127.0.0.1:6543");
    expect(targetAddress("LOCALHOST:5433")).toBe("localhost:5433");
    expect(targetAddress("postgres://db.example.com/x")).toBe("db.example.com:5432");
  });
});
