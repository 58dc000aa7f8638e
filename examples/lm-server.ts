// The OpenAI-compatible server: start it on a model (default: the tiny random llama fixture, whose
// text is gibberish but runs every path) and query it with the official openai client.
// Run: npx tsx examples/lm-server.ts [model folder | .gguf | repo id]
import OpenAI from "openai";
import { createServer, loadLm } from "@tessera/lm";

const model = process.argv[2] ?? "test/fixtures/lm/llama";
const lm = await loadLm(model);
const app = createServer(lm, { modelId: "local" });
const base = await app.listen({ port: 0, host: "127.0.0.1" });
console.log(`serving ${model} on ${base}/v1`);
const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: "unused" });

try {
  console.log("models:", (await client.models.list()).data.map((m) => m.id));
  if (lm.template) {
    const stream = await client.chat.completions.create({
      model: "local", messages: [{ role: "user", content: "Say hello in three words." }],
      max_tokens: 32, temperature: 0, stream: true, stream_options: { include_usage: true },
    });
    process.stdout.write("chat (streamed): ");
    for await (const c of stream) {
      process.stdout.write(c.choices[0]?.delta.content ?? "");
      if (c.usage) console.log(`\nusage: ${JSON.stringify(c.usage)}`);
    }
    const json = await client.chat.completions.create({
      model: "local", messages: [{ role: "user", content: "Describe a cat as JSON." }], max_tokens: 100, temperature: 0,
      response_format: { type: "json_schema", json_schema: { name: "cat", strict: true, schema: { type: "object", properties: { name: { type: "string", maxLength: 20 }, lives: { type: "integer" } }, required: ["name", "lives"] } } },
    });
    console.log("json_schema:", JSON.parse(json.choices[0].message.content ?? "null"));
  }
  const done = await client.completions.create({ model: "local", prompt: "The capital of France is", max_tokens: 16, temperature: 0, logprobs: 2 });
  console.log("completion:", JSON.stringify(done.choices[0].text), "finish:", done.choices[0].finish_reason);
  console.log("first token logprobs:", done.choices[0].logprobs?.top_logprobs?.[0]);
} finally {
  await app.close();
}
