// The library call: load a model (repo id in the local Hugging Face cache, folder, or .gguf file),
// stream a chat reply, then ask for JSON that follows a schema.
// Run: npx tsx examples/lm.ts <model> ["question"]   (e.g. test/fixtures/lm/llama, or a .gguf)
import { loadLm } from "@tessera/lm";

const [model, question = "Name a colour and say whether you like it."] = process.argv.slice(2);
if (!model) {
  console.error("usage: npx tsx examples/lm.ts <model folder | .gguf | repo id> [question]");
  process.exit(2);
}
const lm = await loadLm(model);
const messages = [{ role: "user", content: question }];
const plain = lm.template === undefined;

const stream = lm.stream(plain ? question : messages, { maxTokens: 64, temperature: 0.7, seed: 1 });
for (;;) {
  const r = await stream.next();
  if (r.done) {
    console.log(`\n[${r.value.finishReason}; ${r.value.usage.promptTokens} prompt + ${r.value.usage.completionTokens} generated tokens]`);
    break;
  }
  process.stdout.write(r.value.text);
}

const schema = { type: "object", properties: { colour: { type: "string", maxLength: 20 }, like: { type: "boolean" } }, required: ["colour", "like"] };
const json = await lm.generate(plain ? question : messages, { maxTokens: 64, responseFormat: { type: "json_schema", schema } });
console.log(json.finishReason === "stop" ? JSON.parse(json.text) : `(unfinished after 64 tokens) ${json.text}`);
