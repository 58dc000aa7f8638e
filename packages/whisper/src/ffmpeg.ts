// The ffmpeg fallback for containers we do not decode in process (m4a, mp4, webm, ...).
import { spawn } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, join } from "node:path";

export const FFMPEG_HELP =
  "install ffmpeg (e.g. `apt install ffmpeg`, `brew install ffmpeg`, or `npm install ffmpeg-static`), " +
  "or pass its path as the `ffmpegPath` option or the FFMPEG_PATH environment variable";

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The path of `ffmpeg-static`'s binary, if that optional package is installed (next to us or in the app). */
function ffmpegStatic(): string | undefined {
  for (const base of [import.meta.url, join(process.cwd(), "package.json")]) {
    try {
      const path: unknown = createRequire(base)("ffmpeg-static");
      if (typeof path === "string" && isExecutable(path)) return path;
    } catch {
      // not installed there
    }
  }
  return undefined;
}

/**
 * Finds ffmpeg: `explicit` (the ffmpegPath option), then FFMPEG_PATH, then PATH, then an installed
 * `ffmpeg-static`. Returns undefined when there is none.
 */
export function findFfmpeg(explicit?: string): string | undefined {
  if (explicit !== undefined) {
    if (!isExecutable(explicit)) throw new Error(`ffmpegPath '${explicit}' is not an executable file`);
    return explicit;
  }
  const fromEnv = process.env.FFMPEG_PATH;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new Error(`FFMPEG_PATH '${fromEnv}' is not an executable file`);
    return fromEnv;
  }
  const names = process.platform === "win32" ? ["ffmpeg.exe"] : ["ffmpeg"];
  for (const dir of (process.env.PATH ?? "").split(delimiter))
    for (const name of names) if (dir && isExecutable(join(dir, name))) return join(dir, name);
  return ffmpegStatic();
}

/**
 * Decodes any format ffmpeg reads to mono float32 at `sampleRate` (`ffmpeg -ac 1 -ar`), from a file
 * path or from bytes piped to its stdin. `what` names the input in errors. `-rematrix_maxval 1` keeps
 * the downmix that openai-whisper gets from ffmpeg's 16-bit output (stereo: the mean of the channels);
 * float output would otherwise sum the channels at 0.707 each.
 */
export function decodeWithFfmpeg(ffmpeg: string, input: string | Uint8Array, sampleRate: number, what: string): Promise<Float32Array> {
  const args = ["-nostdin", "-hide_banner", "-loglevel", "error", "-threads", "0", "-i", typeof input === "string" ? input : "pipe:0",
    "-f", "f32le", "-ac", "1", "-ar", String(sampleRate), "-rematrix_maxval", "1", "-"];
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpeg, args, { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    child.on("error", (e) => reject(new Error(`could not run ffmpeg at '${ffmpeg}' to decode ${what}: ${e.message}`)));
    child.on("close", (code, signal) => {
      if (code !== 0) {
        const msg = Buffer.concat(err).toString("utf8").trim().split("\n").slice(-3).join("; ");
        reject(new Error(`ffmpeg could not decode ${what} (${signal ?? `exit code ${code}`}): ${msg || "no message"}`));
        return;
      }
      const bytes = Buffer.concat(out);
      const samples = new Float32Array(bytes.length >> 2);
      new Uint8Array(samples.buffer).set(bytes.subarray(0, samples.length * 4));
      resolve(samples);
    });
    // ffmpeg may stop reading early (bad data); that shows up as its exit code, not as EPIPE.
    child.stdin.on("error", () => undefined);
    child.stdin.end(typeof input === "string" ? undefined : input);
  });
}
