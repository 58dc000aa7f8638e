// The OpenAI-compatible server on the tiny llama fixture, driven by the official openai client
// (unchanged) over loopback: its outputs against lm.generate / lm.chat, streaming, usage, stop,
// logprobs, JSON schema output, concurrency, a client that aborts, and the 400s.
import { Ajv } from "ajv";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, loadLm, servedLm } from "../src/index.js";
import type { ChatMessage, GenerateResult, Lm, ServedModel } from "../src/index.js";
import { lmFixture } from "./fixtures.js";

const fx = lmFixture("llama");
const ref = fx.ref as unknown as { prompt_text: string; tokens: number[]; chat: { messages: ChatMessage[]; tokens: number[]; text: string } };
const messages = ref.chat.messages as OpenAI.Chat.ChatCompletionMessageParam[];

describe("lm serve: the OpenAI API over a tiny llama", () => {
  let lm: Lm;
  let app: ReturnType<typeof createServer>;
  let client: OpenAI;
  let base: string;
  const ended: GenerateResult[] = [];
  beforeAll(async () => {
    lm = await loadLm(fx.dir);
    // The model as the server sees it, wrapped to record how each generation ended.
    const inner = servedLm(lm, "tiny-llama");
    const watched: ServedModel<number[]> = {
      ...inner,
      stream: async function* (input, opts) {
        const r = yield* inner.stream(input, opts);
        ended.push(r);
        return r;
      },
    };
    app = createServer(watched);
    base = await app.listen({ port: 0, host: "127.0.0.1" });
    client = new OpenAI({ baseURL: `${base}/v1`, apiKey: "unused", maxRetries: 0 });
  });
  afterAll(async () => { await app?.close(); });

  it("lists the model", async () => {
    const list = await client.models.list();
    expect(list.data.map((m) => m.id)).toEqual(["tiny-llama"]);
    expect((await client.models.retrieve("tiny-llama")).id).toBe("tiny-llama");
  });

  it("chat completions: greedy equals lm.chat (transformers' tokens), with usage", async () => {
    const r = await client.chat.completions.create({ model: "tiny-llama", messages, max_tokens: 20, temperature: 0 });
    expect(r.object).toBe("chat.completion");
    expect(r.choices).toHaveLength(1);
    expect(r.choices[0].message.role).toBe("assistant");
    expect(r.choices[0].message.content).toBe(ref.chat.text);
    expect(r.choices[0].finish_reason).toBe("length");
    const promptTokens = lm.encode(ref.chat.messages).length;
    expect(r.usage).toMatchObject({ prompt_tokens: promptTokens, completion_tokens: 20, total_tokens: promptTokens + 20 });
    const r2 = await client.chat.completions.create({ model: "tiny-llama", messages, max_completion_tokens: 5, temperature: 0 });
    expect(r2.usage?.completion_tokens).toBe(5);
  });

  it("chat streaming: chunks concatenate to the non-streamed text; usage in the last chunk", async () => {
    const stream = await client.chat.completions.create({ model: "tiny-llama", messages, max_tokens: 20, temperature: 0, stream: true, stream_options: { include_usage: true } });
    let text = "";
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined | null;
    let n = 0;
    for await (const c of stream) {
      n++;
      if (c.usage) usage = c.usage;
      if (c.choices.length === 0) continue;
      text += c.choices[0].delta.content ?? "";
      finish = c.choices[0].finish_reason ?? finish;
    }
    expect(n).toBeGreaterThan(5);
    expect(text).toBe(ref.chat.text);
    expect(finish).toBe("length");
    expect(usage?.completion_tokens).toBe(20);
  });

  it("completions: greedy equals lm.generate, whole and streamed", async () => {
    const expected = await lm.generate(ref.prompt_text, { maxTokens: 20 });
    const r = await client.completions.create({ model: "tiny-llama", prompt: ref.prompt_text, max_tokens: 20, temperature: 0 });
    expect(r.object).toBe("text_completion");
    expect(r.choices[0].text).toBe(expected.text);
    expect(r.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 20, total_tokens: 32 });
    const s = await client.completions.create({ model: "tiny-llama", prompt: ref.prompt_text, max_tokens: 20, temperature: 0, stream: true });
    let text = "";
    for await (const c of s) text += c.choices[0]?.text ?? "";
    expect(text).toBe(expected.text);
    // Token ids as the prompt give the same.
    const ids = await client.completions.create({ model: "tiny-llama", prompt: lm.encode(ref.prompt_text), max_tokens: 20, temperature: 0 });
    expect(ids.choices[0].text).toBe(expected.text);
  });

  it("ends at a stop string (left out), whole and streamed", async () => {
    const full = (await lm.generate(ref.prompt_text, { maxTokens: 20 })).text;
    const stop = full.slice(20, 24);
    const head = full.slice(0, full.indexOf(stop));
    const r = await client.completions.create({ model: "tiny-llama", prompt: ref.prompt_text, max_tokens: 20, temperature: 0, stop: [stop] });
    expect(r.choices[0].text).toBe(head);
    expect(r.choices[0].finish_reason).toBe("stop");
    const s = await client.completions.create({ model: "tiny-llama", prompt: ref.prompt_text, max_tokens: 20, temperature: 0, stop, stream: true });
    let text = "";
    for await (const c of s) text += c.choices[0]?.text ?? "";
    expect(text).toBe(head);
  });

  it("logprobs in OpenAI's shapes: chat content entries and completions' arrays", async () => {
    const expected = await lm.generate(ref.chat.messages, { maxTokens: 4, logprobs: 3 });
    const r = await client.chat.completions.create({ model: "tiny-llama", messages, max_tokens: 4, temperature: 0, logprobs: true, top_logprobs: 3 });
    const content = r.choices[0].logprobs!.content!;
    expect(content).toHaveLength(4);
    content.forEach((e, i) => {
      const x = expected.logprobs![i];
      expect(e.token).toBe(x.text);
      expect(e.logprob).toBeCloseTo(x.logprob, 5);
      expect(e.bytes).toEqual([...Buffer.from(x.text)]);
      expect(e.top_logprobs.map((t) => t.token)).toEqual(x.topLogprobs!.map((t) => t.text));
      expect(e.top_logprobs[0].logprob).toBeCloseTo(e.logprob, 5);
    });
    const c = await client.completions.create({ model: "tiny-llama", prompt: ref.prompt_text, max_tokens: 4, temperature: 0, logprobs: 2 });
    const lp = c.choices[0].logprobs!;
    expect(lp.tokens).toHaveLength(4);
    expect(lp.tokens!.join("")).toBe(c.choices[0].text);
    expect(lp.text_offset![0]).toBe(0);
    expect(lp.text_offset![1]).toBe(lp.tokens![0].length);
    lp.token_logprobs!.forEach((v, i) => {
      expect(v).toBeLessThanOrEqual(0);
      const tops = Object.values(lp.top_logprobs![i]);
      expect(tops.length).toBeGreaterThan(0);
      expect(Math.max(...tops)).toBeCloseTo(v, 5);
    });
    // Streamed chat logprobs come with each chunk.
    const s = await client.chat.completions.create({ model: "tiny-llama", messages, max_tokens: 4, temperature: 0, logprobs: true, stream: true });
    const tokens: string[] = [];
    for await (const ch of s) for (const e of ch.choices[0]?.logprobs?.content ?? []) tokens.push(e.token);
    expect(tokens).toEqual(expected.logprobs!.map((x) => x.text));
  });

  it("response_format json_schema (and json_object): the output parses and validates", async () => {
    const schema = {
      type: "object",
      properties: { name: { type: "string", maxLength: 12 }, age: { type: "integer" }, tags: { type: "array", items: { enum: ["a", "b"] }, maxItems: 3 } },
      required: ["name", "age", "tags"],
      additionalProperties: false,
    };
    const validate = new Ajv().compile(schema);
    for (const temperature of [0, 1]) {
      const r = await client.chat.completions.create({
        model: "tiny-llama", messages, max_tokens: 200, temperature, seed: 3,
        response_format: { type: "json_schema", json_schema: { name: "person", schema, strict: true } },
      });
      expect(r.choices[0].finish_reason).toBe("stop");
      const value: unknown = JSON.parse(r.choices[0].message.content!);
      expect(validate(value), JSON.stringify(validate.errors)).toBe(true);
    }
    const o = await client.chat.completions.create({ model: "tiny-llama", messages, max_tokens: 200, temperature: 0, response_format: { type: "json_object" } });
    const parsed: unknown = JSON.parse(o.choices[0].message.content!);
    expect(typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)).toBe(true);
  });

  it("seeded sampling repeats; OpenAI's default temperature (1) samples", async () => {
    const ask = (seed: number) => client.completions.create({ model: "tiny-llama", prompt: ref.prompt_text, max_tokens: 12, seed, top_p: 0.95, frequency_penalty: 0.5, presence_penalty: 0.2 });
    const [a, b, c] = [await ask(5), await ask(5), await ask(6)];
    expect(a.choices[0].text).toBe(b.choices[0].text);
    expect(c.choices[0].text).not.toBe(a.choices[0].text);
  });

  it("two concurrent streams give the same text as each run alone", async () => {
    const other = [{ role: "user", content: "Another question entirely?" }] as OpenAI.Chat.ChatCompletionMessageParam[];
    const alone = (await client.chat.completions.create({ model: "tiny-llama", messages: other, max_tokens: 16, temperature: 0 })).choices[0].message.content;
    const collect = async (m: OpenAI.Chat.ChatCompletionMessageParam[]) => {
      const s = await client.chat.completions.create({ model: "tiny-llama", messages: m, max_tokens: m === other ? 16 : 20, temperature: 0, stream: true });
      let t = "";
      for await (const c of s) t += c.choices[0]?.delta.content ?? "";
      return t;
    };
    const [x, y] = await Promise.all([collect(messages), collect(other)]);
    expect(x).toBe(ref.chat.text);
    expect(y).toBe(alone);
  });

  it("a client aborting mid-stream stops its generation; the next request is served", async () => {
    const before = ended.length;
    const ac = new AbortController();
    const s = await client.chat.completions.create({ model: "tiny-llama", messages, max_tokens: 200, temperature: 0, stream: true }, { signal: ac.signal });
    let chunks = 0;
    // (The openai client ends the iteration quietly when its own signal aborts.)
    await (async () => { for await (const _ of s) if (++chunks === 3) ac.abort(); })().catch(() => undefined);
    expect(chunks).toBe(3);
    const r = await client.chat.completions.create({ model: "tiny-llama", messages, max_tokens: 20, temperature: 0 });
    expect(r.choices[0].message.content).toBe(ref.chat.text);
    expect(ended.slice(before).map((e) => e.finishReason)).toEqual(["abort", "length"]);
    expect(ended[before].usage.completionTokens).toBeLessThan(200);
  });

  describe("400s with OpenAI's error body", () => {
    const bad = async (body: Record<string, unknown>, path = "/v1/chat/completions") => {
      const res = await fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      const json = await res.json() as { error: { message: string; type: string; param: string | null; code: string | null } };
      return { status: res.status, error: json.error };
    };
    const chat = { model: "tiny-llama", messages: [{ role: "user", content: "hi" }] };

    it("bad JSON", async () => {
      const res = await fetch(`${base}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: "{\"model\": " });
      expect(res.status).toBe(400);
      const { error } = await res.json() as { error: { type: string; message: string } };
      expect(error.type).toBe("invalid_request_error");
      expect(error.message).toMatch(/JSON/i);
    });

    it("fields of the wrong type, missing fields, n > 1", async () => {
      expect(await bad({ ...chat, temperature: "hot" })).toMatchObject({ status: 400, error: { type: "invalid_request_error", param: "temperature" } });
      expect(await bad({ ...chat, messages: [{ content: "no role" }] })).toMatchObject({ status: 400, error: { param: "messages[0].role" } });
      expect(await bad({ model: "tiny-llama" })).toMatchObject({ status: 400, error: { param: "messages" } });
      expect(await bad({ ...chat, n: 2 })).toMatchObject({ status: 400, error: { param: "n" } });
      expect(await bad({ model: "tiny-llama", prompt: 42 }, "/v1/completions")).toMatchObject({ status: 400, error: { param: "prompt" } });
    });

    it("invalid sampling values", async () => {
      expect(await bad({ ...chat, top_p: 1.5 })).toMatchObject({ status: 400, error: { param: "top_p" } });
      expect(await bad({ ...chat, temperature: -1 })).toMatchObject({ status: 400, error: { param: "temperature" } });
      expect(await bad({ ...chat, logit_bias: { word: 5 } })).toMatchObject({ status: 400, error: { param: "logit_bias" } });
      expect(await bad({ ...chat, top_logprobs: 2 })).toMatchObject({ status: 400, error: { param: "top_logprobs" } });
      expect(await bad({ ...chat, max_tokens: -3 })).toMatchObject({ status: 400, error: { param: "max_tokens" } });
    });

    it("prompt + max_tokens beyond the context", async () => {
      const r = await bad({ ...chat, max_tokens: 1000 });
      expect(r).toMatchObject({ status: 400, error: { param: "max_tokens", code: "context_length_exceeded" } });
      expect(r.error.message).toMatch(/256/);
      const long = await bad({ model: "tiny-llama", prompt: "word ".repeat(400) }, "/v1/completions");
      expect(long).toMatchObject({ status: 400, error: { param: "prompt", code: "context_length_exceeded" } });
    });

    it("a schema the constraint cannot express; a bad message", async () => {
      const r = await bad({ ...chat, response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "object", patternProperties: { "^a": { type: "string" } } } } } });
      expect(r).toMatchObject({ status: 400, error: { param: "response_format.json_schema.schema" } });
      expect(await bad({ ...chat, messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } }] }] }))
        .toMatchObject({ status: 400, error: { param: "messages[0].content[0]" } });
    });

    it("the openai client sees them as BadRequestError", async () => {
      await expect(client.chat.completions.create({ model: "tiny-llama", messages, top_p: 3 })).rejects.toMatchObject({ status: 400, param: "top_p", type: "invalid_request_error" });
    });
  });
});
