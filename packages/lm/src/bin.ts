#!/usr/bin/env node
// The `lm` command: LLM generation, chat and an OpenAI-compatible server on Tessera (see cli.ts).
import { setNumThreads } from "@tessera/core";
import { runCli } from "./cli.js";
import { loadLm } from "./lm.js";
import { loadServedVision } from "./vision.js";

// Ctrl-C stops the generation in progress (or the server); a second one exits at once.
const abort = new AbortController();
process.once("SIGINT", () => {
  abort.abort(new Error("interrupted"));
  process.once("SIGINT", () => process.exit(130));
});
process.once("SIGTERM", () => abort.abort(new Error("terminated")));

process.exitCode = await runCli(process.argv.slice(2), {
  loadModel: (source) => loadLm(source),
  loadServed: (source) => loadServedVision(source),
  setThreads: setNumThreads,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  signal: abort.signal,
});
