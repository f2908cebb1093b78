import { cloudflareTest } from "@cloudflare/vitest-plugin";
import type { Plugin } from "vite";
import { defineConfig } from "vitest/config";

/**
 * Drops vite's "Sourcemap for node_modules/... points to missing source files"
 * warnings: stripe's ESM build ships source maps without its sources, and the
 * workers project transforms every one of its ~200 modules, one warning each.
 * Nothing of ours is affected (our sources are all present); other warnings pass.
 */
function quietDependencySourcemaps(): Plugin {
  return {
    name: "culturebridge:quiet-dependency-sourcemaps",
    configResolved(config) {
      const logger = config.logger;
      const warnOnce = logger.warnOnce.bind(logger);
      const warn = logger.warn.bind(logger);
      const dependencyNoise = (message: string) => /node_modules\/.*points to missing source files/.test(message);
      logger.warnOnce = (message, options) => {
        if (!dependencyNoise(message)) warnOnce(message, options);
      };
      logger.warn = (message, options) => {
        if (!dependencyNoise(message)) warn(message, options);
      };
    },
  };
}

// Test files run one at a time (the default on a 2-core machine, kept on purpose: integration
// files share one Worker and one database, and some assert totals). What is saved is the
// per-file start-up: `isolate: false` lets a worker keep the modules it imported (pg, fast-check,
// ajv, src/...) for the next file instead of re-importing them (about half of an integration
// file's time before). Test files themselves still run fresh; helpers' state is per file
// (pools are closed in afterAll) or safe to share (the fixture password hash).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          environment: "node",
          isolate: false,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          environment: "node",
          isolate: false,
          globalSetup: ["test/helpers/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        plugins: [
          quietDependencySourcemaps(),
          cloudflareTest(({ inject }) => ({
            main: "./src/index.ts",
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                ENVIRONMENT: "test",
                DATABASE_URL: inject("databaseUrl"),
                WS_PROXY: inject("proxyUrl"),
                JWT_SECRET: "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
                RATE_LIMIT_PER_MINUTE: "1000000",
              },
            },
          })),
        ],
        test: {
          name: "workers",
          include: ["test/workers/**/*.test.ts"],
          globalSetup: ["test/helpers/workers-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
