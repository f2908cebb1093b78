/**
 * Serves one PGlite instance over the Postgres wire protocol to many clients.
 *
 * PGlite is a single backend: ONE session for everyone. Whatever one
 * connection's messages do to that session (an open transaction, an
 * extended-protocol sequence waiting for its Sync, an error that makes the
 * backend skip messages until Sync) every other connection's messages see too.
 * So this server is a session scheduler: a connection OWNS the session from its
 * first message until the backend answers ReadyForQuery with status 'I' (idle,
 * no transaction) and nothing of that connection has run since. Other
 * connections queue (FIFO) meanwhile, as they would on row locks in a real
 * server.
 *
 * Root cause of the lost writes this replaced (issue 19): ownership used to end
 * after any batch of messages whose answer carried no ReadyForQuery. The Neon
 * serverless driver (what the Worker uses) sends every extended query as
 * Parse/Bind/Describe/Execute/Flush/Sync (its Connection.sync() writes a Flush
 * first), so the batch ending at Flush released the session while the query's
 * implicit transaction (or the explicit one it ran in) waited for its Sync.
 * Another connection's messages then ran inside it:
 *  - an error there (duplicate key, FK violation) put the backend into
 *    "ignore till Sync": the other connection's Parse/Bind/Execute were
 *    silently skipped and its own Sync answered a bare ReadyForQuery, which the
 *    driver takes as success -- a 201 for a sign-up whose INSERT never ran;
 *  - a ROLLBACK or error of one connection undid the statements of another
 *    that had joined its transaction, and one connection's Sync committed, or
 *    its BEGIN captured, another's work -- "row inserted a statement earlier
 *    not visible", "webhook answered 200 but the row is unchanged";
 *  - a Query run while the skip-till-Sync state was on got no answer at all
 *    (a hung request).
 * node-postgres sends no Flush before Sync, which is why tests over `pg` did
 * not see it.
 *
 * Also here:
 *  - a connection that goes away (or whose message makes PGlite throw) while it
 *    owns the session is cleaned up before anyone else runs: a forced error
 *    aborts any un-synced work (never a Sync that would COMMIT it), Sync, and
 *    ROLLBACK of an explicit transaction, exactly what a real backend's exit does;
 *  - named prepared statements are namespaced per connection (two clients may
 *    both prepare "get_user") and closed when their connection ends;
 *  - a connection idle inside a transaction for `idleInTransactionTimeoutMs` is
 *    terminated (FATAL 25P03, as Postgres' idle_in_transaction_session_timeout),
 *    because on a single session it blocks every other client, new connections
 *    included.
 *
 * PGlite's own `transaction()`/`exec()` are not used: their mutexes serialise
 * only callers of PGlite's JS API, while `execProtocolRaw` bypasses them, so
 * this server must be the instance's only user while it serves.
 */

import type { AddressInfo } from "node:net";
import net from "node:net";
import type { PGlite } from "@electric-sql/pglite";

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
/** Message types after which the client waits for answers: Sync, Query, Flush, CopyDone, CopyFail, FunctionCall. */
const BATCH_END = new Set(["S", "Q", "H", "c", "f", "F"]);

/** Hands the single session to one connection at a time, in arrival order. */
class SessionScheduler<T> {
  private owner: T | undefined;
  private queue: { holder: T; grant: () => void }[] = [];

  acquire(holder: T): Promise<void> {
    if (this.owner === undefined || this.owner === holder) {
      this.owner = holder;
      return Promise.resolve();
    }
    return new Promise<void>((grant) => this.queue.push({ holder, grant }));
  }

  /** Gives the session straight to the next waiter (no window for another to slip in). */
  release(holder: T): void {
    if (this.owner !== holder) return;
    const next = this.queue.shift();
    this.owner = next?.holder;
    next?.grant();
  }

  heldBy(holder: T): boolean {
    return this.owner === holder;
  }

  waiting(): number {
    return this.queue.length;
  }
}

/** Backend message types in an answer, and the status of its last ReadyForQuery. */
function scanAnswer(output: Uint8Array): { ready?: string; error: boolean } {
  let ready: string | undefined;
  let error = false;
  let offset = 0;
  const view = new DataView(output.buffer, output.byteOffset, output.byteLength);
  while (offset + 5 <= output.length) {
    const type = output[offset];
    const length = view.getInt32(offset + 1);
    if (type === 0x5a /* Z */ && offset + 5 < output.length) {
      ready = String.fromCharCode(output[offset + 5] as number);
      error = false; // an error before a ReadyForQuery is over with it
    }
    if (type === 0x45 /* E */) error = true;
    offset += 1 + length;
  }
  return { ready, error };
}

function frontendMessage(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, "latin1");
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

const cstring = (value: string) => Buffer.from(`${value}\0`, "utf8");

function readCString(message: Buffer, offset: number): [string, number] {
  const end = message.indexOf(0, offset);
  if (end < 0) throw new Error("malformed frontend message: unterminated string");
  return [message.toString("utf8", offset, end), end + 1];
}

/** An ErrorResponse, for answers the server itself gives (FATAL on timeout). */
function errorResponse(severity: string, code: string, text: string): Buffer {
  const body = Buffer.concat([
    Buffer.from("S"),
    cstring(severity),
    Buffer.from("V"),
    cstring(severity),
    Buffer.from("C"),
    cstring(code),
    Buffer.from("M"),
    cstring(text),
    Buffer.from([0]),
  ]);
  const header = Buffer.alloc(5);
  header.write("E", 0, "latin1");
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

const SYNC = frontendMessage("S", Buffer.alloc(0));
const ROLLBACK = frontendMessage("Q", cstring("ROLLBACK"));
/** Binding a statement that cannot exist: an error that aborts whatever is un-synced (never commits it). */
const FORCED_ABORT = frontendMessage(
  "B",
  Buffer.concat([cstring(""), cstring("\u0001pglite-server abort"), Buffer.from([0, 0, 0, 0, 0, 0])]),
);

/**
 * Rewrites a prepared statement's name in Parse/Bind/Describe/Close to the
 * connection's namespace (the unnamed statement stays unnamed: every client
 * re-parses it within the sequence that uses it, under ownership of the session).
 */
function namespaceStatement(message: Buffer, prefix: string, onParse: (name: string) => void): Buffer {
  const type = String.fromCharCode(message[0] as number);
  const rename = (name: string) => (name === "" ? "" : `${prefix}${name}`);
  if (type === "P") {
    const [name, rest] = readCString(message, 5);
    if (name === "") return message;
    onParse(name);
    return frontendMessage("P", Buffer.concat([cstring(rename(name)), message.subarray(rest)]));
  }
  if (type === "B") {
    const [portal, afterPortal] = readCString(message, 5);
    const [statement, rest] = readCString(message, afterPortal);
    if (statement === "") return message;
    return frontendMessage("B", Buffer.concat([cstring(portal), cstring(rename(statement)), message.subarray(rest)]));
  }
  if ((type === "D" || type === "C") && message[5] === 0x53 /* S */) {
    const [name] = readCString(message, 6);
    if (name === "") return message;
    return frontendMessage(type, Buffer.concat([Buffer.from("S"), cstring(rename(name))]));
  }
  return message;
}

export interface PgliteServerOptions {
  port?: number;
  host?: string;
  /** A connection idle inside a transaction this long is terminated (0: never). Default 15 s. */
  idleInTransactionTimeoutMs?: number;
  /** Trace every message and answer to stderr (debugging). */
  trace?: boolean;
}

export interface PgliteServer {
  port: number;
  close(): Promise<void>;
}

interface Connection {
  id: number;
  socket: net.Socket;
  /** Status of the last ReadyForQuery the backend gave this connection. */
  status: string;
  /** Messages ran since that ReadyForQuery (an un-synced extended sequence). */
  unsynced: boolean;
  /** Named prepared statements (client-side names) this connection created. */
  statements: Set<string>;
  /** Batches queued or running. */
  inFlight: number;
  /** Terminate or hang-up seen: nothing more is read; clean-up follows the queued work. */
  gone: boolean;
  /** Terminated by the server (timeout, PGlite error): queued work is dropped too. */
  dropped: boolean;
  cleanedUp: boolean;
  idleTimer?: NodeJS.Timeout;
}

const statementPrefix = (c: Connection) => `c${c.id}:`;

export async function servePglite(db: PGlite, options: PgliteServerOptions = {}): Promise<PgliteServer> {
  const { port = 0, host = "127.0.0.1", idleInTransactionTimeoutMs = 15_000 } = options;
  const trace = options.trace ?? Boolean(process.env.PGLITE_SERVER_TRACE);
  const session = new SessionScheduler<Connection>();
  const sockets = new Set<net.Socket>();
  let nextId = 0;

  const idle = (c: Connection) => c.status === "I" && !c.unsynced;

  /** Runs one message for `c` (which owns the session) and tracks the session state it leaves. */
  const execute = async (c: Connection, message: Buffer): Promise<Uint8Array> => {
    const output = await db.execProtocolRaw(new Uint8Array(message.buffer, message.byteOffset, message.length));
    const answer = scanAnswer(output);
    if (answer.ready !== undefined) {
      c.status = answer.ready;
      c.unsynced = false;
    } else if (message[0] !== 0x48 /* a Flush runs nothing */) {
      c.unsynced = true;
    }
    if (trace) {
      const what = message[0] === 0 ? "startup" : String.fromCharCode(message[0] as number);
      const state = `${c.status}${c.unsynced ? "+unsynced" : ""}`;
      process.stderr.write(`[pglite-server] c${c.id} ${what} -> ${output.length} bytes, ${state}\n`);
    }
    return output;
  };

  /**
   * Leaves the session as a backend's exit would: un-synced work aborted (a
   * forced error, then Sync -- a bare Sync would COMMIT it), an open
   * transaction rolled back, the connection's prepared statements closed.
   * Called with the session owned by `c`.
   */
  const cleanUp = async (c: Connection): Promise<void> => {
    c.cleanedUp = true;
    try {
      if (c.unsynced) {
        await execute(c, FORCED_ABORT);
        await execute(c, SYNC);
      }
      if (c.status !== "I") await execute(c, ROLLBACK);
      if (c.statements.size > 0) {
        for (const name of c.statements) {
          await execute(c, frontendMessage("C", Buffer.concat([Buffer.from("S"), cstring(`${statementPrefix(c)}${name}`)])));
        }
        await execute(c, SYNC);
        c.statements.clear();
      }
      if (!idle(c)) console.error(`[pglite-server] connection ${c.id}: session not idle after clean-up (${c.status})`);
    } catch (error) {
      console.error(`[pglite-server] connection ${c.id}: clean-up failed:`, error);
    }
  };

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    const c: Connection = {
      id: ++nextId,
      socket,
      status: "I",
      unsynced: false,
      statements: new Set(),
      inFlight: 0,
      gone: false,
      dropped: false,
      cleanedUp: false,
    };
    let buffer = Buffer.alloc(0);
    let inStartup = true;
    let pending: Buffer[] = [];
    let chain: Promise<void> = Promise.resolve();

    /**
     * Queues work of this connection: it runs after the connection's earlier
     * work, with the session owned; the session is kept while the connection
     * is not idle, and a gone connection is cleaned up before it is released.
     */
    const enqueue = (work: () => Promise<void>) => {
      c.inFlight++;
      clearTimeout(c.idleTimer);
      chain = chain.then(async () => {
        await session.acquire(c);
        try {
          await work();
        } finally {
          c.inFlight--;
          if (c.gone && c.inFlight === 0 && !c.cleanedUp) await cleanUp(c);
          if (idle(c) || c.cleanedUp) session.release(c);
          else armIdleTimer();
        }
      });
    };

    const armIdleTimer = () => {
      clearTimeout(c.idleTimer);
      if (idleInTransactionTimeoutMs <= 0 || c.gone || c.inFlight > 0) return;
      c.idleTimer = setTimeout(() => {
        if (c.gone || c.inFlight > 0 || !session.heldBy(c)) return;
        const seconds = idleInTransactionTimeoutMs / 1000;
        console.error(`[pglite-server] connection ${c.id} idle in transaction for ${seconds} s: terminated`);
        socket.end(
          errorResponse(
            "FATAL",
            "25P03",
            `terminating connection due to idle-in-transaction timeout (${seconds} s): the embedded database ` +
              `has one session, and an open transaction blocks every other connection`,
          ),
        );
        c.dropped = true;
        hangUp();
      }, idleInTransactionTimeoutMs);
      c.idleTimer.unref();
    };

    const runBatch = (messages: Buffer[]) =>
      enqueue(async () => {
        // Work received before a hang-up still runs, as a real backend reads its socket in order;
        // only the server's own termination drops it.
        if (c.dropped) return;
        for (const message of messages) {
          let output: Uint8Array;
          try {
            output = await execute(c, message);
          } catch (error) {
            console.error(`[pglite-server] connection ${c.id}: protocol error:`, error);
            c.unsynced = true; // whatever it left half-done is aborted by the clean-up
            c.dropped = true;
            socket.destroy();
            hangUp();
            return;
          }
          if (output.length > 0 && !socket.destroyed) socket.write(output);
        }
      });

    /** Terminate, hang-up, socket error or server termination: clean up after the queued work. */
    function hangUp() {
      sockets.delete(socket);
      clearTimeout(c.idleTimer);
      if (c.gone) return;
      c.gone = true;
      enqueue(async () => {});
    }

    socket.on("data", (chunk: Buffer) => {
      if (c.gone) return;
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      for (;;) {
        if (inStartup) {
          if (buffer.length < 8) return;
          const length = buffer.readInt32BE(0);
          if (buffer.length < length) return;
          const code = buffer.readInt32BE(4);
          const message = Buffer.from(buffer.subarray(0, length));
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
          runBatch([message]);
          continue;
        }
        if (buffer.length < 5) return;
        const type = String.fromCharCode(buffer[0] as number);
        const length = buffer.readInt32BE(1);
        if (buffer.length < length + 1) return;
        const message = Buffer.from(buffer.subarray(0, length + 1));
        buffer = buffer.subarray(length + 1);
        if (type === "X") {
          hangUp();
          chain = chain.then(() => void socket.end());
          return;
        }
        try {
          pending.push(namespaceStatement(message, statementPrefix(c), (name) => c.statements.add(name)));
        } catch (error) {
          console.error(`[pglite-server] connection ${c.id}:`, error);
          socket.destroy();
          return;
        }
        if (BATCH_END.has(type)) {
          runBatch(pending);
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
