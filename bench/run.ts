// Runs every benchmark (bench/*.ts but lib.ts and run.ts), one at a time, each in its own process,
// then writes BENCHMARKS.md from bench/results/*.json. A failing benchmark is reported and skipped.
// Run: npx tsx bench/run.ts [--only=compile,overhead] [--skip=name,...] [--no-run] [--timeout=900]
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { resultsDir } from "./lib.js";
import type { BenchResult, BenchRow } from "./lib.js";

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = dirname(benchDir);
const option = (name: string): string | undefined =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=").slice(1).join("=");
const list = (name: string): string[] | undefined => option(name)?.split(",").filter(Boolean);
const only = list("only");
const skip = list("skip") ?? [];
const timeoutS = Number(option("timeout") ?? 900);

const benches = readdirSync(benchDir)
  .filter((f) => f.endsWith(".ts") && f !== "lib.ts" && f !== "run.ts" && !f.startsWith("_"))
  .map((f) => basename(f, ".ts"))
  .filter((name) => (!only || only.includes(name)) && !skip.includes(name))
  .sort();

interface Outcome {
  name: string;
  ok: boolean;
  seconds: number;
  why?: string;
}

function runOne(name: string): Outcome {
  console.log(`\n=== bench/${name}.ts`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ["--import", "tsx", join(benchDir, `${name}.ts`)], {
    cwd: root,
    stdio: "inherit",
    timeout: timeoutS * 1000,
  });
  const seconds = (Date.now() - t0) / 1000;
  if (r.error) return { name, ok: false, seconds, why: r.error.message };
  if (r.signal) return { name, ok: false, seconds, why: r.signal === "SIGTERM" ? `timed out after ${timeoutS} s` : `killed by ${r.signal}` };
  if (r.status !== 0) return { name, ok: false, seconds, why: `exit code ${r.status}` };
  return { name, ok: true, seconds };
}

const fmt = (v: number): string => {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e6 || a < 1e-3) ? v.toExponential(3) : Number(v.toPrecision(4)).toString();
};
const cell = (s: string): string => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

function table(r: BenchResult): string {
  const hasRef = r.rows.some((x) => x.reference !== undefined);
  const hasFrac = r.rows.some((x) => x.fraction !== undefined);
  const hasGoal = r.rows.some((x) => x.goal);
  const head = ["case", "value", ...(hasRef ? ["reference"] : []), ...(hasFrac ? ["fraction"] : []), ...(hasGoal ? ["goal"] : [])];
  const row = (x: BenchRow) => [
    x.case,
    `${fmt(x.value)} ${x.unit}`,
    ...(hasRef ? [x.reference === undefined ? "" : `${fmt(x.reference)} ${x.unit} (${x.referenceName ?? ""})`] : []),
    ...(hasFrac ? [x.fraction === undefined ? "" : `${(x.fraction * 100).toFixed(1)}%`] : []),
    ...(hasGoal ? [x.goal ?? ""] : []),
  ];
  const lines = [head, head.map(() => "---"), ...r.rows.map(row)].map((cols) => `| ${cols.map(cell).join(" | ")} |`);
  return lines.join("\n");
}

function readResults(): BenchResult[] {
  if (!existsSync(resultsDir)) return [];
  const out: BenchResult[] = [];
  for (const f of readdirSync(resultsDir).filter((f) => f.endsWith(".json")).sort()) {
    try {
      const r = JSON.parse(readFileSync(join(resultsDir, f), "utf8")) as BenchResult;
      if (!Array.isArray(r.rows) || typeof r.title !== "string") throw new Error("not a benchmark result");
      out.push(r);
    } catch (e) {
      console.error(`skipping bench/results/${f}: ${(e as Error).message}`);
    }
  }
  return out;
}

function writeMarkdown(results: BenchResult[], failed: Outcome[]): void {
  const parts = [
    "# Benchmarks",
    "",
    "Written by `pnpm bench` (bench/run.ts) from `bench/results/*.json`; each table names the machine and date it came from.",
    "Every benchmark compares with a ceiling or peer measured in the same run (the reference column).",
  ];
  if (failed.length) {
    parts.push("", "Failed in the last run (their tables below, if any, are older):", "");
    for (const f of failed) parts.push(`- \`bench/${f.name}.ts\`: ${f.why}`);
  }
  for (const r of results) {
    parts.push("", `## ${r.title}`, "", `\`bench/${r.name}.ts\` — ${r.machine} — ${r.date.slice(0, 16).replace("T", " ")} UTC`, "", table(r));
    if (r.notes?.length) parts.push("", ...r.notes.map((n) => `- ${n}`));
  }
  writeFileSync(join(root, "BENCHMARKS.md"), parts.join("\n") + "\n");
}

const outcomes: Outcome[] = process.argv.includes("--no-run") ? [] : benches.map(runOne);
const failed = outcomes.filter((o) => !o.ok);
writeMarkdown(readResults(), failed);

console.log("\n=== summary");
for (const o of outcomes) console.log(`${o.ok ? "ok    " : "FAILED"} ${o.name} (${o.seconds.toFixed(1)} s)${o.why ? `: ${o.why}` : ""}`);
console.log(`BENCHMARKS.md written (${readResults().length} tables).`);
// Benchmarks are optional: failures are listed above and in BENCHMARKS.md, the run itself succeeds.
