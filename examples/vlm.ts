// Answers a question about images with a LLaVA or Gemma 3 folder, streaming the reply.
//   npx tsx examples/vlm.ts <model folder> <image> [<image> ...] -- "What is in this image?"
// (The repository's tiny random-weight fixture runs too: test/fixtures/vlm/gemma3 with test/fixtures/vlm/images/wide.png.)
import { loadVlm } from "@tessera/vlm";

const args = process.argv.slice(2);
const sep = args.indexOf("--");
if (args.length < 2 || sep < 2) {
  console.error('usage: tsx examples/vlm.ts <model folder> <image> [<image> ...] -- "prompt"');
  process.exit(1);
}
const [model, ...images] = args.slice(0, sep);
const prompt = args.slice(sep + 1).join(" ") || "Describe this image.";
const vlm = await loadVlm(model);
const start = performance.now();
const stream = vlm.stream(images, prompt, { maxTokens: 100 });
let r = await stream.next();
while (!r.done) {
  process.stdout.write(r.value.text);
  r = await stream.next();
}
const s = (performance.now() - start) / 1000;
console.log(`\n[${r.value.finishReason}: ${r.value.usage.promptTokens} prompt tokens (images included), ${r.value.usage.completionTokens} generated in ${s.toFixed(2)} s]`);
