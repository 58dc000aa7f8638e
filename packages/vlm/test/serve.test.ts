// A VLM behind @tessera/lm's OpenAI-compatible server, driven by the openai client: image_url
// parts as base64 data URLs give vlm.chat's reply for the same image bytes, streamed or not;
// remote URLs are refused unless allowed; completions are not served.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer } from "@tessera/lm";
import { loadVlm, servedVlm } from "@tessera/vlm";
import type { Vlm } from "@tessera/vlm";
import { fixturesDir } from "../../../test/helpers/reference.js";

describe("serving a VLM (tiny llava) with the openai client", () => {
  const dir = join(fixturesDir, "vlm", "llava");
  const png = readFileSync(join(fixturesDir, "vlm", "images", "wide.png"));
  const url = `data:image/png;base64,${png.toString("base64")}`;
  let vlm: Vlm;
  let app: ReturnType<typeof createServer>;
  let client: OpenAI;
  beforeAll(async () => {
    vlm = await loadVlm(dir, { dtype: "float32" });
    app = createServer(servedVlm(vlm, "tiny-llava"));
    client = new OpenAI({ baseURL: `${await app.listen({ port: 0, host: "127.0.0.1" })}/v1`, apiKey: "unused", maxRetries: 0 });
  });
  afterAll(async () => { await app?.close(); });

  it("an image_url data URL gives vlm.chat's greedy reply, whole and streamed", async () => {
    const q = "What is in this image?";
    const expected = await vlm.chat([{ role: "user", content: [{ type: "image", image: png }, { type: "text", text: q }] }], { maxTokens: 10 });
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: "user", content: [{ type: "image_url", image_url: { url } }, { type: "text", text: q }] }];
    const r = await client.chat.completions.create({ model: "tiny-llava", messages, max_tokens: 10, temperature: 0 });
    expect(r.choices[0].message.content).toBe(expected.text);
    expect(r.usage).toMatchObject({ prompt_tokens: expected.usage.promptTokens, completion_tokens: 10 });
    const s = await client.chat.completions.create({ model: "tiny-llava", messages, max_tokens: 10, temperature: 0, stream: true });
    let text = "";
    for await (const c of s) text += c.choices[0]?.delta.content ?? "";
    expect(text).toBe(expected.text);
  });

  it("answers an unreadable image with a 400 naming it, and keeps serving", async () => {
    const broken = `data:image/png;base64,${png.subarray(0, 40).toString("base64")}`;
    await expect(client.chat.completions.create({
      model: "m", max_tokens: 4,
      messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: broken } }, { type: "text", text: "hi" }] }],
    })).rejects.toMatchObject({ status: 400, param: "messages", message: expect.stringMatching(/image 1 of the request/) });
    const ok = await client.chat.completions.create({ model: "m", max_tokens: 4, messages: [{ role: "user", content: [{ type: "image_url", image_url: { url } }, { type: "text", text: "hi" }] }] });
    expect(ok.choices[0].finish_reason).toBeDefined();
  });

  it("refuses remote image URLs by default, and completions", async () => {
    await expect(client.chat.completions.create({
      model: "tiny-llava", max_tokens: 4,
      messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "http://127.0.0.1:9/x.png" } }, { type: "text", text: "hi" }] }],
    })).rejects.toMatchObject({ status: 400, param: "messages[0].content[0].image_url", message: expect.stringMatching(/allow-remote-images/) });
    await expect(client.completions.create({ model: "tiny-llava", prompt: "hi", max_tokens: 4 })).rejects.toMatchObject({ status: 404 });
  });
});
