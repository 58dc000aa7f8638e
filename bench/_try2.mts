import * as tc from "../packages/core/dist/index.js";
import { loadWhisper } from "../packages/whisper/dist/index.js";
tc.setNumThreads(2);
const dir = "/work/wt-whisperint8/.cache/weights/openai-whisper-base";
for (const ct of process.argv.slice(2)) {
  const p = await loadWhisper(dir, { computeType: ct as any });
  const mel = tc.random.normal([1, 3000, 80], { key: tc.random.key(1) });
  let feats = p.model.embedAudio(mel); await tc.eval(feats);
  let t = performance.now();
  for (let i = 0; i < 2; i++) { feats = p.model.embedAudio(mel); await tc.eval(feats); }
  const enc = (performance.now() - t) / 2;
  const cache = p.model.newCache();
  let r = p.model.decode([[50258, 50259, 50359, 50364]], feats, { cache }); await tc.eval(r.logits);
  t = performance.now();
  for (let i = 0; i < 60; i++) { r = p.model.decode([[440 + i]], feats, { cache }); await r.logits.data(); }
  console.log(ct, "encoder ms", enc.toFixed(0), "step ms", ((performance.now() - t) / 60).toFixed(2));
}
