import * as tc from "../packages/core/dist/index.js";
tc.setNumThreads(2);
const { quant } = tc;
for (const [n, k] of [[512, 512], [2048, 512], [512, 2048], [51865, 512]]) {
  const w = tc.random.normal([n, k], { key: tc.random.key(1) }).astype("float16"); await tc.eval(w);
  const q = quant.quantizeGgml(w); await tc.eval(q);
  for (const dt of ["float16", "float32"] as const) {
    const x = tc.random.normal([1, k], { key: tc.random.key(2) }).astype(dt); await tc.eval(x);
    const time = async (f: () => tc.Tensor) => { await f().data(); const t = performance.now(); for (let i = 0; i < 50; i++) await f().data(); return ((performance.now() - t) / 50 * 1000).toFixed(0); };
    console.log(n, k, dt, "f16 matmul us", await time(() => tc.matmul(x, w.T)), "q8 us", await time(() => quant.ggufMatmul(x, q, "Q8_0")));
  }
}
