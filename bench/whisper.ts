// Whisper speed (issue 4): our encoder per 30-s window, decoder per token and real-time factor of a 60-s
// clip with word timestamps, at openai-whisper's tiny and base sizes, on --threads threads, against
// peers measured in the same run (bench/peers/whisper_peers.py: whisper.cpp through pywhispercpp,
// faster-whisper/CTranslate2 int8 and float32, mlx-whisper on mlx-cpu) and the machine's FMA peak.
//
// Random weights (timing does not depend on the values): ours are `new Whisper(dims)` in float32,
// float16 and MLX 4-bit (nn.quantize, group 64, from float32). The transcribe rows load the random
// transformers folders the peer script writes (the same weights every peer runs) and force a fixed
// token count: end-of-text suppressed, sampleLen tokens per window, without timestamps, temperature 0,
// greedy, no previous-text conditioning, so two 30-s windows of --sample-len tokens each plus the word
// alignment pass. With --real=<openai/whisper-base HF folder> (tools/weights), a real-weights row for
// ours on the same clip (and --real-ct2 / --real-mlx / --real-ggml for the peers). Whole
// transcriptions on real weights, greedy and beam 5, with load time and peak RSS, each system in
// its own process: bench/whisper_transcribe.ts.
//
// Run: npx tsx bench/whisper.ts [--threads=2] [--sizes=tiny,base] [--tokens=50] [--iters=3]
//        [--sample-len=32] [--no-peers] [--peers=whisper.cpp,faster-whisper,mlx-whisper] [--mlx-rtf]
//        [--work=/tmp/tessera-bench-whisper] [--real=DIR --real-ct2=DIR --real-mlx=DIR --real-ggml=FILE]
// (imports the built packages: `pnpm install` or `npx tsc -b` first; peers: pip install --user -r
// bench/peers/requirements.txt; a peer whose package is missing is skipped with a line saying so)
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as tc from "../packages/core/dist/index.js";
import { Whisper, loadAudio } from "../packages/whisper/dist/index.js";
import type { ModelDimensions } from "../packages/whisper/dist/index.js";
import { report, timeIt } from "./lib.js";
import type { BenchRow } from "./lib.js";

const option = (name: string): string | undefined =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=").slice(1).join("=");
const flag = (name: string): boolean => process.argv.includes(`--${name}`);
const num = (name: string, dflt: number): number => Number(option(name) ?? dflt);
const threads = num("threads", 2);
const tokens = num("tokens", 50);
const iters = num("iters", 3);
const sampleLen = num("sample-len", 32);
const sizes = (option("sizes") ?? "tiny,base").split(",").filter(Boolean);
const work = option("work") ?? join(tmpdir(), "tessera-bench-whisper");
const benchDir = dirname(fileURLToPath(import.meta.url));
tc.setNumThreads(threads);

// openai-whisper's ModelDimensions of the published multilingual checkpoints.
const DIMS: Record<string, ModelDimensions> = {
  tiny: { n_mels: 80, n_audio_ctx: 1500, n_audio_state: 384, n_audio_head: 6, n_audio_layer: 4, n_vocab: 51865, n_text_ctx: 448, n_text_state: 384, n_text_head: 6, n_text_layer: 4 },
  base: { n_mels: 80, n_audio_ctx: 1500, n_audio_state: 512, n_audio_head: 8, n_audio_layer: 6, n_vocab: 51865, n_text_ctx: 448, n_text_state: 512, n_text_head: 8, n_text_layer: 6 },
};
const EOT = 50257;
const PROMPT = [50258, 50259, 50359, 50363]; // <|startoftranscript|><|en|><|transcribe|><|notimestamps|>
const CLIP_SECONDS = 60;
for (const s of sizes) if (!DIMS[s]) throw new Error(`bench/whisper.ts: unknown size '${s}' (tiny, base)`);

/** Multiply-adds x 2 of one encoder pass over a 30-s window (batch 1): convolutions, projections, attention, MLP. */
function encoderFlops(d: ModelDimensions): number {
  const l = d.n_audio_ctx, s = d.n_audio_state;
  const conv = 2 * (2 * l) * s * d.n_mels * 3 + 2 * l * s * s * 3;
  const layer = 2 * l * s * s * 4 + 2 * 2 * l * l * s + 2 * l * s * 4 * s * 2;
  return conv + d.n_audio_layer * layer;
}

/** The FMA loop on every pool thread (as bench/gemm.ts), GFLOP/s. */
async function fmaPeak(): Promise<number> {
  let gflop = 0;
  const t = await timeIt(() => {
    const g = tc.callOp("_benchFmaPeak", [], { iterations: 20_000_000 });
    tc.evalSync(g);
    gflop = g.item();
    g.dispose();
  }, 5, 1);
  return gflop / t;
}

function randomMel(): tc.Tensor {
  const mel = tc.random.normal([1, 3000, 80], { key: tc.random.key(0) });
  tc.evalSync(mel);
  return mel;
}

function variant(size: string, kind: "float32" | "float16" | "4-bit"): Whisper {
  const model = new Whisper(DIMS[size]);
  if (kind === "float16") model.apply((p) => tc.astype(p, "float16"));
  if (kind === "4-bit") tc.nn.quantize(model, { bits: 4, groupSize: 64 });
  tc.evalSync(Object.values(model.namedParameters()));
  return model;
}

/** Median seconds of one encoder pass. */
async function encoderTime(model: Whisper, mel: tc.Tensor): Promise<number> {
  return timeIt(() => {
    const f = model.embedAudio(mel);
    tc.evalSync(f);
    f.dispose();
  }, iters, 1);
}

/** Median seconds per token of `tokens` greedy incremental steps after the 4-token prompt. */
function decoderTime(model: Whisper, features: tc.Tensor, n: number): number {
  const cache = model.newCache();
  let logits = model.decode([PROMPT], features, { cache }).logits;
  let next = tc.argmax(tc.index(logits, 0, -1));
  const kv = Array.from({ length: cache.nLayer }, (_, i) => [cache.self(i), cache.cross(i)]).flat();
  tc.evalSync(next, kv.flatMap((x) => (x ? [x.k, x.v] : [])));
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    logits = model.decode([[next.item()]], features, { cache }).logits;
    next = tc.argmax(tc.index(logits, 0, -1));
    tc.evalSync(next);
  }
  return Number(process.hrtime.bigint() - t0) / 1e9 / n;
}

// The transcribe() the lead is writing (packages/whisper/src/transcribe.ts); loaded by path so this
// file type-checks before it lands.
interface TranscribeModule {
  loadWhisper(path: string, opts?: { dtype?: string }): Promise<unknown>;
  transcribe(audio: unknown, opts: Record<string, unknown>): Promise<{ segments: { tokens: number[] }[] }>;
}
async function transcribeModule(): Promise<TranscribeModule | undefined> {
  const js = join(benchDir, "..", "packages", "whisper", "dist", "transcribe.js");
  const pipeline = join(benchDir, "..", "packages", "whisper", "dist", "pipeline.js");
  if (!existsSync(js) || !existsSync(pipeline)) return undefined;
  const t = (await import(pathToFileURL(js).href)) as Pick<TranscribeModule, "transcribe">;
  const p = (await import(pathToFileURL(pipeline).href)) as Pick<TranscribeModule, "loadWhisper">;
  return { transcribe: t.transcribe, loadWhisper: p.loadWhisper };
}

const rows: BenchRow[] = [];
const notes: string[] = [];
const peak = await fmaPeak();
notes.push(`FMA peak ${peak.toFixed(1)} GFLOP/s on ${threads} threads (bench/gemm.ts's loop); encoder FLOPs per window: ${sizes.map((s) => `${s} ${(encoderFlops(DIMS[s]) / 1e9).toFixed(1)} G`).join(", ")} (convolutions, QKV/out projections, QK^T and AV, MLP; 2 per multiply-add)`);

// Peers first (their script also writes the models and the clip the transcribe rows use).
interface PeerRow { peer: string; size: string; what: "encoder" | "decoder" | "rtf"; value: number; unit: string; note: string }
const peerRows: PeerRow[] = [];
const peersWanted = !flag("no-peers");
{
  const script = join(benchDir, "peers", "whisper_peers.py");
  const out = join(work, "peers.json");
  const args = [script, peersWanted ? "run" : "prepare", "--work", work, "--sizes", sizes.join(","), "--threads", String(threads),
    "--tokens", String(tokens), "--sample-len", String(sampleLen), "--iters", String(iters), "--out", out];
  if (option("peers")) args.push("--peers", option("peers") as string);
  if (flag("mlx-rtf")) args.push("--mlx-rtf");
  for (const k of ["real-ct2", "real-mlx", "real-ggml"]) if (option(k)) args.push(`--${k}`, option(k) as string);
  const env = { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
  const python = process.env.PYTHON ?? "python3";
  console.log(`${python} ${args.join(" ")}`);
  const r = spawnSync(python, args, { stdio: "inherit", env });
  if (r.error || r.status !== 0) {
    notes.push(`peer script failed (${r.error?.message ?? `exit ${r.status}`}): no peer rows`);
  } else if (peersWanted && existsSync(out)) {
    const j = JSON.parse(readFileSync(out, "utf8")) as { rows: PeerRow[]; info: Record<string, string>; skipped: string[] };
    peerRows.push(...j.rows);
    for (const [k, v] of Object.entries(j.info)) notes.push(`${k}: ${v}`);
    for (const s of j.skipped) notes.push(s);
  }
}
const peerFor = (size: string, what: PeerRow["what"]) => peerRows.filter((p) => p.size === size && p.what === what);

for (const size of sizes) {
  const mel = randomMel();
  const flops = encoderFlops(DIMS[size]);
  for (const kind of ["float32", "float16", "4-bit"] as const) {
    const model = variant(size, kind);
    const enc = await encoderTime(model, mel);
    const gflops = flops / enc / 1e9;
    rows.push({ case: `ours ${size} ${kind}: encoder, one 30-s window (${gflops.toFixed(1)} GFLOP/s)`, value: enc * 1e3, unit: "ms", reference: flops / (peak * 1e9) * 1e3, referenceName: "FMA peak", fraction: gflops / peak });
    const features = model.embedAudio(mel);
    tc.evalSync(features);
    decoderTime(model, features, 4);
    const dec = [0, 0, 0].slice(0, Math.max(1, iters)).map(() => decoderTime(model, features, tokens)).sort((a, b) => a - b);
    rows.push({ case: `ours ${size} ${kind}: decoder per token (batch 1, after a 4-token prompt, ${tokens} tokens)`, value: dec[Math.floor(dec.length / 2)] * 1e3, unit: "ms/token" });
    features.dispose();
  }
  mel.dispose();
  for (const what of ["encoder", "decoder"] as const)
    for (const p of peerFor(size, what))
      rows.push({ case: `${p.peer} ${size}: ${what === "encoder" ? "encoder, one 30-s window" : "decoder per token"} (${p.note})`, value: p.value, unit: p.unit });
}

// Real-time factor on the 60-s clip, word timestamps on.
const tm = await transcribeModule();
const clip = join(work, "clip.wav");
if (!tm) {
  notes.push("transcribe() is not on this branch yet (packages/whisper/src/transcribe.ts): no real-time factor rows for ours");
} else if (!existsSync(clip)) {
  notes.push(`${clip} is missing (the peer script writes it): no real-time factor rows for ours`);
} else {
  const audio = await loadAudio(clip);
  const cases: [string, string, boolean][] = sizes.map((s) => [s, join(work, `${s}-hf`), true]);
  if (option("real")) cases.push(["real base", option("real") as string, false]);
  else notes.push("real weights: pass --real=<openai/whisper-base HF folder> (tools/weights) and --real-ct2/--real-mlx/--real-ggml for the peers' copies to add real-weights rows");
  for (const [size, path, random] of cases) {
    if (!existsSync(path)) {
      notes.push(`ours ${size}: ${path} does not exist, no real-time factor row`);
      continue;
    }
    const pipeline = await tm.loadWhisper(path, { dtype: "float32" });
    const opts: Record<string, unknown> = { model: pipeline, language: "en", wordTimestamps: true, temperature: 0, conditionOnPreviousText: false };
    if (random) Object.assign(opts, { withoutTimestamps: true, sampleLen, suppressTokens: [EOT], suppressBlank: false, noSpeechThreshold: null });
    let count = 0;
    const t = await timeIt(async () => {
      const r = await tm.transcribe(audio, opts);
      count = r.segments.reduce((n, s) => n + s.tokens.length, 0);
    }, Math.max(1, Math.floor(iters / 2)), 1);
    const refs = peerFor(size, "rtf");
    const fastest = refs.reduce<PeerRow | undefined>((a, p) => (!a || p.value < a.value ? p : a), undefined);
    rows.push({
      case: `ours ${size} float32: transcribe ${CLIP_SECONDS}-s clip, word timestamps (${t.toFixed(2)} s, ${count} tokens)`,
      value: t / CLIP_SECONDS, unit: "x real time",
      ...(fastest ? { reference: fastest.value, referenceName: fastest.peer, fraction: fastest.value / (t / CLIP_SECONDS) } : {}),
    });
    for (const p of refs) rows.push({ case: `${p.peer} ${size}: transcribe ${CLIP_SECONDS}-s clip, word timestamps (${p.note})`, value: p.value, unit: "x real time" });
  }
}

notes.push(
  `${threads} threads everywhere; medians of ${iters} runs; decoder per token is the time of ${tokens} greedy incremental steps (logits + argmax) / ${tokens}`,
  `real-time factor = transcribe time / ${CLIP_SECONDS} s (lower is faster); random weights: end-of-text suppressed where the peer allows it, ${sampleLen} tokens per 30-s window, without timestamps, so each window decodes the same tokens; but with word timestamps openai's loop (which every peer follows) seeks to the last word's end, which random weights place anywhere, so the number of windows (and tokens: see each row) can differ between runs and peers; whisper.cpp also stops at its own end-of-text. The real-weights rows (--real*) are the comparable ones`,
  "encoder fraction = achieved GFLOP/s / FMA peak; the reference column of an encoder row is the time at peak",
  `load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(", ")} (timings are only meaningful on an idle machine)`,
);
report({ name: "whisper", title: `Whisper speed (${threads} threads): encoder, decoder, real-time factor vs whisper.cpp, faster-whisper, mlx-whisper`, rows, notes });
