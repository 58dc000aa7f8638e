// Builds the native addon with CMake against this Node's own headers (nothing is downloaded).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const buildDir = join(here, "build");
const buildType = process.env.TESSERA_BUILD_TYPE ?? "Release";

function fail(msg) {
  console.error(`\n@tessera/native: ${msg}\n`);
  process.exit(1);
}

function has(cmd, args = ["--version"]) {
  const r = spawnSync(cmd, args, { stdio: "ignore" });
  return r.status === 0;
}

if (!has("cmake")) fail("cmake was not found on PATH. Install CMake >= 3.18 (e.g. `apt-get install cmake`) and run `pnpm install` again.");
const cxx = process.env.CXX ?? "c++";
if (!has(cxx)) fail(`no C++ compiler found (tried \`${cxx}\`). Install g++ >= 11 or clang++ >= 14 (e.g. \`apt-get install g++\`) and run \`pnpm install\` again.`);

const nodeInclude = resolve(process.execPath, "..", "..", "include", "node");
if (!existsSync(join(nodeInclude, "node_api.h")))
  fail(`Node's headers were not found at ${nodeInclude}. Use a Node.js distribution that ships include/node (the official builds do).`);
const addonApi = dirname(require.resolve("node-addon-api/package.json"));

mkdirSync(buildDir, { recursive: true });
const generator = has("ninja") ? ["-G", "Ninja"] : [];
const sanitize = process.env.TESSERA_SANITIZE ? [`-DTESSERA_SANITIZE=${process.env.TESSERA_SANITIZE}`] : [];
const configure = spawnSync(
  "cmake",
  ["-S", here, "-B", buildDir, ...generator, `-DCMAKE_BUILD_TYPE=${buildType}`,
   `-DNODE_INCLUDE_DIR=${nodeInclude}`, `-DNODE_ADDON_API_DIR=${addonApi}`, ...sanitize],
  { encoding: "utf8" },
);
if (configure.status !== 0) {
  writeFileSync(join(buildDir, "configure.log"), configure.stdout + configure.stderr);
  fail(`CMake configuration failed (full log: ${join(buildDir, "configure.log")}):\n${(configure.stderr || configure.stdout).split("\n").slice(-15).join("\n")}`);
}
const jobs = String(Math.max(1, (await import("node:os")).availableParallelism()));
const build = spawnSync("cmake", ["--build", buildDir, "--parallel", jobs], { encoding: "utf8", maxBuffer: 1 << 28 });
const log = `${build.stdout ?? ""}${build.stderr ?? ""}`;
if (build.status !== 0) {
  writeFileSync(join(buildDir, "build.log"), log);
  const firstError = log.split("\n").filter((l) => /error/i.test(l)).slice(0, 10).join("\n");
  fail(`compiling the native core failed (full log: ${join(buildDir, "build.log")}). First errors:\n${firstError}`);
}
