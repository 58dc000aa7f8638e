// The `lm` command: `lm generate` (a prompt's continuation streamed to stdout, speed on stderr),
// `lm chat` (a REPL keeping the prompt cache between turns; one message per line when piped) and
// `lm serve` (the OpenAI-compatible server). mlx-lm's flag names are accepted as aliases.
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import type { Lm } from "./lm.js";
import type { LmGenerateOptions } from "./lm.js";
import type { ServedModel } from "./server/model.js";
import { createServer } from "./server/server.js";
import type { GenerateResult } from "./text.js";
import type { ChatMessage } from "./tokenizer/template.js";

export interface CliStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** The outside world of runCli; tests and the bin pass their own. */
export interface CliDeps {
  loadModel: (source: string) => Promise<Lm>;
  /** For `lm serve`: a model other than an Lm to serve (a vision-language model), or undefined to use loadModel. */
  loadServed?: (source: string, opts: { allowRemoteImages: boolean }) => Promise<ServedModel | undefined>;
  setThreads?: (threads: number) => void;
  stdin: Readable & { isTTY?: boolean };
  stdout: CliStream;
  stderr: CliStream;
  /** Ctrl-C: stops the generation in progress (and the server). */
  signal?: AbortSignal;
  /** Called with the server's address once `lm serve` listens. */
  onListening?: (address: string) => void;
}

/** A command-line mistake (exit code 2). */
export class UsageError extends Error {}

// Other spellings -> the canonical flag (mlx-lm's underscores and short names).
const ALIASES: Record<string, string> = {
  "--max_tokens": "--max-tokens", "--max-new-tokens": "--max-tokens", "--temperature": "--temp", "--top_p": "--top-p", "--top_k": "--top-k",
  "--min_p": "--min-p", "--system_prompt": "--system-prompt", "--ignore_chat_template": "--ignore-chat-template",
  "--repetition_penalty": "--repetition-penalty", "--stop-string": "--stop",
};

const int = (v: string): number => {
  if (!/^\s*[+-]?\d+\s*$/.test(v)) throw new InvalidArgumentError("Expected an integer.");
  return Number(v);
};
const num = (v: string): number => {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n)) throw new InvalidArgumentError("Expected a number.");
  return n;
};
const bool = (v: string): boolean => {
  if (/^(true|1|yes)$/i.test(v)) return true;
  if (/^(false|0|no)$/i.test(v)) return false;
  throw new InvalidArgumentError("Expected true or false.");
};
const collect = (v: string, prev: string[] = []) => [...prev, v];

/** The sampling flags' parsed values (shared with the `vlm` command). */
export interface SamplingFlags {
  model: string;
  maxTokens: number;
  temp: number;
  topP?: number;
  topK?: number;
  minP?: number;
  repetitionPenalty?: number;
  seed?: number;
  stop?: string[];
  systemPrompt?: string;
  threads?: number;
  verbose: boolean;
}

/** Adds --model and the sampling flags (mlx-lm's names) to a command. */
export function samplingOptions(c: Command): Command {
  return c
    .requiredOption("--model <model>", "a Hugging Face repo id, a model folder or a .gguf file")
    .addOption(new Option("-m, --max-tokens <n>", "most tokens to generate").argParser(int).default(100))
    .addOption(new Option("--temp <t>", "sampling temperature (0 = greedy)").argParser(num).default(0))
    .addOption(new Option("--top-p <p>", "nucleus sampling mass").argParser(num))
    .addOption(new Option("--top-k <k>", "keep the k most likely tokens").argParser(int))
    .addOption(new Option("--min-p <p>", "drop tokens below p × the top probability").argParser(num))
    .addOption(new Option("--repetition-penalty <r>", "penalty on repeated tokens (1 = off)").argParser(num))
    .addOption(new Option("--seed <n>", "sampler seed (reproducible output)").argParser(int))
    .addOption(new Option("--stop <text>", "a string that ends the output (repeatable)").argParser(collect))
    .option("--system-prompt <text>", "a system message before the prompt (chat template)")
    .addOption(new Option("--threads <n>", "CPU threads").argParser(int))
    .addOption(new Option("--verbose [bool]", "print the speed to stderr").argParser(bool).default(true));
}

/** The generate options of parsed sampling flags. */
export function generateOptions(o: SamplingFlags, signal?: AbortSignal): LmGenerateOptions {
  return {
    maxTokens: o.maxTokens, temperature: o.temp, topP: o.topP, topK: o.topK, minP: o.minP,
    repetitionPenalty: o.repetitionPenalty, seed: o.seed, stop: o.stop, signal,
  };
}

/** mlx-lm's summary: prompt and generation tokens and tokens per second. */
export function speed(r: GenerateResult, start: number, first: number | undefined, end: number): string {
  const f = first ?? end;
  const prompt = r.usage.promptTokens - (r.usage.cachedTokens ?? 0);
  const gen = r.usage.completionTokens;
  const tps = (n: number, ms: number) => (ms > 0 ? (n / ms) * 1000 : 0).toFixed(3);
  return `==========\nPrompt: ${prompt} tokens, ${tps(prompt, f - start)} tokens-per-sec\nGeneration: ${gen} tokens, ${tps(Math.max(gen - 1, 0), end - f)} tokens-per-sec\n`;
}

async function readAll(stream: Readable): Promise<string> {
  let s = "";
  for await (const c of stream) s += typeof c === "string" ? c : (c as Buffer).toString("utf8");
  return s;
}

/** Streams one generation to stdout; returns its result (speed on stderr when verbose). */
async function streamTo(lm: Lm, prompt: string | ChatMessage[], opts: LmGenerateOptions, o: SamplingFlags, deps: CliDeps): Promise<GenerateResult> {
  const start = performance.now();
  let first: number | undefined;
  const s = lm.stream(prompt, opts);
  for (;;) {
    const n = await s.next();
    if (n.done) {
      if (o.verbose) deps.stderr.write(`\n${speed(n.value, start, first, performance.now())}`);
      return n.value;
    }
    first ??= performance.now();
    deps.stdout.write(n.value.text);
  }
}

async function load(o: { model: string; threads?: number }, deps: CliDeps): Promise<Lm> {
  if (o.threads !== undefined) {
    if (o.threads < 1) throw new UsageError("--threads must be at least 1");
    deps.setThreads?.(o.threads);
  }
  return deps.loadModel(o.model);
}

function buildCommand(deps: CliDeps): Command {
  // Set before the subcommands are added, so that they inherit it.
  const program = new Command("lm").description("LLM text generation on Tessera").showHelpAfterError("(add --help for usage)")
    .exitOverride().configureOutput({ writeOut: (s) => deps.stdout.write(s), writeErr: (s) => deps.stderr.write(s) });
  samplingOptions(program.command("generate").description("generate a continuation of a prompt (a chat reply when the model has a chat template)"))
    .option("-p, --prompt <text>", "the prompt (- reads stdin)")
    .option("--ignore-chat-template", "use the prompt as it is, without the chat template")
    .action(async (o: SamplingFlags & { prompt?: string; ignoreChatTemplate?: boolean }) => {
      if (o.prompt === undefined) throw new UsageError("generate needs --prompt (or --prompt - to read stdin)");
      const text = o.prompt === "-" ? await readAll(deps.stdin) : o.prompt;
      const lm = await load(o, deps);
      const chat = lm.template !== undefined && !o.ignoreChatTemplate;
      if (!chat && o.systemPrompt !== undefined) throw new UsageError("--system-prompt needs the chat template (the model has none, or --ignore-chat-template was given)");
      const prompt: string | ChatMessage[] = chat
        ? [...(o.systemPrompt !== undefined ? [{ role: "system", content: o.systemPrompt }] : []), { role: "user", content: text }]
        : text;
      await streamTo(lm, prompt, generateOptions(o, deps.signal), o, deps);
      deps.stdout.write("\n");
    });
  samplingOptions(program.command("chat").description("chat with the model (a REPL on a terminal; one message per line when stdin is piped)"))
    .action(async (o: SamplingFlags) => {
      const lm = await load(o, deps);
      if (!lm.template) throw new UsageError(`${lm.source} has no chat template: use lm generate`);
      await chatLoop(lm, o, deps);
    });
  program.command("serve").description("an OpenAI-compatible HTTP server (/v1/models, /v1/completions, /v1/chat/completions)")
    .requiredOption("--model <model>", "a Hugging Face repo id, a model folder or a .gguf file")
    .addOption(new Option("--port <port>", "port (0 picks a free one)").argParser(int).default(8080))
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--model-id <id>", "the model id the API reports (default: the --model argument)")
    .option("--allow-remote-images", "fetch http(s) image URLs (vision models; default: data URLs only)")
    .addOption(new Option("--threads <n>", "CPU threads").argParser(int))
    .action(async (o: { model: string; port: number; host: string; modelId?: string; allowRemoteImages?: boolean; threads?: number }) => {
      if (o.port < 0 || o.port > 65535) throw new UsageError("--port must be 0 to 65535");
      if (o.threads !== undefined && o.threads >= 1) deps.setThreads?.(o.threads);
      const model = (await deps.loadServed?.(o.model, { allowRemoteImages: o.allowRemoteImages === true })) ?? await load(o, deps);
      const app = createServer(model, { modelId: o.modelId ?? o.model, allowRemoteImages: o.allowRemoteImages });
      const address = await app.listen({ port: o.port, host: o.host });
      deps.stderr.write(`lm serve: ${o.modelId ?? o.model} on ${address}/v1\n`);
      deps.onListening?.(address);
      await new Promise<void>((resolve) => {
        if (deps.signal?.aborted) resolve();
        deps.signal?.addEventListener("abort", () => resolve(), { once: true });
      });
      await app.close();
    });
  return program;
}

/** The REPL: each line is a user turn; /reset forgets the conversation, /quit (or end of input) ends. */
async function chatLoop(lm: Lm, o: SamplingFlags, deps: CliDeps): Promise<void> {
  const tty = deps.stdin.isTTY === true && deps.stdout.isTTY === true;
  const system: ChatMessage[] = o.systemPrompt !== undefined ? [{ role: "system", content: o.systemPrompt }] : [];
  let messages: ChatMessage[] = [...system];
  let cache = lm.createPromptCache();
  const rl = createInterface({ input: deps.stdin, output: tty ? (deps.stdout as NodeJS.WritableStream) : undefined, terminal: tty });
  if (tty) deps.stderr.write("Type a message; /reset starts over, /quit (or Ctrl-D) ends.\n");
  const ask = () => { if (tty) { rl.setPrompt(">> "); rl.prompt(); } };
  // On a terminal readline takes Ctrl-C: it stops the reply in progress, or ends the chat at the prompt.
  let turn: AbortController | undefined;
  rl.on("SIGINT", () => { if (turn) turn.abort(new Error("interrupted")); else rl.close(); });
  ask();
  try {
    for await (const line of rl) {
      const text = line.trim();
      if (text === "/quit" || text === "/exit") break;
      if (text === "/reset") {
        cache.dispose();
        cache = lm.createPromptCache();
        messages = [...system];
        ask();
        continue;
      }
      if (text === "") { ask(); continue; }
      messages.push({ role: "user", content: text });
      turn = new AbortController();
      const signal = deps.signal ? AbortSignal.any([deps.signal, turn.signal]) : turn.signal;
      const r = await streamTo(lm, messages, { ...generateOptions(o, signal), promptCache: cache }, { ...o, verbose: o.verbose && tty }, deps)
        .finally(() => { turn = undefined; });
      deps.stdout.write("\n");
      messages.push({ role: "assistant", content: r.text });
      if (deps.signal?.aborted) break;
      ask();
    }
  } finally {
    rl.close();
    cache.dispose();
  }
}

/** argv with mlx-lm's spellings (and `extra` ones) turned into the canonical flags. */
export function canonicalArgs(argv: readonly string[], extra: Record<string, string> = {}): string[] {
  return argv.map((a) => {
    const [flag, ...rest] = a.split("=");
    const c = extra[flag] ?? ALIASES[flag];
    return c ? [c, ...rest].join("=") : a;
  });
}

/** Runs `lm` (argv without node and the script); resolves to the exit code: 0 done, 1 failed, 2 bad usage. */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  const { stderr } = deps;
  const command = buildCommand(deps);
  try {
    await command.parseAsync(canonicalArgs(argv), { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    stderr.write(`lm: error: ${e instanceof Error ? e.message : String(e)}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}
