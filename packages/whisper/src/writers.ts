// Transcript files as openai-whisper writes them (whisper/utils.py): txt, vtt, srt, tsv, json, byte for byte.
import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join, parse } from "node:path";
import { pyFloatRepr, pyJsonString, pyLeadingSpace, pyLen, pyRound, pyStrip } from "./pyformat.js";
import type { Segment, TranscribeResult, Word } from "./types.js";

/** The file formats openai-whisper writes. */
export const OUTPUT_FORMATS = ["txt", "vtt", "srt", "tsv", "json"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Subtitle layout from word timestamps (vtt, srt); ignored by the other formats and without words. */
export interface WriterOptions {
  /** Underline each word as it is spoken. */
  highlightWords?: boolean;
  /** Most characters in a line before it breaks. */
  maxLineWidth?: number;
  /** Most lines in a subtitle (only with maxLineWidth; then subtitles ignore segment bounds). */
  maxLineCount?: number;
  /** Most words in a line (no effect with maxLineWidth). */
  maxWordsPerLine?: number;
}

/**
 * A time as "[hh:]mm:ss.mmm" (openai-whisper's format_timestamp): hours shown when nonzero or asked for.
 * @throws for negative times.
 */
export function formatTimestamp(seconds: number, alwaysIncludeHours = false, decimalMarker = "."): string {
  if (!(seconds >= 0)) throw new Error(`formatTimestamp: non-negative timestamp expected, got ${seconds}`);
  let ms = pyRound(seconds * 1000);
  const hours = Math.floor(ms / 3_600_000);
  ms -= hours * 3_600_000;
  const minutes = Math.floor(ms / 60_000);
  ms -= minutes * 60_000;
  const secs = Math.floor(ms / 1000);
  ms -= secs * 1000;
  const two = (n: number): string => n.toString().padStart(2, "0");
  const hoursMarker = alwaysIncludeHours || hours > 0 ? `${two(hours)}:` : "";
  return `${hoursMarker}${two(minutes)}:${two(secs)}${decimalMarker}${ms.toString().padStart(3, "0")}`;
}

const wordsOf = (s: Segment): Word[] => s.words ?? [];

function getStart(segments: Segment[]): number | undefined {
  for (const s of segments) for (const w of wordsOf(s)) return w.start;
  return segments[0]?.start;
}

/** The subtitles of openai's SubtitlesWriter.iterate_subtitles: lists of words, the first of each line stripped. */
function* iterateSubtitles(segments: Segment[], options: WriterOptions): Generator<Word[]> {
  const maxLineCount = options.maxLineCount || undefined;
  const preserveSegments = maxLineCount === undefined || !options.maxLineWidth;
  const maxLineWidth = options.maxLineWidth || 1000;
  const maxWordsPerLine = options.maxWordsPerLine || 1000;
  let lineLen = 0;
  let lineCount = 1;
  let subtitle: Word[] = [];
  let last = getStart(segments) || 0;
  for (const segment of segments) {
    const words = wordsOf(segment);
    for (let chunk = 0; chunk < words.length; chunk += maxWordsPerLine) {
      const chunkWords = words.slice(chunk, chunk + maxWordsPerLine);
      for (let i = 0; i < chunkWords.length; i++) {
        const timing = { ...chunkWords[i] };
        const longPause = !preserveSegments && timing.start - last > 3.0;
        const hasRoom = lineLen + pyLen(timing.word) <= maxLineWidth;
        const segBreak = i === 0 && subtitle.length > 0 && preserveSegments;
        if (lineLen > 0 && hasRoom && !longPause && !segBreak) {
          lineLen += pyLen(timing.word); // line continuation
        } else {
          timing.word = pyStrip(timing.word);
          if ((subtitle.length > 0 && maxLineCount !== undefined && (longPause || lineCount >= maxLineCount)) || segBreak) {
            yield subtitle; // subtitle break
            subtitle = [];
            lineCount = 1;
          } else if (lineLen > 0) {
            lineCount += 1; // line break
            timing.word = "\n" + timing.word;
          }
          lineLen = pyLen(pyStrip(timing.word));
        }
        subtitle.push(timing);
        last = timing.start;
      }
    }
  }
  if (subtitle.length > 0) yield subtitle;
}

/** openai's re.sub(r"^(\s*)(.*)$", r"\1<u>\2</u>", word): `.` stops at "\n", `$` may sit before a final "\n". */
function underline(word: string): string {
  const lead = pyLeadingSpace(word);
  const rest = word.slice(lead.length);
  const body = rest.endsWith("\n") ? rest.slice(0, -1) : rest;
  if (body.includes("\n")) return word;
  return `${lead}<u>${body}</u>${rest.slice(body.length)}`;
}

/** The (start, end, text) cues of openai's SubtitlesWriter.iterate_result. */
export function* subtitleCues(
  result: TranscribeResult, options: WriterOptions = {}, alwaysIncludeHours = false, decimalMarker = ".",
): Generator<[string, string, string]> {
  const ts = (s: number): string => formatTimestamp(s, alwaysIncludeHours, decimalMarker);
  const segments = result.segments;
  if (segments.length === 0 || segments[0].words === undefined) {
    for (const s of segments) yield [ts(s.start), ts(s.end), pyStrip(s.text).replaceAll("-->", "->")];
    return;
  }
  for (const subtitle of iterateSubtitles(segments, options)) {
    const subtitleStart = ts(subtitle[0].start);
    const subtitleEnd = ts(subtitle[subtitle.length - 1].end);
    const subtitleText = subtitle.map((w) => w.word).join("");
    if (!options.highlightWords) {
      yield [subtitleStart, subtitleEnd, subtitleText];
      continue;
    }
    let last = subtitleStart;
    for (let i = 0; i < subtitle.length; i++) {
      const start = ts(subtitle[i].start);
      const end = ts(subtitle[i].end);
      if (last !== start) yield [last, start, subtitleText];
      yield [start, end, subtitle.map((w, j) => (j === i ? underline(w.word) : w.word)).join("")];
      last = end;
    }
  }
}

/** The result as openai's json.dump writes it: snake_case keys in its order, Python float and string forms. */
export function resultToJson(result: TranscribeResult): string {
  const f = pyFloatRepr;
  const int = (n: number): string => (Number.isInteger(n) ? n.toString() : f(n));
  const word = (w: Word): string =>
    `{"word": ${pyJsonString(w.word)}, "start": ${f(w.start)}, "end": ${f(w.end)}, "probability": ${f(w.probability)}}`;
  const segment = (s: Segment): string =>
    `{"id": ${int(s.id)}, "seek": ${int(s.seek)}, "start": ${f(s.start)}, "end": ${f(s.end)}, ` +
    `"text": ${pyJsonString(s.text)}, "tokens": [${s.tokens.map(int).join(", ")}], "temperature": ${f(s.temperature)}, ` +
    `"avg_logprob": ${f(s.avgLogprob)}, "compression_ratio": ${f(s.compressionRatio)}, ` +
    `"no_speech_prob": ${f(s.noSpeechProb)}` +
    (s.words === undefined ? "" : `, "words": [${s.words.map(word).join(", ")}]`) + "}";
  return `{"text": ${pyJsonString(result.text)}, "segments": [${result.segments.map(segment).join(", ")}], ` +
    `"language": ${pyJsonString(result.language)}}`;
}

const FORMATTERS: Record<OutputFormat, (result: TranscribeResult, options: WriterOptions) => string> = {
  txt: (result) => result.segments.map((s) => pyStrip(s.text) + "\n").join(""),
  vtt: (result, options) => {
    let out = "WEBVTT\n\n";
    for (const [start, end, text] of subtitleCues(result, options)) out += `${start} --> ${end}\n${text}\n\n`;
    return out;
  },
  srt: (result, options) => {
    let out = "";
    let i = 1;
    for (const [start, end, text] of subtitleCues(result, options, true, ",")) out += `${i++}\n${start} --> ${end}\n${text}\n\n`;
    return out;
  },
  tsv: (result) => "start\tend\ttext\n" + result.segments
    .map((s) => `${pyRound(1000 * s.start)}\t${pyRound(1000 * s.end)}\t${pyStrip(s.text).replaceAll("\t", " ")}\n`).join(""),
  json: (result) => resultToJson(result),
};

/** The text of one output file, exactly as openai-whisper's writer for `format` writes it. */
export function formatResult(format: OutputFormat, result: TranscribeResult, options: WriterOptions = {}): string {
  const formatter = FORMATTERS[format];
  if (formatter === undefined) throw new Error(`formatResult: unknown format "${String(format)}" (expected one of ${OUTPUT_FORMATS.join(", ")})`);
  return formatter(result, options);
}

/** Writes the outputs of one transcription; resolves to the paths written. */
export type ResultWriter = (result: TranscribeResult, audioPath: string, options?: WriterOptions) => Promise<string[]>;

/**
 * A writer of `<outputDir>/<audio basename without extension>.<ext>` for `format`, or of every format for "all"
 * (openai-whisper's get_writer). Each file is written to a temporary name and renamed into place.
 */
export function getWriter(format: OutputFormat | "all", outputDir: string): ResultWriter {
  if (format !== "all" && !OUTPUT_FORMATS.includes(format)) {
    throw new Error(`getWriter: unknown format "${String(format)}" (expected one of ${OUTPUT_FORMATS.join(", ")}, all)`);
  }
  const formats: readonly OutputFormat[] = format === "all" ? OUTPUT_FORMATS : [format];
  return async (result, audioPath, options = {}) => {
    await mkdir(outputDir, { recursive: true });
    const base = parse(audioPath).name;
    const paths: string[] = [];
    for (const f of formats) {
      const path = join(outputDir, `${base}.${f}`);
      await writeAtomically(path, formatResult(f, result, options));
      paths.push(path);
    }
    return paths;
  };
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await writeFile(tmp, text, "utf8");
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
