// node-llama-cpp (pinned in bench/peers/node/package.json) on a GGUF for bench/lm.ts: one round of
// prefill (the prompt's tokens evaluated in one batch) and greedy decode, printed as one JSON line.
// Run: node bench/peers/node_llama_cpp.mjs <model.gguf> <threads> <prefillTokens> <decodeTokens>
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const [path, threads, prefill, decode] = [process.argv[2], ...process.argv.slice(3).map(Number)];
const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), "node", "package.json"));
const { getLlama, LlamaLogLevel } = await import(require.resolve("node-llama-cpp"));
const llama = await getLlama({ gpu: false, maxThreads: threads, logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath: path });
const context = await model.createContext({ contextSize: 1024, batchSize: 512, threads: { ideal: threads, min: threads }, sequences: 1 });
const seq = context.getSequence();
const prompt = Array.from({ length: prefill }, (_, i) => 1000 + ((i * 7919) % 50000));
let t0 = performance.now();
await seq.evaluateWithoutGeneratingNewTokens(prompt);
const prefillS = (performance.now() - t0) / 1e3;
await seq.clearHistory();
// Greedy decode after a 3-token prompt: the first token (prompt pass) is not timed.
let n = 0;
let first = 0;
t0 = performance.now();
for await (const _ of seq.evaluate([2, 100, 200], { temperature: 0 })) {
  if (n === 0) first = performance.now();
  if (++n > decode) break;
}
const decodeS = (performance.now() - first) / 1e3;
console.log(JSON.stringify({ prefill: prefill / prefillS, decode: decode / decodeS }));
await context.dispose();
await model.dispose();
await llama.dispose();
