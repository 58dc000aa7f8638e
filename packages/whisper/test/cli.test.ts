import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, segmentLine } from "../src/cli.js";
import { modelSource } from "../src/pipeline.js";
import type { CliDeps } from "../src/cli.js";
import type { Segment, TranscribeOptions, TranscribeResult } from "../src/types.js";
import { formatResult } from "../src/writers.js";

const segment = (id: number, start: number, end: number, text: string): Segment => ({
  id, seek: 0, start, end, text, tokens: [50364, 1000 + id], temperature: 0, avgLogprob: -0.2, compressionRatio: 1.1, noSpeechProb: 0.01,
  words: [{ word: text.split(" ").slice(0, 2).join(" "), start, end: (start + end) / 2, probability: 0.9 },
    { word: " " + text.split(" ").slice(2).join(" "), start: (start + end) / 2, end, probability: 0.8 }],
});
const RESULT: TranscribeResult = {
  text: " Hello there world. Second part here.",
  segments: [segment(0, 0, 2, " Hello there world."), segment(1, 2, 45.5, " Second part here.")],
  language: "de",
};

interface Run { code: number; stdout: string; stderr: string; calls: { audio: string; options: TranscribeOptions & { model?: unknown } }[]; loads: unknown[]; threads: number[] }

let dir: string;
let audio: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "whisper-cli-"));
  audio = join(dir, "talk.mp3");
  await writeFile(audio, "not really audio");
});
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

/** Runs the CLI with a fake transcribe that reports progress and segments, then returns RESULT. */
async function run(argv: string[], opts: { fail?: string; tty?: boolean; load?: boolean } = {}): Promise<Run> {
  const out = { code: 0, stdout: "", stderr: "", calls: [], loads: [], threads: [] } as Run;
  const deps: CliDeps<{ loaded: string }> = {
    transcribe: async (a, options) => {
      out.calls.push({ audio: a, options });
      if (a === opts.fail) throw new TypeError("bad audio data");
      for (const s of RESULT.segments) options.onSegment?.(s);
      options.onProgress?.({ processed: 30, total: 45.5 });
      options.onProgress?.({ processed: 45.5, total: 45.5 });
      return RESULT;
    },
    loadModel: opts.load === false ? undefined : async (source, o) => { out.loads.push([source, o]); return { loaded: source }; },
    setThreads: (n) => out.threads.push(n),
    stdout: { write: (s: string) => (out.stdout += s) },
    stderr: { write: (s: string) => (out.stderr += s), isTTY: opts.tty },
  };
  out.code = await runCli(argv, deps);
  return out;
}

describe("whisper command line", () => {
  it("maps openai's defaults to transcribe options and writes every format", async () => {
    const out = join(dir, "defaults");
    const r = await run([audio, "-o", out]);
    expect(r.code).toBe(0);
    expect(r.loads).toEqual([["openai/whisper-large-v3-turbo", { modelDir: undefined }]]);
    expect(r.calls).toHaveLength(1);
    const o = r.calls[0].options;
    expect(r.calls[0].audio).toBe(audio);
    expect(o.model).toEqual({ loaded: "openai/whisper-large-v3-turbo" });
    expect(o).toMatchObject({
      task: "transcribe", language: undefined, temperature: [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1], bestOf: 5, beamSize: 5,
      patience: undefined, lengthPenalty: undefined, suppressTokens: "-1", initialPrompt: undefined, carryInitialPrompt: false,
      conditionOnPreviousText: true, compressionRatioThreshold: 2.4, logprobThreshold: -1, noSpeechThreshold: 0.6,
      wordTimestamps: false, prependPunctuations: "\"'“¿([{-", appendPunctuations: "\"'.。,，!！?？:：”)]}、",
      clipTimestamps: "0", hallucinationSilenceThreshold: undefined, refineWordTimestamps: false,
    });
    expect((await readdir(out)).sort()).toEqual(["talk.json", "talk.srt", "talk.tsv", "talk.txt", "talk.vtt"]);
    expect(await readFile(join(out, "talk.srt"), "utf8")).toBe(formatResult("srt", RESULT));
    // --verbose True (the default) prints the segments as openai's transcribe does, no progress bar
    expect(r.stdout).toBe("Detecting language using up to the first 30 seconds. Use `--language` to specify the language\n" +
      "[00:00.000 --> 00:02.000]  Hello there world.\n[00:02.000 --> 00:45.500]  Second part here.\nDetected language: German\n");
    expect(r.stderr).toBe("");
  });

  it("passes every flag through in openai's spellings", async () => {
    const out = join(dir, "flags");
    const r = await run([
      audio, "--model", "base.en", "--model_dir", "/models", "--output_format", "srt", "--output_dir", out, "--verbose", "False",
      "--task", "translate", "--temperature", "0.1", "--best_of", "None", "--beam_size", "3", "--patience", "2",
      "--length_penalty", "0.5", "--suppress_tokens", "-1,50", "--initial_prompt", "Names: Ngozi.", "--carry_initial_prompt", "True",
      "--condition_on_previous_text", "False", "--temperature_increment_on_fallback", "0.3", "--compression_ratio_threshold", "None",
      "--logprob_threshold", "-0.5", "--no_speech_threshold", "0.5", "--word_timestamps", "True", "--prepend_punctuations", "(",
      "--append_punctuations", ".", "--highlight_words", "True", "--max_line_width", "20", "--max_line_count", "2",
      "--threads", "3", "--clip_timestamps", "1,5.5", "--hallucination_silence_threshold", "2", "--refine_word_timestamps", "True",
      "--fp16", "False",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    // --fp16 False computes in float32; the default (True) keeps the checkpoint's precision.
    expect(r.loads).toEqual([["openai/whisper-base.en", { modelDir: "/models", dtype: "float32" }]]);
    expect(r.threads).toEqual([3]);
    expect(r.calls[0].options).toMatchObject({
      task: "translate", language: "en", temperature: [0.1, 0.4, 0.7000000000000001, 1.0000000000000002], // as numpy.arange bestOf: undefined, beamSize: 3, patience: 2,
      lengthPenalty: 0.5, suppressTokens: "-1,50", initialPrompt: "Names: Ngozi.", carryInitialPrompt: true,
      conditionOnPreviousText: false, compressionRatioThreshold: null, logprobThreshold: -0.5, noSpeechThreshold: 0.5,
      wordTimestamps: true, prependPunctuations: "(", appendPunctuations: ".", clipTimestamps: "1,5.5", hallucinationSilenceThreshold: 2,
      refineWordTimestamps: true,
    });
    expect(await readdir(out)).toEqual(["talk.srt"]);
    const options = { highlightWords: true, maxLineWidth: 20, maxLineCount: 2, maxWordsPerLine: undefined };
    expect(await readFile(join(out, "talk.srt"), "utf8")).toBe(formatResult("srt", RESULT, options));
    expect(r.stdout).toBe(""); // not verbose; language given by the .en model
  });

  it("--compute_type (faster-whisper's names) reaches the loader, with --fp16 False where they agree", async () => {
    const loads = async (...flags: string[]) => (await run([audio, "-o", join(dir, "ct"), "--verbose", "False", "-f", "txt", ...flags])).loads;
    expect(await loads("--compute_type", "int8")).toEqual([["openai/whisper-large-v3-turbo", { modelDir: undefined, computeType: "int8" }]]);
    expect(await loads("--compute_type", "int8", "--fp16", "False")).toEqual([["openai/whisper-large-v3-turbo", { modelDir: undefined, dtype: "float32", computeType: "int8" }]]);
    expect(await loads("--compute_type", "float32", "--fp16", "False")).toEqual([["openai/whisper-large-v3-turbo", { modelDir: undefined, computeType: "float32" }]]);
    expect(await loads("--compute_type", "default")).toEqual([["openai/whisper-large-v3-turbo", { modelDir: undefined }]]);
    // Without loadModel the precision travels with each transcribe call.
    const r = await run([audio, "-o", join(dir, "ct"), "--verbose", "False", "-f", "txt", "--compute_type", "int8_float32"], { load: false });
    expect(r.calls[0].options).toMatchObject({ load: { computeType: "int8_float32" } });
    const bad = await run([audio, "--compute_type", "int4"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("argument 'int4' is invalid. Allowed choices are default, int8, int8_float16, int8_float32, float16, float32");
    const clash = await run([audio, "--compute_type", "float16", "--fp16", "False"]);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toBe("whisper: error: --fp16 False contradicts --compute_type float16\n");
  });

  it("handles several files, language names, --flag=value, no fallback, and model paths", async () => {
    const second = join(dir, "second.wav");
    await writeFile(second, "x");
    const out = join(dir, "several");
    const r = await run([audio, `--output_dir=${out}`, second, "-f", "txt", "--language", "German", "--model", dir,
      "--temperature_increment_on_fallback", "None", "--temperature", "0.5", "--verbose", "False"], { load: false });
    expect(r.code).toBe(0);
    expect(r.calls.map((c) => c.audio)).toEqual([audio, second]);
    expect(r.calls[0].options).toMatchObject({ model: dir, language: "de", temperature: [0.5] });
    expect((await readdir(out)).sort()).toEqual(["second.txt", "talk.txt"]);
    expect(await readFile(join(out, "talk.txt"), "utf8")).toBe("Hello there world.\nSecond part here.\n");
    expect(modelSource("large")).toBe("openai/whisper-large-v3");
    expect(modelSource("tiny")).toBe("openai/whisper-tiny");
    expect(modelSource("distil-whisper/distil-small.en")).toBe("distil-whisper/distil-small.en");
  });

  it("shows a progress bar on a terminal when not verbose, for audio past 30 s", async () => {
    const quiet = await run([audio, "-o", join(dir, "bar"), "--verbose", "False", "--language", "en"], { tty: true });
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toContain("100% | 46/46 s");
    const notTty = await run([audio, "-o", join(dir, "bar"), "--verbose", "False", "--language", "en"], { tty: false });
    expect(notTty.stderr).toBe("");
    const verbose = await run([audio, "-o", join(dir, "bar"), "--language", "en"], { tty: true });
    expect(verbose.stderr).toBe("");
  });

  it("notes what it ignores and warns as openai does", async () => {
    const r = await run([audio, "-o", join(dir, "notes"), "--fp16", "True", "--device", "cuda", "--model", "tiny.en", "--language", "fr",
      "--word_timestamps", "True", "--max_line_count", "2", "--verbose", "False"]);
    expect(r.code).toBe(0);
    expect(r.stderr.split("\n")).toEqual([
      "whisper: warning: --max_line_count has no effect without --max_line_width",
      "whisper: note: --device cuda is not supported; running on the CPU",
      "whisper: warning: tiny.en is an English-only model but received 'fr'; using English instead.",
      "",
    ]);
    expect(r.calls[0].options.language).toBe("en");
  });

  it("prints help and exits 0", async () => {
    const r = await run(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: whisper [options] <audio...>");
    expect(r.stdout).toContain("--word_timestamps <bool>");
    expect(r.calls).toHaveLength(0);
  });

  it.each([
    [["--model", "tiny"], "error: missing required argument 'audio'"],
    [["AUDIO", "--frobnicate", "1"], "error: unknown option '--frobnicate'"],
    [["AUDIO", "--model_dri", "x"], "error: unknown option '--model_dri' (Did you mean --model_dir?)"],
    [["AUDIO", "--temperature_increment_on_fallback", "0"], "whisper: error: --temperature_increment_on_fallback must be above 0 or None, got 0"],
    [["AUDIO", "--output_format", "doc"], "error: option '-f, --output_format <format>' argument 'doc' is invalid. Allowed choices are txt, vtt, srt, tsv, json, all."],
    [["AUDIO", "--temperature", "hot"], "error: option '--temperature <t>' argument 'hot' is invalid. Expected a number."],
    [["AUDIO", "--beam_size", "2.5"], "error: option '--beam_size <n>' argument '2.5' is invalid. Expected an integer."],
    [["AUDIO", "--word_timestamps", "yes"], "error: option '--word_timestamps <bool>' argument 'yes' is invalid. Expected True or False."],
    [["AUDIO", "--language", "klingon"], "error: option '--language <language>' argument 'klingon' is invalid. Expected a language code (en, zh, de, es, ru, ko...) or name (English, German...)."],
    [["AUDIO", "--task", "summarize"], "error: option '--task <task>' argument 'summarize' is invalid. Allowed choices are transcribe, translate."],
    [["AUDIO", "--patience"], "error: option '--patience <p>' argument missing"],
    [["AUDIO", "--highlight_words", "True"], "whisper: error: --highlight_words requires --word_timestamps True"],
    [["AUDIO", "--max_words_per_line", "3"], "whisper: error: --max_words_per_line requires --word_timestamps True"],
    [["AUDIO", "--model", "enormous"], "whisper: error: --model enormous: expected one of tiny.en, tiny, base.en, base, small.en, small, medium.en, medium, large-v1, large-v2, large-v3, large, large-v3-turbo, turbo, a Hugging Face repo id (owner/name) or the path of a model"],
    [["AUDIO", "/no/such/file.mp3"], "whisper: error: audio file not found: /no/such/file.mp3"],
  ])("bad usage %j: one line, exit 2", async (argv, message) => {
    const r = await run(argv.map((a) => (a === "AUDIO" ? audio : a)));
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(message + "\n");
    expect(r.calls).toHaveLength(0);
    expect(r.loads).toHaveLength(0);
  });

  it("skips a file that fails, does the rest, exits 1", async () => {
    const bad = join(dir, "bad.flac");
    await writeFile(bad, "x");
    const out = join(dir, "skip");
    const r = await run([bad, audio, "-o", out, "-f", "json", "--verbose", "False", "--language", "en"], { fail: bad });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`Skipping ${bad} due to TypeError: bad audio data\n`);
    expect(await readdir(out)).toEqual(["talk.json"]);
  });

  it("reports a model that fails to load in one line, exit 1", async () => {
    const r = await run([audio, "--model", "nobody/nothing", "-o", join(dir, "load")]);
    expect(r.loads).toEqual([["nobody/nothing", { modelDir: undefined }]]);
    expect(r.code).toBe(0); // the fake loads anything; a failing one:
    const failing = await runCli([audio, "-o", join(dir, "load")], {
      transcribe: async () => RESULT, loadModel: async () => { throw new Error("404 from the hub"); },
      stdout: { write: () => true }, stderr: { write: (s: string) => (msg += s) },
    });
    expect(failing).toBe(1);
    expect(msg).toBe("whisper: error: could not load the model openai/whisper-large-v3-turbo: 404 from the hub\n");
  });
  let msg = "";

  it("prints segments as openai's verbose output", () => {
    expect(segmentLine(segment(3, 3725.0625, 3726, " Hi there all."))).toBe("[01:02:05.062 --> 01:02:06.000]  Hi there all.\n");
  });
});
