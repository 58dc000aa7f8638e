#!/usr/bin/env node
// The `vlm` command: vision-language generation on Tessera (see cli.ts).
import { setNumThreads } from "@tessera/core";
import { runVlmCli } from "./cli.js";
import { loadVlm } from "./vlm.js";

// Ctrl-C stops the generation in progress.
const abort = new AbortController();
process.once("SIGINT", () => abort.abort(new Error("interrupted")));

process.exitCode = await runVlmCli(process.argv.slice(2), {
  loadModel: (source) => loadVlm(source),
  setThreads: setNumThreads,
  stdout: process.stdout,
  stderr: process.stderr,
  signal: abort.signal,
});
