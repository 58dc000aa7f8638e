// loadLm: generate / stream / chat on the tiny fixtures against transformers' and llama.cpp's
// greedy tokens, stop strings, logprobs, seeds, JSON output, prompt caches and bad input.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { beforeAll, describe, expect, it } from "vitest";
import { fixturesDir } from "../../../test/helpers/reference.js";
import { loadLm } from "../src/index.js";
import type { ChatMessage, Lm } from "../src/index.js";
import { lmFixture } from "./fixtures.js";

interface ChatRef { messages: ChatMessage[]; tokens: number[]; text: string }

describe("loadLm on a Hugging Face folder (tiny llama)", () => {
  const fx = lmFixture("llama");
  const ref = fx.ref as unknown as { prompt_text: string; tokens: number[]; chat: ChatRef };
  let lm: Lm;
  beforeAll(async () => { lm = await loadLm(fx.dir); });

  it("generates transformers' 20 greedy tokens from text", async () => {
    const out = await lm.generate(ref.prompt_text, { maxTokens: 20 });
    expect(out.tokens).toEqual(ref.tokens);
    expect(out.text).toBe(lm.tokenizer.decode(ref.tokens, { skipSpecialTokens: true }));
    expect(out.finishReason).toBe("length");
    expect(out.usage).toEqual({ promptTokens: 12, completionTokens: 20 });
  });

  it("chats through the chat template as transformers' apply_chat_template + generate", async () => {
    const out = await lm.chat(ref.chat.messages, { maxTokens: 20 });
    expect(out.tokens).toEqual(ref.chat.tokens);
    expect(out.text).toBe(ref.chat.text);
  });

  it("streams chunks that concatenate to the result's text", async () => {
    const s = lm.stream(ref.chat.messages, { maxTokens: 20 });
    let text = "";
    let n = 0;
    for (;;) {
      const r = await s.next();
      if (r.done) {
        expect(r.value.text).toBe(text);
        expect(r.value.tokens).toEqual(ref.chat.tokens);
        break;
      }
      text += r.value.text;
      n++;
    }
    expect(n).toBeGreaterThanOrEqual(20);
  });

  it("ends at a stop string, leaving it out, in whole and streamed output", async () => {
    const full = (await lm.generate(ref.prompt_text, { maxTokens: 20 })).text;
    const stop = full.slice(20, 24);
    const head = full.slice(0, full.indexOf(stop));
    const out = await lm.generate(ref.prompt_text, { maxTokens: 20, stop: [stop, "never appears"] });
    expect(out.text).toBe(head);
    expect(out.finishReason).toBe("stop");
    expect(out.stop).toBe(stop);
    let streamed = "";
    for await (const c of lm.stream(ref.prompt_text, { maxTokens: 20, stop })) streamed += c.text;
    expect(streamed).toBe(head);
  });

  it("reports log-probabilities: the greedy token is the top one, tops sorted", async () => {
    const out = await lm.generate(ref.prompt_text, { maxTokens: 5, logprobs: 3 });
    expect(out.tokens).toEqual(ref.tokens.slice(0, 5));
    expect(out.logprobs).toHaveLength(5);
    for (const [i, lp] of out.logprobs!.entries()) {
      expect(lp.token).toBe(ref.tokens[i]);
      expect(lp.logprob).toBeLessThanOrEqual(0);
      expect(lp.topLogprobs).toHaveLength(3);
      expect(lp.topLogprobs![0].token).toBe(lp.token);
      expect(lp.topLogprobs![0].logprob).toBeCloseTo(lp.logprob, 6);
      expect(lp.topLogprobs![1].logprob).toBeLessThanOrEqual(lp.topLogprobs![0].logprob);
      expect(lp.text).toBe(lm.tokenizer.decode([lp.token]));
    }
  });

  it("repeats a seeded sampled run, and other seeds differ", async () => {
    const opts = { maxTokens: 16, temperature: 1, topP: 0.95, seed: 7 };
    const a = await lm.generate(ref.prompt_text, opts);
    const b = await lm.generate(ref.prompt_text, opts);
    expect(b.tokens).toEqual(a.tokens);
    const others = await Promise.all([1, 2, 3].map((seed) => lm.generate(ref.prompt_text, { ...opts, seed })));
    expect(others.some((o) => o.tokens.join() !== a.tokens.join())).toBe(true);
  });

  it("gives JSON that validates against the schema under random sampling", async () => {
    const schema = {
      type: "object",
      properties: { ok: { type: "boolean" }, color: { enum: ["red", "green", "blue"] }, tag: { type: "string", maxLength: 4 } },
      required: ["ok", "color", "tag"],
      additionalProperties: false,
    };
    const validate = new Ajv({ strict: false }).compile(schema);
    let finished = 0;
    for (let seed = 0; seed < 6; seed++) {
      const out = await lm.generate(ref.prompt_text, { maxTokens: 120, temperature: 1, seed, responseFormat: { type: "json_schema", schema } });
      if (out.finishReason !== "stop") continue;
      finished++;
      const value: unknown = JSON.parse(out.text);
      expect(validate(value), out.text).toBe(true);
    }
    expect(finished).toBeGreaterThanOrEqual(4);
  });

  it("stops when onToken returns false or the signal aborts", async () => {
    const three = await lm.generate(ref.prompt_text, { maxTokens: 20, onToken: () => undefined });
    expect(three.tokens).toHaveLength(20);
    let n = 0;
    const stopped = await lm.generate(ref.prompt_text, { maxTokens: 20, onToken: () => ++n < 3 });
    expect(stopped.tokens).toEqual(ref.tokens.slice(0, 3));
    expect(stopped.finishReason).toBe("stop");
    const ac = new AbortController();
    let m = 0;
    const aborted = await lm.generate(ref.prompt_text, { maxTokens: 20, signal: ac.signal, onToken: () => { if (++m === 4) ac.abort(); } });
    expect(aborted.finishReason).toBe("abort");
    expect(aborted.tokens).toEqual(ref.tokens.slice(0, 4));
  });

  it("stops generating when a stream's consumer breaks off, and keeps working", async () => {
    let produced = 0;
    for await (const _ of lm.stream(ref.prompt_text, { maxTokens: 200, onToken: () => { produced++; } })) break;
    expect(produced).toBeLessThan(10);
    const out = await lm.generate(ref.prompt_text, { maxTokens: 20 });
    expect(out.tokens).toEqual(ref.tokens);
  });

  it("refuses bad options and prompts with clear errors", async () => {
    const p = ref.prompt_text;
    await expect(lm.generate(p, { maxTokens: -1 })).rejects.toThrow(/maxTokens must be a non-negative integer/);
    await expect(lm.generate(p, { stop: [""] })).rejects.toThrow(/stop must be/);
    await expect(lm.generate(p, { logprobs: 50 })).rejects.toThrow(/logprobs must be/);
    await expect(lm.generate(p, { temperature: -1 })).rejects.toThrow(/temperature/);
    await expect(lm.generate(p, { topP: 2 })).rejects.toThrow(/topP/);
    await expect(lm.generate(p, { responseFormat: { type: "xml" } as never })).rejects.toThrow(/responseFormat.type/);
    await expect(lm.generate(p, { responseFormat: { type: "json_schema", schema: { type: "object", patternProperties: { a: {} } } } })).rejects.toThrow(/patternProperties/);
    await expect(lm.generate("")).rejects.toThrow(/prompt is empty/);
    await expect(lm.generate(42 as never)).rejects.toThrow(/must be a string, an array of chat messages or an array of token ids/);
    await expect(lm.chat([{ content: "no role" } as never])).rejects.toThrow(/role/);
    const long = Array.from({ length: lm.contextLength! }, () => 5);
    await expect(lm.generate(long)).rejects.toThrow(/does not fit the model's context/);
    await expect(loadLm(join(fx.dir, "nope"))).rejects.toThrow(/nope/);
  });
});

describe("prompt caches across chat turns", () => {
  it.each(["llama", "gemma3_text"])("%s: each turn gives the same tokens as without a cache, reusing the shared prefix", async (name) => {
    const fx = lmFixture(name);
    const lm = await loadLm(fx.dir);
    const chat = (fx.ref as unknown as { chat: ChatRef }).chat;
    const cache = lm.createPromptCache();
    const messages: ChatMessage[] = [chat.messages[0]];
    for (const question of ["What does the fox say?", "And the dog?", "Why?"]) {
      const plain = await lm.chat(messages, { maxTokens: 8 });
      const cached = await lm.chat(messages, { maxTokens: 8, promptCache: cache });
      expect(cached.tokens).toEqual(plain.tokens);
      expect(cached.text).toBe(plain.text);
      messages.push({ role: "assistant", content: cached.text }, { role: "user", content: question });
    }
    const last = await lm.chat(messages, { maxTokens: 8, promptCache: cache });
    expect(last.tokens).toEqual((await lm.chat(messages, { maxTokens: 8 })).tokens);
    // The full-attention llama backs up and reuses the shared prefix; gemma3's 6-token sliding window has wrapped, so it prefills anew.
    if (name === "llama") expect(last.usage.cachedTokens).toBeGreaterThan(20);
    cache.dispose();
  });

  it("refuses a cache of another model, and two generations on one cache", async () => {
    const a = await loadLm(lmFixture("llama").dir);
    const b = await loadLm(lmFixture("qwen2").dir).catch(() => loadLm(lmFixture("llama").dir));
    const cache = a.createPromptCache();
    await expect(b.generate([1, 2, 3], { maxTokens: 1, promptCache: cache })).rejects.toThrow(/another model/);
    const first = a.generate([5, 6, 7], { maxTokens: 4, promptCache: cache });
    await expect(a.generate([5, 6, 7], { maxTokens: 4, promptCache: cache })).rejects.toThrow(/another generation is using this cache/);
    await first;
  });
});

describe("loadLm on GGUF files", () => {
  const gguf = join(fixturesDir, "lm", "gguf");
  const ref = JSON.parse(readFileSync(join(gguf, "reference.json"), "utf8")) as { files: Record<string, { prompt: number[]; tokens: number[] }> };
  it.each(["llama-Q8_0.gguf", "qwen3-Q4_K_M.gguf"])("%s: llama.cpp's greedy tokens", async (file) => {
    const lm = await loadLm(join(gguf, file));
    const r = ref.files[file.replace(/\.gguf$/, "")] ?? ref.files[file];
    const out = await lm.generate(r.prompt, { maxTokens: r.tokens.length });
    expect(out.tokens).toEqual(r.tokens.slice(0, out.tokens.length));
    expect(out.tokens.length === r.tokens.length || out.finishReason === "stop").toBe(true);
  });
});
