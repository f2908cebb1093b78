/** readConfig's accounts block: APP_BASE_URL for email links, the development CORS default (contract v2). */
import { describe, expect, it } from "vitest";
import { ConfigError, readConfig } from "../../src/env.ts";

const production = {
  ENVIRONMENT: "production",
  DATABASE_URL: "postgresql://db.example/cb",
  JWT_SECRET: "x".repeat(40),
  PUBLIC_BASE_URL: "https://api.culturebridge.app",
};

describe("APP_BASE_URL", () => {
  it("defaults to PUBLIC_BASE_URL (this API's own pages)", () => {
    expect(readConfig(production).appBaseUrl).toBe("https://api.culturebridge.app");
  });
  it("is the configured frontend origin, without a trailing slash", () => {
    expect(readConfig({ ...production, APP_BASE_URL: "https://app.culturebridge.app/" }).appBaseUrl).toBe(
      "https://app.culturebridge.app",
    );
  });
  it("must be an http(s) URL", () => {
    expect(() => readConfig({ ...production, APP_BASE_URL: "javascript:alert(1)" })).toThrow(ConfigError);
  });
});

describe("CORS: development default for local frontends", () => {
  const development = { ENVIRONMENT: "development", DATABASE_URL: "postgresql://localhost/cb" };

  it("in development with CORS_ORIGINS unset (or empty), localhost and 127.0.0.1 on any port are allowed", () => {
    for (const env of [development, { ...development, CORS_ORIGINS: "" }]) {
      const config = readConfig(env);
      expect(config.allowsOrigin("http://localhost:5173")).toBe(true);
      expect(config.allowsOrigin("http://127.0.0.1:3000")).toBe(true);
      expect(config.allowsOrigin("http://localhost")).toBe(true);
    }
  });

  it("only those: no https look-alikes, other hosts, suffix tricks or userinfo", () => {
    const config = readConfig(development);
    for (const origin of [
      "https://evil.example",
      "http://localhost.evil.example",
      "http://localhost:5173.evil.example",
      "http://127.0.0.1.nip.io:80",
      "http://evil.example#@localhost:80",
      "null",
      "http://[::1]:5173",
    ]) {
      expect(config.allowsOrigin(origin), origin).toBe(false);
    }
  });

  it("never in production, staging or test, even with CORS_ORIGINS unset", () => {
    for (const environment of ["production", "staging", "test"]) {
      const config = readConfig({ ...production, ENVIRONMENT: environment });
      expect(config.allowsOrigin("http://localhost:5173"), environment).toBe(false);
    }
  });

  it("a configured list replaces the default, also in development; `*` allows any", () => {
    const listed = readConfig({ ...development, CORS_ORIGINS: "https://app.culturebridge.app" });
    expect(listed.allowsOrigin("https://app.culturebridge.app")).toBe(true);
    expect(listed.allowsOrigin("http://localhost:5173")).toBe(false);
    expect(readConfig({ ...production, CORS_ORIGINS: "*" }).allowsOrigin("https://any.example")).toBe(true);
  });
});
