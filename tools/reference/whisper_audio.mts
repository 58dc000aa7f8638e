// Writes the samples @tessera/whisper's loadAudio decodes (mono float32, 16 kHz) to a raw file, so
// the Python references run openai-whisper on exactly the samples the TS tests use.
//   npx tsx tools/reference/whisper_audio.mts <audio file> <out.f32>
import { writeFileSync } from "node:fs";
import { loadAudio } from "../../packages/whisper/src/audio.js";

const [input, output] = process.argv.slice(2);
const s = await loadAudio(input);
writeFileSync(output, Buffer.from(s.buffer, s.byteOffset, s.byteLength));
