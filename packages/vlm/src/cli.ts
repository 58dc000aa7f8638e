// The `vlm` command: `vlm --model M --image a.png --image b.png --prompt "…"` streams the answer
// to stdout and mlx-vlm's speed summary to stderr. mlx-vlm's flag names are accepted as aliases
// (`--image` also takes several paths at once, as mlx_vlm.generate's does); the sampling flags
// are @tessera/lm's.
import { Command, CommanderError } from "commander";
import { CliUsageError, canonicalArgs, cliGenerateOptions, cliSamplingOptions, cliSpeedReport } from "@tessera/lm";
import type { CliSamplingFlags, CliStream } from "@tessera/lm";
import type { Vlm } from "./vlm.js";

/** The outside world of runVlmCli; tests and the bin pass their own. */
export interface VlmCliDeps {
  loadModel: (source: string) => Promise<Vlm>;
  setThreads?: (threads: number) => void;
  stdout: CliStream;
  stderr: CliStream;
  /** Ctrl-C: stops the generation in progress. */
  signal?: AbortSignal;
}

interface Flags extends CliSamplingFlags {
  image?: string[];
  prompt?: string;
}

const ALIASES: Record<string, string> = { "--images": "--image", "--max_tokens": "--max-tokens", "--temperature": "--temp" };

async function generate(o: Flags, deps: VlmCliDeps): Promise<void> {
  if (o.prompt === undefined) throw new CliUsageError("vlm needs --prompt");
  if (o.threads !== undefined) {
    if (o.threads < 1) throw new CliUsageError("--threads must be at least 1");
    deps.setThreads?.(o.threads);
  }
  const vlm = await deps.loadModel(o.model);
  const images = o.image ?? [];
  const start = performance.now();
  let first: number | undefined;
  const stream = vlm.stream(images, o.prompt, cliGenerateOptions(o, deps.signal));
  for (;;) {
    const n = await stream.next();
    if (n.done) {
      if (o.verbose) deps.stderr.write(`\n${cliSpeedReport(n.value, start, first, performance.now())}`);
      else deps.stdout.write("\n");
      return;
    }
    first ??= performance.now();
    deps.stdout.write(n.value.text);
  }
}

/** Runs `vlm` (argv without node and the script); resolves to the exit code: 0 done, 1 failed, 2 bad usage. */
export async function runVlmCli(argv: readonly string[], deps: VlmCliDeps): Promise<number> {
  let flags: Flags | undefined;
  const command = cliSamplingOptions(new Command("vlm").description("vision-language generation on Tessera: answer a prompt about images"))
    .option("--image <paths...>", "an image file (repeatable; several paths at once as mlx-vlm)", (v: string, prev: string[] = []) => [...prev, v])
    .option("--prompt <text>", "the question or instruction (a chat turn through the model's template)")
    .showHelpAfterError("(add --help for usage)")
    .exitOverride()
    .configureOutput({ writeOut: (s) => deps.stdout.write(s), writeErr: (s) => deps.stderr.write(s) })
    .action((o: Flags) => { flags = o; });
  try {
    await command.parseAsync(canonicalArgs(argv, ALIASES), { from: "user" });
    if (flags) await generate(flags, deps);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    deps.stderr.write(`vlm: ${(e as Error).message}\n`);
    return e instanceof CliUsageError ? 2 : 1;
  }
}
