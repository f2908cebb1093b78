import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DatabaseHandle, startEmbeddedDatabase } from "../../scripts/lib/database.ts";

let database: DatabaseHandle;

beforeAll(async () => {
  database = await startEmbeddedDatabase({});
}, 60_000);

afterAll(async () => {
  await database.close();
});

const connect = async () => {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  return client;
};

describe("the embedded database's wire server under concurrency", () => {
  it("keeps every connection's extended-protocol queries together (no mixed-up parameters)", async () => {
    const clients = await Promise.all(Array.from({ length: 12 }, connect));
    try {
      const answers = await Promise.all(
        clients.flatMap((client, c) =>
          Array.from({ length: 25 }, async (_, i) => {
            const value = `${c}-${i}`;
            const result = await client.query<{ echoed: string; n: number }>("SELECT $1::text AS echoed, $2::int AS n", [
              value,
              i,
            ]);
            return result.rows[0]?.echoed === value && result.rows[0]?.n === i;
          }),
        ),
      );
      expect(answers.every(Boolean)).toBe(true);
    } finally {
      await Promise.all(clients.map((client) => client.end()));
    }
  });

  it("gives an open transaction the session until it ends; others wait, then see the committed state", async () => {
    const [a, b] = await Promise.all([connect(), connect()]);
    try {
      await a.query("CREATE TABLE IF NOT EXISTS wire_test (id int PRIMARY KEY, v text)");
      await a.query("BEGIN");
      await a.query("INSERT INTO wire_test VALUES ($1, $2)", [1, "inside"]);
      let bDone = false;
      const bQuery = b.query<{ n: string }>("SELECT count(*) AS n FROM wire_test").then((r) => {
        bDone = true;
        return r;
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(bDone).toBe(false);
      await a.query("COMMIT");
      expect((await bQuery).rows[0]?.n).toBe("1");
    } finally {
      await a.end();
      await b.end();
    }
  });

  it("rolls back the transaction of a client that disconnects mid-way and frees the session", async () => {
    const a = await connect();
    await a.query("CREATE TABLE IF NOT EXISTS wire_abandon (id int PRIMARY KEY)");
    await a.query("BEGIN");
    await a.query("INSERT INTO wire_abandon VALUES (1)");
    a.on("error", () => {}); // the abrupt hang-up is the point of the test
    (a as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    const b = await connect();
    try {
      const result = await b.query<{ n: string }>("SELECT count(*) AS n FROM wire_abandon");
      expect(result.rows[0]?.n).toBe("0");
    } finally {
      await b.end();
    }
  });
});
