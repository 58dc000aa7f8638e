#!/usr/bin/env node
// The `sd` command: Stable Diffusion on Tessera (see cli.ts).
import { setNumThreads } from "@tessera/core";
import { runCli } from "./cli.js";
import type { ModelDType } from "./config.js";
import { loadDiffusion } from "./sd.js";

// Ctrl-C stops the generation in progress; no image is written for it (and writes are atomic).
const abort = new AbortController();
process.once("SIGINT", () => abort.abort(new Error("interrupted")));

process.exitCode = await runCli(process.argv.slice(2), {
  loadModel: (source, { quantize, dtype, lora }) => loadDiffusion(source, { quantize, dtype: dtype as ModelDType | undefined, lora }),
  setThreads: setNumThreads,
  stdout: process.stdout,
  stderr: process.stderr,
  signal: abort.signal,
});
