/**
 * Serves one PGlite instance over the Postgres wire protocol to many clients.
 *
 * PGlite is a single backend: one session for everyone. pglite-socket queues
 * each protocol message separately, so two connections' extended-protocol
 * sequences (Parse/Bind/Execute/Sync) interleave and collide on the unnamed
 * statement ("unnamed prepared statement does not exist", parameters of one
 * query bound to another's) — false 500s as soon as requests run concurrently,
 * which is every real client of `npm start`.
 *
 * This server keeps each connection's messages together: messages are buffered
 * up to a Sync/Query/Flush and run as one unit under a session lock, and the
 * lock stays with a connection while its transaction is open (ReadyForQuery
 * status 'T' or 'E'), exactly the isolation a single-session database can give.
 * Other connections wait, as they would on row locks in a real server.
 */

import type { AddressInfo } from "node:net";
import net from "node:net";
import type { PGlite } from "@electric-sql/pglite";

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
/** Message types after which the client waits for answers. */
const BATCH_END = new Set(["S", "Q", "H"]);

class SessionLock {
  private owner: object | undefined;
  private waiters: (() => void)[] = [];

  async acquire(holder: object): Promise<void> {
    while (this.owner !== undefined && this.owner !== holder) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    this.owner = holder;
  }

  release(holder: object): void {
    if (this.owner !== holder) return;
    this.owner = undefined;
    this.waiters.shift()?.();
  }

  heldBy(holder: object): boolean {
    return this.owner === holder;
  }
}

/** The transaction status of the last ReadyForQuery in a backend answer, if any. */
function lastReadyStatus(output: Uint8Array): string | undefined {
  let status: string | undefined;
  let offset = 0;
  const view = new DataView(output.buffer, output.byteOffset, output.byteLength);
  while (offset + 5 <= output.length) {
    const type = output[offset];
    const length = view.getInt32(offset + 1);
    if (type === 0x5a /* Z */ && offset + 5 < output.length) status = String.fromCharCode(output[offset + 5] as number);
    offset += 1 + length;
  }
  return status;
}

export interface PgliteServer {
  port: number;
  close(): Promise<void>;
}

export async function servePglite(db: PGlite, port = 0, host = "127.0.0.1"): Promise<PgliteServer> {
  const lock = new SessionLock();
  const sockets = new Set<net.Socket>();

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    const connection = {};
    let buffer = Buffer.alloc(0);
    let inStartup = true;
    let pending: Buffer[] = [];
    let chain: Promise<void> = Promise.resolve();
    let closed = false;

    const run = (messages: Buffer[]) => {
      chain = chain.then(async () => {
        if (closed) return;
        await lock.acquire(connection);
        let status: string | undefined;
        try {
          for (const message of messages) {
            const output = await db.execProtocolRaw(new Uint8Array(message));
            if (output.length > 0 && !closed) socket.write(output);
            status = lastReadyStatus(output) ?? status;
          }
        } catch (error) {
          console.error("[pglite-server] protocol error:", error);
          socket.destroy();
          status = "I";
        } finally {
          // Inside a transaction the session stays this connection's.
          if (status !== "T" && status !== "E") lock.release(connection);
        }
      });
    };

    const hangUp = () => {
      if (closed) return;
      closed = true;
      sockets.delete(socket);
      chain = chain.then(async () => {
        if (lock.heldBy(connection)) {
          // The client vanished mid-transaction: undo it so the session is clean for the next one.
          await db.exec("ROLLBACK").catch(() => {});
          lock.release(connection);
        }
      });
    };

    socket.on("data", (chunk: Buffer) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      for (;;) {
        if (inStartup) {
          if (buffer.length < 8) return;
          const length = buffer.readInt32BE(0);
          if (buffer.length < length) return;
          const code = buffer.readInt32BE(4);
          const message = buffer.subarray(0, length);
          buffer = buffer.subarray(length);
          if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
            socket.write("N");
            continue;
          }
          if (code === CANCEL_REQUEST) {
            socket.end();
            return;
          }
          inStartup = false;
          run([Buffer.from(message)]);
          continue;
        }
        if (buffer.length < 5) return;
        const type = String.fromCharCode(buffer[0] as number);
        const length = buffer.readInt32BE(1);
        if (buffer.length < length + 1) return;
        const message = Buffer.from(buffer.subarray(0, length + 1));
        buffer = buffer.subarray(length + 1);
        if (type === "X") {
          socket.end();
          hangUp();
          return;
        }
        pending.push(message);
        if (BATCH_END.has(type)) {
          run(pending);
          pending = [];
        }
      }
    });
    socket.on("error", hangUp);
    socket.on("close", hangUp);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
