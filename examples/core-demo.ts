// A tour of @tessera/core: build a small transformer block from random weights, run it lazily,
// compile its MLP, and show memory and speed. Run: npx pnpm@12.4.2 demo
import * as tc from "@tessera/core";

const { fast, nn, random } = tc;
const dims = 256, heads = 8, seq = 128;

class Block extends nn.Module {
  attention_norm = new nn.RMSNorm(dims);
  wqkv = new nn.Linear(dims, 3 * dims, false);
  wo = new nn.Linear(dims, dims, false);
  ffn_norm = new nn.RMSNorm(dims);
  w1 = new nn.Linear(dims, 4 * dims, false);
  w2 = new nn.Linear(4 * dims, dims, false);

  forward(x: tc.Tensor): tc.Tensor {
    const [b, l] = x.shape;
    const qkv = this.wqkv.forward(this.attention_norm.forward(x));
    const [q, k, v] = tc.split(qkv, 3, -1).map((t) => tc.swapaxes(t.reshape(b, l, heads, dims / heads), 1, 2));
    const rq = fast.rope(q, dims / heads, { traditional: false, base: 10000 });
    const rk = fast.rope(k, dims / heads, { traditional: false, base: 10000 });
    const attn = fast.scaledDotProductAttention(rq, rk, v, { mask: "causal" }) as tc.Tensor;
    const h = tc.add(x, this.wo.forward(tc.swapaxes(attn, 1, 2).reshape(b, l, dims)));
    return tc.add(h, this.w2.forward(tc.gelu(this.w1.forward(this.ffn_norm.forward(h)), "tanh")));
  }
}

random.seed(0);
const block = new Block();
const x = random.normal([1, seq, dims]);
console.log(`block parameters: ${Object.keys(block.namedParameters()).length} tensors`);

let t0 = performance.now();
const y = block.forward(x); // builds the graph only
const built = performance.now() - t0;
t0 = performance.now();
let ticks = 0;
const timer = setInterval(() => ticks++, 1);
await tc.eval(y); // computes on a worker thread while the event loop keeps ticking
clearInterval(timer);
console.log(`graph built in ${built.toFixed(2)} ms, evaluated in ${(performance.now() - t0).toFixed(1)} ms (${ticks} timer ticks meanwhile)`);
console.log(`output ${y.toString()}, mean ${tc.mean(y).item().toFixed(5)}, std ${Math.sqrt(tc.var(y).item()).toFixed(5)}`);

// compile fuses the elementwise chain of a tanh-GELU into one pass over memory.
const geluChain = (a: tc.Tensor) =>
  tc.multiply(tc.multiply(a, 0.5), tc.add(1, tc.tanh(tc.multiply(0.7978845608, tc.add(a, tc.multiply(0.044715, tc.power(a, 3)))))));
const compiled = tc.compile(geluChain);
const big = random.normal([4 << 20]);
tc.evalSync(big);
for (const [name, f] of [["eager", geluChain], ["compiled", compiled]] as const) {
  t0 = performance.now();
  for (let i = 0; i < 5; i++) tc.tidy(() => tc.evalSync(f(big)));
  console.log(`tanh-GELU over 4M floats, ${name}: ${((performance.now() - t0) / 5).toFixed(2)} ms`);
}
const diff = tc.tidy(() => tc.max(tc.abs(tc.subtract(compiled(big), geluChain(big)))).item());
console.log(`compiled equals eager: max |diff| = ${diff}`);

const a = random.normal([1024, 1024]), b = random.normal([1024, 1024]);
tc.evalSync(a, b);
t0 = performance.now();
tc.tidy(() => tc.evalSync(tc.matmul(a, b)));
const ms = performance.now() - t0;
console.log(`1024² float32 matmul: ${ms.toFixed(1)} ms = ${((2 * 1024 ** 3) / ms / 1e6).toFixed(1)} GFLOP/s on ${tc.numThreads()} threads`);

const s = tc.memory.stats();
console.log(`memory: active ${(s.active / 2 ** 20).toFixed(1)} MiB, peak ${(s.peak / 2 ** 20).toFixed(1)} MiB, cache ${(s.cache / 2 ** 20).toFixed(1)} MiB`);
