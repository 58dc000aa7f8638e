// The `whisper` command: openai-whisper's cli() (whisper/transcribe.py) with its flags and spellings.
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { SingleBar } from "cli-progress";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { COMPUTE_TYPES } from "./model/load.js";
import type { WhisperComputeType } from "./model/load.js";
import { MODEL_NAMES, modelSource } from "./pipeline.js";
import { npArange } from "./pyformat.js";
import { DEFAULT_APPEND_PUNCTUATIONS, DEFAULT_PREPEND_PUNCTUATIONS } from "./timing.js";
import { LANGUAGES, languageCode } from "./tokenizer.js";
import type { Segment, TranscribeOptions, TranscribeProgress, TranscribeResult } from "./types.js";
import { OUTPUT_FORMATS, formatTimestamp, getWriter } from "./writers.js";
import type { OutputFormat, WriterOptions } from "./writers.js";

/** A stream the CLI writes to (process.stdout / process.stderr, or a test's collector). */
export interface CliStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** What runCli needs from the outside world; tests pass fakes. */
export interface CliDeps<M = unknown> {
  /** Transcribes one file; `model` is the loaded model when `loadModel` is given, else the repo id or path. */
  transcribe: (audioPath: string, options: TranscribeOptions & { model?: string | M }) => Promise<TranscribeResult>;
  /**
   * Loads the model once for all the files (`modelDir`: the download cache folder, --model_dir;
   * `dtype`: "float32" for --fp16 False, else undefined: the checkpoint's own precision;
   * `computeType`: --compute_type when not "default").
   */
  loadModel?: (source: string, options: { modelDir?: string; dtype?: "float32"; computeType?: WhisperComputeType }) => Promise<M>;
  /** Sets the CPU threads (--threads). */
  setThreads?: (threads: number) => void;
  stdout: CliStream;
  stderr: CliStream;
  /** Whether a path exists (default: fs.existsSync). */
  exists?: (path: string) => boolean;
  /** Stops the transcription in progress. */
  signal?: AbortSignal;
}

// openai's argument types: str2bool, optional_int, optional_float, float (Python's int() and float() spellings).
function str2bool(value: string): boolean {
  if (value === "True" || value === "true") return true;
  if (value === "False" || value === "false") return false;
  throw new InvalidArgumentError("Expected True or False.");
}
function pyInt(value: string): number {
  if (!/^\s*[+-]?\d+(_\d+)*\s*$/.test(value)) throw new InvalidArgumentError("Expected an integer.");
  return Number(value.replaceAll("_", ""));
}
function pyFloat(value: string): number {
  const v = value.trim().replaceAll("_", "");
  if (/^[+-]?(inf|infinity)$/i.test(v)) return v.startsWith("-") ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(v)) return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(v)) throw new InvalidArgumentError("Expected a number.");
  return Number(v);
}
// "None" parses to this marker, made null after parsing (commander turns a null from a parser into "").
const NONE = Symbol("None");
const optional = <T>(parse: (v: string) => T) => (value: string): T | typeof NONE => (value === "None" ? NONE : parse(value));
function language(value: string): string | typeof NONE {
  if (value === "None") return NONE;
  try {
    return languageCode(value);
  } catch {
    throw new InvalidArgumentError(`Expected a language code (${Object.keys(LANGUAGES).slice(0, 6).join(", ")}...) or name (English, German...).`);
  }
}

/** The parsed command line, with openai's option names. */
interface CliArgs {
  model: string; model_dir?: string; device: string; output_dir: string; output_format: OutputFormat | "all";
  verbose: boolean; task: "transcribe" | "translate"; language: string | null; temperature: number;
  best_of: number | null; beam_size: number | null; patience?: number; length_penalty?: number;
  suppress_tokens: string; initial_prompt?: string; carry_initial_prompt: boolean; condition_on_previous_text: boolean;
  fp16: boolean; compute_type: WhisperComputeType; temperature_increment_on_fallback: number | null; compression_ratio_threshold: number | null;
  logprob_threshold: number | null; no_speech_threshold: number | null; word_timestamps: boolean;
  prepend_punctuations: string; append_punctuations: string; highlight_words: boolean; max_line_width: number | null;
  max_line_count: number | null; max_words_per_line: number | null; threads: number | null; clip_timestamps: string;
  hallucination_silence_threshold: number | null; refine_word_timestamps: boolean;
}

function buildCommand(): Command {
  const opt = (flags: string, description: string, defaultValue?: unknown, parse?: (v: string) => unknown): Option => {
    const o = new Option(flags, description);
    // Defaults shown in Python's spelling, as openai's --help shows them.
    const shown = defaultValue === null ? "None" : typeof defaultValue === "boolean" ? (defaultValue ? "True" : "False") : undefined;
    if (defaultValue !== undefined) o.default(defaultValue, shown);
    if (parse) o.argParser(parse);
    return o;
  };
  const bool = (flag: string, description: string, defaultValue: boolean): Option =>
    opt(`--${flag} <bool>`, description, defaultValue, str2bool);
  return new Command("whisper")
    .description("Transcribe or translate speech with Whisper on Tessera (openai-whisper's command line).")
    .argument("<audio...>", "audio file(s) to transcribe")
    .addOption(opt("--model <name>", `name of the Whisper model to use (${MODEL_NAMES.join(", ")}), a Hugging Face repo id, or a path to a model`, "turbo"))
    .addOption(opt("--model_dir <dir>", "the folder to download models to (the Hugging Face hub cache by default)"))
    .addOption(opt("--device <device>", "device to use for inference (only cpu)", "cpu"))
    .addOption(opt("-o, --output_dir <dir>", "directory to save the outputs", "."))
    .addOption(opt("-f, --output_format <format>", "format of the output file; all: every format", "all").choices([...OUTPUT_FORMATS, "all"]))
    .addOption(bool("verbose", "whether to print out the progress and debug messages", true))
    .addOption(opt("--task <task>", "transcribe (X->X speech recognition) or translate (X->English)", "transcribe").choices(["transcribe", "translate"]))
    .addOption(opt("--language <language>", "language spoken in the audio; None: detect it", null, language))
    .addOption(opt("--temperature <t>", "temperature to use for sampling", 0, pyFloat))
    .addOption(opt("--best_of <n>", "number of candidates when sampling with non-zero temperature", 5, optional(pyInt)))
    .addOption(opt("--beam_size <n>", "number of beams in beam search, only applicable when temperature is zero", 5, optional(pyInt)))
    .addOption(opt("--patience <p>", "optional patience value to use in beam decoding (1.0: conventional beam search)", undefined, pyFloat))
    .addOption(opt("--length_penalty <alpha>", "optional token length penalty coefficient; simple length normalization by default", undefined, pyFloat))
    .addOption(opt("--suppress_tokens <ids>", "comma-separated list of token ids to suppress during sampling; '-1': most special characters except common punctuations", "-1"))
    .addOption(opt("--initial_prompt <text>", "optional text to provide as a prompt for the first window"))
    .addOption(bool("carry_initial_prompt", "if True, prepend initial_prompt to every internal decode() call", false))
    .addOption(bool("condition_on_previous_text", "if True, provide the previous output of the model as a prompt for the next window", true))
    .addOption(bool("fp16", "compute in the checkpoint's half precision (float16 weights stay float16, float32 accumulation); False: float32", true))
    .addOption(opt("--compute_type <type>", "(faster-whisper's) int8: Linear weights quantized to Q8_0 at load, int8 dot products; int8_float16 / int8_float32 also set the other layers' precision; float16 / float32: as --fp16", "default").choices([...COMPUTE_TYPES]))
    .addOption(opt("--temperature_increment_on_fallback <t>", "temperature to increase when falling back when the decoding fails to meet either of the thresholds below", 0.2, optional(pyFloat)))
    .addOption(opt("--compression_ratio_threshold <r>", "if the gzip compression ratio is higher than this value, treat the decoding as failed", 2.4, optional(pyFloat)))
    .addOption(opt("--logprob_threshold <lp>", "if the average log probability is lower than this value, treat the decoding as failed", -1.0, optional(pyFloat)))
    .addOption(opt("--no_speech_threshold <p>", "if the probability of the <|nospeech|> token is higher than this value AND the decoding has failed due to logprob_threshold, consider the segment as silence", 0.6, optional(pyFloat)))
    .addOption(bool("word_timestamps", "extract word-level timestamps and refine the results based on them", false))
    .addOption(opt("--prepend_punctuations <chars>", "if word_timestamps is True, merge these punctuation symbols with the next word", DEFAULT_PREPEND_PUNCTUATIONS))
    .addOption(opt("--append_punctuations <chars>", "if word_timestamps is True, merge these punctuation symbols with the previous word", DEFAULT_APPEND_PUNCTUATIONS))
    .addOption(bool("refine_word_timestamps", "(requires --word_timestamps True; Tessera's) move word times onto the speech: pauses become gaps between words", false))
    .addOption(bool("highlight_words", "(requires --word_timestamps True) underline each word as it is spoken in srt and vtt", false))
    .addOption(opt("--max_line_width <n>", "(requires --word_timestamps True) the maximum number of characters in a line before breaking the line", null, optional(pyInt)))
    .addOption(opt("--max_line_count <n>", "(requires --word_timestamps True) the maximum number of lines in a segment", null, optional(pyInt)))
    .addOption(opt("--max_words_per_line <n>", "(requires --word_timestamps True, no effect with --max_line_width) the maximum number of words in a segment", null, optional(pyInt)))
    .addOption(opt("--threads <n>", "number of CPU threads; 0: all cores", 0, optional(pyInt)))
    .addOption(opt("--clip_timestamps <list>", "comma-separated list start,end,start,end,... timestamps (in seconds) of clips to process, where the last end timestamp defaults to the end of the file", "0"))
    .addOption(opt("--hallucination_silence_threshold <s>", "(requires --word_timestamps True) skip silent periods longer than this threshold (in seconds) when a possible hallucination is detected", null, optional(pyFloat)));
}

/** A usage error: printed as one line, exit code 2 (as argparse's). */
class UsageError extends Error {}

/**
 * Runs the `whisper` command line (`argv` without the node and script paths) and resolves to the exit code:
 * 0 when every file was transcribed, 1 when one failed (the others are still done), 2 for bad usage.
 * Messages are one line each; no stack traces.
 */
export async function runCli<M = unknown>(argv: readonly string[], deps: CliDeps<M>): Promise<number> {
  const { stdout, stderr } = deps;
  const command = buildCommand()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => stdout.write(s),
      writeErr: (s) => stderr.write(s),
      // One line: commander puts its "(Did you mean --model_dir?)" on a second one.
      outputError: (s, write) => write(s.replace(/\n(?=.)/g, " ")),
    });
  let files: string[];
  try {
    command.parse([...argv], { from: "user" });
    files = command.processedArgs[0] as string[];
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2; // commander printed the help or the message
    throw e;
  }
  const args = Object.fromEntries(
    Object.entries(command.opts()).map(([k, v]) => [k, v === NONE ? null : v]),
  ) as unknown as CliArgs;
  try {
    return await runParsed(files, args, command, deps);
  } catch (e) {
    stderr.write(`whisper: error: ${e instanceof Error ? e.message : String(e)}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}

/** Checks what openai's cli() checks; warns as it does. Resolves the language and the temperature list. */
function checkArgs(files: string[], args: CliArgs, command: Command, exists: (path: string) => boolean, note: (text: string) => void)
  : { language?: string; temperature: number[] } {
  const wordOptions = ["highlight_words", "max_line_count", "max_line_width", "max_words_per_line", "refine_word_timestamps"] as const;
  if (!args.word_timestamps) {
    for (const o of wordOptions) if (args[o]) throw new UsageError(`--${o} requires --word_timestamps True`);
  }
  if (args.max_line_count && !args.max_line_width) note("warning: --max_line_count has no effect without --max_line_width");
  if (args.max_words_per_line && args.max_line_width) note("warning: --max_words_per_line has no effect with --max_line_width");
  const model = args.model;
  if (!(MODEL_NAMES as readonly string[]).includes(model) && !exists(model) && !/^[\w.-]+\/[\w.-]+$/.test(model)) {
    throw new UsageError(`--model ${model}: expected one of ${MODEL_NAMES.join(", ")}, a Hugging Face repo id (owner/name) or the path of a model`);
  }
  const missing = files.filter((f) => !exists(f));
  if (missing.length > 0) throw new UsageError(`audio file not found: ${missing.join(", ")}`);
  if (args.device !== "cpu") note(`note: --device ${args.device} is not supported; running on the CPU`);

  let language = args.language ?? undefined;
  if (model.endsWith(".en") && language !== "en") {
    if (language !== undefined) note(`warning: ${model} is an English-only model but received '${args.language}'; using English instead.`);
    language = "en";
  }
  const increment = args.temperature_increment_on_fallback;
  if (increment !== null && !(increment > 0)) throw new UsageError(`--temperature_increment_on_fallback must be above 0 or None, got ${increment}`);
  const temperature = increment !== null ? npArange(args.temperature, 1.0 + 1e-6, increment) : [args.temperature];
  return { language, temperature };
}

/** The load options of --fp16 and --compute_type (none for the defaults: the checkpoint's precision). */
function loadPrecision(args: CliArgs): { dtype?: "float32"; computeType?: WhisperComputeType } {
  const computeType = args.compute_type === "default" ? undefined : args.compute_type;
  if (args.fp16) return computeType ? { computeType } : {};
  if (computeType?.endsWith("float16")) throw new UsageError(`--fp16 False contradicts --compute_type ${computeType}`);
  // float32 for what computeType leaves open (int8: the layers it does not quantize).
  return computeType?.endsWith("float32") ? { computeType } : { dtype: "float32", ...(computeType ? { computeType } : {}) };
}

/** openai's transcribe() keyword arguments from the command line, in our names. */
function transcribeOptions(args: CliArgs, language: string | undefined, temperature: number[]): TranscribeOptions {
  return {
    task: args.task, language, temperature,
    bestOf: args.best_of ?? undefined, beamSize: args.beam_size ?? undefined,
    patience: args.patience, lengthPenalty: args.length_penalty, suppressTokens: args.suppress_tokens,
    initialPrompt: args.initial_prompt, carryInitialPrompt: args.carry_initial_prompt,
    conditionOnPreviousText: args.condition_on_previous_text,
    compressionRatioThreshold: args.compression_ratio_threshold, logprobThreshold: args.logprob_threshold,
    noSpeechThreshold: args.no_speech_threshold, wordTimestamps: args.word_timestamps,
    prependPunctuations: args.prepend_punctuations, appendPunctuations: args.append_punctuations,
    clipTimestamps: args.clip_timestamps, hallucinationSilenceThreshold: args.hallucination_silence_threshold ?? undefined,
    refineWordTimestamps: args.refine_word_timestamps,
  };
}

async function runParsed<M>(files: string[], args: CliArgs, command: Command, deps: CliDeps<M>): Promise<number> {
  const { stdout, stderr } = deps;
  const note = (text: string): void => void stderr.write(`whisper: ${text}\n`);
  const { language, temperature } = checkArgs(files, args, command, deps.exists ?? existsSync, note);
  const precision = loadPrecision(args);
  if (args.threads) deps.setThreads?.(args.threads);
  const options: TranscribeOptions = { ...transcribeOptions(args, language, temperature), signal: deps.signal };
  const writerOptions: WriterOptions = {
    highlightWords: args.highlight_words, maxLineWidth: args.max_line_width ?? undefined,
    maxLineCount: args.max_line_count ?? undefined, maxWordsPerLine: args.max_words_per_line ?? undefined,
  };

  await mkdir(args.output_dir, { recursive: true });
  const writer = getWriter(args.output_format, args.output_dir);
  const source = modelSource(args.model);
  let loaded: string | M = source;
  if (deps.loadModel) {
    try {
      loaded = await deps.loadModel(source, { modelDir: args.model_dir, ...precision });
    } catch (e) {
      throw new Error(`could not load the model ${source}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  let failed = 0;
  for (const file of files) {
    const progress = progressReporter(stderr, !args.verbose);
    if (args.verbose && language === undefined) {
      stdout.write("Detecting language using up to the first 30 seconds. Use `--language` to specify the language\n");
    }
    try {
      const result = await deps.transcribe(file, {
        ...options, model: loaded, ...(deps.loadModel || Object.keys(precision).length === 0 ? {} : { load: precision }),
        onSegment: args.verbose ? (s: Segment) => void stdout.write(segmentLine(s)) : undefined,
        onProgress: progress.update,
      });
      progress.stop();
      if (language === undefined) stdout.write(`Detected language: ${titleCase(LANGUAGES[result.language] ?? result.language)}\n`);
      await writer(result, file, writerOptions);
    } catch (e) {
      progress.stop();
      if (deps.signal?.aborted) throw new Error(`stopped: ${e instanceof Error ? e.message : String(e)}`);
      failed++;
      stderr.write(`Skipping ${file} due to ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}\n`);
    }
  }
  return failed > 0 ? 1 : 0;
}

/** A segment as openai's transcribe prints it with verbose=True: "[00:00.000 --> 00:02.000] text". */
export function segmentLine(s: Segment): string {
  return `[${formatTimestamp(s.start)} --> ${formatTimestamp(s.end)}] ${s.text}\n`;
}

const titleCase = (s: string): string => s.replace(/\b\w/g, (c) => c.toUpperCase());

/** A progress bar on a terminal for audio longer than one window; nothing otherwise. */
function progressReporter(stderr: CliStream, enabled: boolean): { update: (p: TranscribeProgress) => void; stop: () => void } {
  let bar: SingleBar | undefined;
  const show = enabled && stderr.isTTY === true;
  return {
    update: ({ processed, total }) => {
      if (!show || total <= 30) return;
      if (bar === undefined) {
        bar = new SingleBar({
          stream: stderr as unknown as NodeJS.WritableStream,
          format: "{bar} {percentage}% | {value}/{total} s | ETA: {eta_formatted}",
          hideCursor: true, clearOnComplete: false,
        });
        bar.start(Math.round(total), 0);
      }
      bar.update(Math.round(Math.min(processed, total)));
    },
    stop: () => {
      bar?.stop();
      bar = undefined;
    },
  };
}
