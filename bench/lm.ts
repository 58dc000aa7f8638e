// LLM decoding speed at Llama 3.2 1B's dimensions with random weights: float16, MLX 8-bit and MLX
// 4-bit (group 64, as mlx-lm quantizes). Decode tokens/s against the memory-bandwidth ceiling
// measured in the same run (weight bytes read per token x tokens/s / bandwidth of a 1 GB sum), the
// prefill rate, and the decode step's fixed cost (building one step's graph in JS, per token and
// per layer). Each number is the best of --rounds rounds (the machine is shared).
// And the real Gemma 3 270M Q4_K_M GGUF (tools/weights/gemma3-270m.ts fetches it) beside
// llama-cpp-python (bench/peers/llama_cpp_peer.py) and node-llama-cpp 3.21.1
// (bench/peers/node_llama_cpp.mjs; npm install --no-package-lock --prefix bench/peers/node) on the
// same file and threads: prefill tokens/s at --prefill tokens and greedy decode tokens/s, rounds
// interleaved (ours, then each peer in its own process), best of --rounds.
// Run: npx tsx bench/lm.ts [--threads=2] [--rounds=3] [--tokens=24] [--layers=16] [--formats=gguf,f16,q8,q4]
//      [--prefill=512] [--decode=64]
// (imports the built packages: `pnpm install` or `npx tsc -b packages/lm` first; a missing peer is skipped with a note)
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tc from "../packages/core/dist/index.js";
import { generateTokens, loadModelFromGguf, modelFromConfig } from "../packages/lm/dist/index.js";
import { ensureGemma3_270m } from "../tools/weights/gemma3-270m.js";
import type { LanguageModel } from "../packages/lm/dist/index.js";
import { report } from "./lib.js";
import type { BenchRow } from "./lib.js";

const arg = (name: string, dflt: string): string => process.argv.find((s) => s.startsWith(`--${name}=`))?.split("=")[1] ?? dflt;
const threads = Number(arg("threads", "2"));
const rounds = Number(arg("rounds", "3"));
const tokens = Number(arg("tokens", "24"));
const layers = Number(arg("layers", "16"));
const formats = arg("formats", "gguf,f16,q8,q4").split(",");
const prefillTokens = Number(arg("prefill", "512"));
const decodeTokens = Number(arg("decode", "64"));
const benchDir = dirname(fileURLToPath(import.meta.url));
tc.setNumThreads(threads);

// Llama 3.2 1B (meta-llama/Llama-3.2-1B config.json); --layers shortens it for quick runs.
const config = {
  model_type: "llama", hidden_size: 2048, intermediate_size: 8192, num_hidden_layers: layers, num_attention_heads: 32,
  num_key_value_heads: 8, head_dim: 64, vocab_size: 128256, max_position_embeddings: 131072, rms_norm_eps: 1e-5,
  tie_word_embeddings: true, rope_theta: 500000,
  rope_scaling: { rope_type: "llama3", factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 },
};

function randomModel(): LanguageModel {
  const model = modelFromConfig(config, "bench");
  let seed = 1;
  model.apply((p) => {
    const w = tc.random.normal(p.shape, { key: tc.random.key(seed++), scale: p.ndim === 1 ? 0.1 : 0.02, dtype: "float16" });
    const v = p.ndim === 1 ? tc.add(w, 1) : w;
    tc.evalSync(v);
    return v;
  });
  return model;
}

/** Bytes a decoding step reads: every parameter once (the tied table as the head, not for the lookup). */
function weightBytes(model: LanguageModel): number {
  return Object.values(model.namedParameters()).reduce((s, p) => s + p.nbytes, 0);
}

async function bandwidth(): Promise<number> {
  const big = tc.tensor(new Float32Array(256 * 2 ** 20).fill(1));
  tc.evalSync(big);
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const s = tc.sum(big);
    await tc.evaluate(s);
    best = Math.min(best, (performance.now() - t0) / 1e3);
    s.dispose();
  }
  big.dispose();
  return 2 ** 30 / best / 1e9;
}

interface Timing { decode: number; prefill: number; build: number }

const PROMPT = Array.from({ length: 128 }, (_, i) => (i * 7919) % 128000);

async function seconds(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1e3;
}

// Decode through generateTokens (greedy: graph building overlaps evaluation); the building itself
// is timed apart, step by step.
async function run(model: LanguageModel): Promise<Timing> {
  const first = await seconds(() => generateTokens(model, PROMPT, { maxTokens: 1 }));
  const all = await seconds(() => generateTokens(model, PROMPT, { maxTokens: tokens + 1 }));
  const cache = model.makeCache();
  let logits = tc.tidy(() => model.forward(tc.tensor([PROMPT.slice(0, 8)], { dtype: "int32" }), cache, { lastTokenOnly: true }));
  await tc.evaluate(logits);
  let build = 0;
  const steps = 8;
  for (let i = 0; i < steps; i++) {
    logits.dispose();
    const b0 = performance.now();
    logits = tc.tidy(() => model.forward(tc.tensor([[i + 1]], { dtype: "int32" }), cache, { lastTokenOnly: true }));
    build += performance.now() - b0;
    await tc.evaluate(logits);
  }
  logits.dispose();
  for (const c of cache) c.dispose();
  return { decode: (all - first) / tokens, prefill: first / PROMPT.length, build: build / 1e3 / steps };
}

interface GgufRound { prefill: number; decode: number }

// Ours on the GGUF: the prompt in one chunk (its last position's logits included, as the peers'),
// then greedy decoding after a 3-token prompt, its first token (the prompt's pass) not counted.
async function oursGguf(model: LanguageModel): Promise<GgufRound> {
  const prompt = Array.from({ length: prefillTokens }, (_, i) => 1000 + ((i * 7919) % 50000));
  const p = await seconds(() => generateTokens(model, prompt, { maxTokens: 1 }));
  const one = await seconds(() => generateTokens(model, [2, 100, 200], { maxTokens: 1 }));
  const all = await seconds(() => generateTokens(model, [2, 100, 200], { maxTokens: decodeTokens + 1 }));
  return { prefill: prefillTokens / p, decode: decodeTokens / (all - one) };
}

// One peer round in its own process (one JSON line), or the reason it could not run.
function peerRound(cmd: string, args: string[]): GgufRound | string {
  try {
    const out = execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return JSON.parse(out.trim().split("\n").pop() as string) as GgufRound;
  } catch (e) {
    return ((e as { stderr?: string }).stderr || (e as Error).message).trim().split("\n").slice(-1)[0];
  }
}

async function ggufRows(rows: BenchRow[], notes: string[]): Promise<void> {
  const got = await ensureGemma3_270m();
  if ("skipped" in got) {
    notes.push(`Gemma 3 270M GGUF skipped: ${got.skipped}`);
    return;
  }
  const { model } = loadModelFromGguf(got.path);
  const a = [got.path, String(threads), String(prefillTokens), String(decodeTokens)];
  const peers: [string, string, string[]][] = [
    ["llama-cpp-python", "python3", [join(benchDir, "peers", "llama_cpp_peer.py"), ...a]],
    ["node-llama-cpp 3.21.1", process.execPath, [join(benchDir, "peers", "node_llama_cpp.mjs"), ...a]],
  ];
  if (!existsSync(join(benchDir, "peers", "node", "node_modules", "node-llama-cpp"))) {
    notes.push("node-llama-cpp not installed (npm install --no-package-lock --prefix bench/peers/node): its rows are skipped");
    peers.pop();
  }
  const best = new Map<string, GgufRound>();
  const failed = new Map<string, string>();
  const keep = (name: string, r: GgufRound | string) => {
    if (typeof r === "string") return failed.set(name, r);
    const b = best.get(name) ?? { prefill: 0, decode: 0 };
    best.set(name, { prefill: Math.max(b.prefill, r.prefill), decode: Math.max(b.decode, r.decode) });
  };
  await oursGguf(model); // warm-up (first-touch of the mapped file)
  for (let r = 0; r < rounds; r++) {
    keep("ours", await oursGguf(model));
    for (const [name, cmd, args] of peers) if (!failed.has(name)) keep(name, peerRound(cmd, args));
  }
  model.apply((p) => { p.dispose(); return p; });
  for (const [name, why] of failed) notes.push(`${name} skipped: ${why}`);
  const ours = best.get("ours")!;
  for (const kind of ["prefill", "decode"] as const) {
    const label = kind === "prefill" ? `prefill (${prefillTokens})` : `decode (${decodeTokens})`;
    rows.push({ case: `gemma3 270M Q4_K_M ${label}`, value: ours[kind], unit: "tok/s" });
    for (const [name] of peers) {
      const p = best.get(name);
      if (p) rows.push({ case: `gemma3 270M Q4_K_M ${label} vs ${name}`, value: ours[kind], unit: "tok/s", reference: p[kind], referenceName: name, fraction: ours[kind] / p[kind], goal: "> 100%" });
    }
  }
  notes.push(`Gemma 3 270M Q4_K_M: the real GGUF (${got.path.split("/").pop()}); prefill = ${prefillTokens} prompt tokens in one batch; decode = ${decodeTokens} greedy tokens after a 3-token prompt; each peer in its own process with ${threads} threads, rounds interleaved, best of ${rounds}`);
}

const rows: BenchRow[] = [];
const notes: string[] = [`${layers} layers${layers === 16 ? "" : " (Llama 3.2 1B has 16)"}, ${tokens} decoded tokens after a 128-token prefill; KV cache float16`];
if (formats.includes("gguf")) await ggufRows(rows, notes);
for (const format of formats.filter((f) => f !== "gguf")) {
  let model = randomModel();
  if (format !== "f16") tc.nn.quantize(model, { bits: format === "q8" ? 8 : 4, groupSize: 64 });
  tc.evalSync(...Object.values(model.namedParameters()));
  const bytes = weightBytes(model);
  let best: Timing = { decode: Infinity, prefill: Infinity, build: Infinity };
  let bw = 0;
  for (let r = 0; r < rounds; r++) {
    bw = Math.max(bw, await bandwidth());
    const t = await run(model);
    best = { decode: Math.min(best.decode, t.decode), prefill: Math.min(best.prefill, t.prefill), build: Math.min(best.build, t.build) };
  }
  const tps = 1 / best.decode;
  const ceiling = (bw * 1e9) / bytes;
  rows.push({ case: `${format} decode`, value: tps, unit: "tok/s", reference: ceiling, referenceName: `bandwidth ${bw.toFixed(1)} GB/s / ${(bytes / 1e9).toFixed(2)} GB`, fraction: tps / ceiling, goal: ">= 70%" });
  rows.push({ case: `${format} prefill (128)`, value: 1 / best.prefill, unit: "tok/s" });
  rows.push({ case: `${format} graph build per token`, value: best.build * 1e3, unit: "ms" });
  rows.push({ case: `${format} graph build per layer`, value: (best.build * 1e3) / layers, unit: "ms" });
  model.apply((p) => { p.dispose(); return p; });
  model = undefined as never;
}
report({ name: "lm", title: `LLM speed: Gemma 3 270M Q4_K_M vs llama.cpp, and decode at Llama 3.2 1B dims with random weights (${threads} threads)`, rows, notes });
