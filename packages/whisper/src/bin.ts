#!/usr/bin/env node
// The `whisper` command: openai-whisper's command line on Tessera (see cli.ts).
import { setNumThreads } from "@tessera/core";
import { runCli } from "./cli.js";
import { loadWhisper } from "./pipeline.js";
import type { WhisperPipeline } from "./pipeline.js";
import { transcribe } from "./transcribe.js";

// Ctrl-C stops the transcription in progress; the files already written stay.
const abort = new AbortController();
process.once("SIGINT", () => abort.abort(new Error("interrupted")));

process.exitCode = await runCli<WhisperPipeline>(process.argv.slice(2), {
  transcribe,
  loadModel: (source, { modelDir, dtype, computeType }) => loadWhisper(source, { dtype, computeType, hub: { cacheDir: modelDir } }),
  setThreads: setNumThreads,
  stdout: process.stdout,
  stderr: process.stderr,
  signal: abort.signal,
});
