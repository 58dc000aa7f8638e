import * as tc from "../packages/core/dist/index.js";
import { loadAudio, loadWhisper, transcribe } from "../packages/whisper/dist/index.js";
import { ensureSpeechClip } from "./_whisper_clip.js";
tc.setNumThreads(2);
const dir = "/work/wt-whisperint8/.cache/weights/openai-whisper-base";
const audio = await loadAudio(await ensureSpeechClip("/tmp/whisperint8-bench"));
for (const ct of process.argv.slice(2)) {
  const p = await loadWhisper(dir, { computeType: ct === "dec" ? "float16" : ct as any });
  if (ct === "dec") { tc.nn.quantizeGgmlModel(p.model.decoder); p.model.decoder._halfTable = undefined; }
  const t = performance.now();
  const r = await transcribe(audio, { model: p, language: "en", wordTimestamps: true, temperature: 0 });
  console.log(ct, "transcribe s", ((performance.now() - t) / 1e3).toFixed(2), r.text.length, "rss", process.resourceUsage().maxRSS >> 10);
}
