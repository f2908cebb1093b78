/**
 * bcrypt inside workerd (the runtime that serves signup and login):
 * the hash format at cost 12, old `$2b$` hashes verifying, and the measured
 * cost of one cost-12 hash (median of 20), printed -- a figure for the README,
 * never an assertion (timings depend on the machine).
 */

import bcrypt from "bcryptjs";
import { describe, expect, it } from "vitest";
import { BCRYPT_COST } from "../../src/services/admins.ts";
import { hashPassword, verifyPassword } from "../../src/services/auth.ts";

/** Made by libxcrypt's crypt(3) (another bcrypt implementation, as the old Python system's), password "OldSystem#Pass1". */
const OLD_2B_COST_12 = "$2b$12$XzY4m1cHr/4cez7zN9sDP.dRuyzgfYvI.GY4Q3WZvufUMMcwm05nW";
const OLD_2B_COST_10 = "$2b$10$0OPR.V3/fEfSKG28jOmJr.1tjrwNeKD3Nbmy6K/EWifIdbzFjiMRu";

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

describe("bcrypt in workerd", () => {
  it("hashes at cost 12 in the $2a$/$2b$ format and verifies its own hash", async () => {
    expect(BCRYPT_COST).toBe(12);
    const hash = await hashPassword("Str0ng#Passw0rd");
    expect(hash).toMatch(/^\$2[ab]\$12\$[./A-Za-z0-9]{53}$/);
    expect(await verifyPassword("Str0ng#Passw0rd", hash)).toBe(true);
    expect(await verifyPassword("Str0ng#Passw0rd!", hash)).toBe(false);
  });

  it("verifies old $2b$ hashes of another implementation, at their own cost", async () => {
    expect(await verifyPassword("OldSystem#Pass1", OLD_2B_COST_12)).toBe(true);
    expect(await verifyPassword("OldSystem#Pass1", OLD_2B_COST_10)).toBe(true);
    expect(await verifyPassword("OldSystem#Pass2", OLD_2B_COST_12)).toBe(false);
  });

  it("treats a malformed stored hash as a mismatch, not an error", async () => {
    expect(await verifyPassword("anything", "not-a-bcrypt-hash")).toBe(false);
    expect(await verifyPassword("anything", null)).toBe(false);
  });

  it("measures one cost-12 hash (median of 20)", async () => {
    const durations: number[] = [];
    for (let i = 0; i < 20; i++) {
      // Deployed Workers freeze the clock between I/O (a Spectre mitigation);
      // local workerd does not, so Date.now() around the awaited hash measures
      // it here. bcryptjs yields (setTimeout) between rounds: this is wall time
      // of mostly CPU work on an otherwise idle isolate.
      const started = Date.now();
      await bcrypt.hash(`password-${i}-Aa1#`, BCRYPT_COST);
      durations.push(Date.now() - started);
    }
    const figure = median(durations);
    console.log(
      `bcrypt cost ${BCRYPT_COST} hash in workerd: median ${figure} ms over 20 (min ${Math.min(...durations)} ms, max ${Math.max(...durations)} ms)`,
    );
    expect(durations).toHaveLength(20);
  });
});
