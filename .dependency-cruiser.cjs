/**
 * Import direction (docs/ARCHITECTURE.md, "House rules"): arrows point down.
 *   routes -> services -> {contract, platform, lib, db}; middleware -> {contract, platform, lib, db}
 * Checked by `npm run lint` (part of `npm test`).
 */
const lower = "^src/(contract|platform|lib|db)/";
module.exports = {
  forbidden: [
    {
      name: "lower-layers-stay-low",
      comment: "contract/, platform/, lib/ and db/ never import services/, middleware/ or routes/",
      severity: "error",
      from: { path: lower },
      to: { path: "^src/(services|middleware|routes)/" },
    },
    {
      name: "services-know-no-http",
      comment: "services/ are plain functions: no hono, no middleware/, no routes/",
      severity: "error",
      from: { path: "^src/services/" },
      to: { path: ["^src/(middleware|routes)/", "node_modules/hono/", "node_modules/@hono/"] },
    },
    {
      name: "middleware-below-routes-and-services",
      comment: "middleware/ uses platform/, lib/, db/ (and contract/), never services/ or routes/",
      severity: "error",
      from: { path: "^src/middleware/" },
      to: { path: "^src/(services|routes)/" },
    },
    {
      name: "no-circular",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
  },
};
