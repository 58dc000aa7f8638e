// Shared pieces of the benchmarks: timing, machine description, result files.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const resultsDir = join(dirname(fileURLToPath(import.meta.url)), "results");

export interface BenchRow {
  /** What was measured, e.g. "sgemm 1024". */
  case: string;
  /** The value, in `unit`. */
  value: number;
  unit: string;
  /** The ceiling or peer measured in the same run, in the same unit, when there is one. */
  reference?: number;
  /** What `reference` is, e.g. "FMA peak" or "memcpy". */
  referenceName?: string;
  /** value / reference (or reference / value for times), as the goal is stated. */
  fraction?: number;
  goal?: string;
}

export interface BenchResult {
  name: string;
  title: string;
  machine: string;
  date: string;
  rows: BenchRow[];
  notes?: string[];
}

export function machine(): string {
  const c = cpus();
  return `${c[0]?.model ?? "unknown CPU"}, ${c.length} threads, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

/** Median seconds per call of fn over `iters` calls after `warmup` calls. */
export async function timeIt(fn: () => unknown | Promise<unknown>, iters = 10, warmup = 2): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

export function printTable(r: BenchResult): void {
  console.log(`\n${r.title} — ${r.machine}`);
  console.table(
    r.rows.map((row) => ({
      case: row.case,
      value: `${row.value.toPrecision(4)} ${row.unit}`,
      reference: row.reference === undefined ? "" : `${row.reference.toPrecision(4)} ${row.unit} (${row.referenceName ?? ""})`,
      fraction: row.fraction === undefined ? "" : `${(row.fraction * 100).toFixed(1)}%`,
      goal: row.goal ?? "",
    })),
  );
}

/** Prints the table and writes bench/results/<name>.json (read by bench/run.ts for BENCHMARKS.md). */
export function report(r: Omit<BenchResult, "machine" | "date">): BenchResult {
  const full: BenchResult = { ...r, machine: machine(), date: new Date().toISOString() };
  printTable(full);
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, `${r.name}.json`), JSON.stringify(full, null, 2) + "\n");
  return full;
}
