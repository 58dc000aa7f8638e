// Loads the addon built by build.mjs; a clear error says how to build it when it is missing.
const { join } = require("node:path");
const path = join(__dirname, "build", "tessera.node");
try {
  module.exports = require(path);
} catch (err) {
  const e = new Error(
    `@tessera/native: could not load ${path} (${err.message}). ` +
      "Build it with `pnpm install` (or `node native/build.mjs`); it needs cmake and a C++ compiler.",
  );
  e.cause = err;
  throw e;
}
