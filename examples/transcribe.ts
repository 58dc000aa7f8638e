// Transcribe a file with word timestamps and print every word with its time span.
// Run: npx tsx examples/transcribe.ts [audio] [model]
// (defaults: the 5-second JFK clip in the test fixtures, and "tiny", downloaded once into the Hugging Face cache)
import { formatTimestamp, loadWhisper, transcribe } from "@tessera/whisper";

const [audio = "test/fixtures/whisper/audio/jfk_5s_16k.flac", modelName = "tiny"] = process.argv.slice(2);

// Load once, reuse for every file: an openai-whisper name ("tiny", "base.en", "large-v3-turbo"...),
// a repo id ("openai/whisper-small"), a local folder or a whisper.cpp .bin.
const model = await loadWhisper(modelName);
const result = await transcribe(audio, { model, wordTimestamps: true });

console.log(`language: ${result.language}`);
for (const segment of result.segments) {
  console.log(`[${formatTimestamp(segment.start)} --> ${formatTimestamp(segment.end)}]${segment.text}`);
  for (const w of segment.words ?? []) {
    console.log(`  ${w.start.toFixed(2).padStart(7)}s ${w.end.toFixed(2).padStart(7)}s  p=${w.probability.toFixed(2)}  ${w.word.trim()}`);
  }
}
