// The `lm` command run as a child process on the tiny llama fixture: generate's stdout against
// lm.generate / lm.chat, chat with piped stdin against lm.chat turn by turn, serve answering the
// openai client, and bad usage.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import OpenAI from "openai";
import { beforeAll, describe, expect, it } from "vitest";
import { loadLm } from "../src/index.js";
import type { ChatMessage, Lm } from "../src/index.js";
import { lmFixture } from "./fixtures.js";

const root = join(import.meta.dirname, "..", "..", "..");
const bin = join(root, "packages", "lm", "src", "bin.ts");
const fx = lmFixture("llama");

interface Run { code: number | null; stdout: string; stderr: string }

/** Runs `lm args...` (the TypeScript source through tsx), with `input` on stdin. */
function lm(args: string[], input = ""): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["--import", "tsx", bin, ...args], { cwd: root, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    p.stdout.setEncoding("utf8").on("data", (s: string) => { stdout += s; });
    p.stderr.setEncoding("utf8").on("data", (s: string) => { stderr += s; });
    p.on("error", reject);
    p.on("close", (code) => resolve({ code, stdout, stderr }));
    p.stdin.end(input);
  });
}

describe("the lm command", () => {
  let model: Lm;
  beforeAll(async () => { model = await loadLm(fx.dir); });

  it("generate streams lm.generate's text (through the chat template, or without it)", async () => {
    const prompt = "Tell me about the sea.";
    const chat = await model.chat([{ role: "user", content: prompt }], { maxTokens: 20 });
    const r = await lm(["generate", "--model", fx.dir, "--prompt", prompt, "--max-tokens", "20", "--temp", "0"]);
    expect(r.stderr).toMatch(/Prompt: \d+ tokens, [\d.]+ tokens-per-sec\nGeneration: 20 tokens, [\d.]+ tokens-per-sec/);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${chat.text}\n`);
    const plain = await model.generate(prompt, { maxTokens: 12 });
    const raw = await lm(["generate", "--model", fx.dir, "-p", prompt, "-m", "12", "--ignore-chat-template", "--verbose", "false"]);
    expect(raw.code).toBe(0);
    expect(raw.stdout).toBe(`${plain.text}\n`);
    expect(raw.stderr).toBe("");
  });

  it("chat with piped stdin answers one message per line, keeping the conversation", async () => {
    const lines = ["Hello there", "And what next?"];
    const messages: ChatMessage[] = [];
    let expected = "";
    for (const line of lines) {
      messages.push({ role: "user", content: line });
      const r = await model.chat(messages, { maxTokens: 10 });
      messages.push({ role: "assistant", content: r.text });
      expected += `${r.text}\n`;
    }
    const r = await lm(["chat", "--model", fx.dir, "--max_tokens", "10"], `${lines.join("\n")}\n`);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(expected);
  });

  /** Starts `lm serve --port 0 args...`; resolves to its address and a stop function (resolving to the exit code). */
  async function serve(args: string[]) {
    const p = spawn(process.execPath, ["--import", "tsx", bin, "serve", "--port", "0", ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    const address = await new Promise<string>((resolve, reject) => {
      p.stderr.setEncoding("utf8").on("data", (s: string) => {
        stderr += s;
        const m = /on (http:\/\/\S+)\/v1/.exec(stderr);
        if (m) resolve(m[1]);
      });
      p.on("close", (code) => reject(new Error(`lm serve exited (${code}): ${stderr}`)));
    });
    const exited = new Promise<number | null>((resolve) => p.on("close", resolve));
    return { address, stop: () => { p.kill("SIGTERM"); return exited; } };
  }

  it("serve answers the openai client until it is stopped", async () => {
    const { address, stop } = await serve(["--model", fx.dir, "--model-id", "tiny"]);
    try {
      const client = new OpenAI({ baseURL: `${address}/v1`, apiKey: "unused", maxRetries: 0 });
      expect((await client.models.list()).data.map((m) => m.id)).toEqual(["tiny"]);
      const r = await client.completions.create({ model: "tiny", prompt: "Hello", max_tokens: 6, temperature: 0 });
      expect(r.choices[0].text).toBe((await model.generate("Hello", { maxTokens: 6 })).text);
    } finally {
      expect(await stop()).toBe(0);
    }
  });

  it("serve on a vision-language folder takes image_url parts (through @tessera/vlm)", async () => {
    const { address, stop } = await serve(["--model", join(root, "test", "fixtures", "vlm", "llava"), "--model-id", "llava"]);
    try {
      const client = new OpenAI({ baseURL: `${address}/v1`, apiKey: "unused", maxRetries: 0 });
      const png = readFileSync(join(root, "test", "fixtures", "vlm", "images", "wide.png")).toString("base64");
      const r = await client.chat.completions.create({
        model: "llava", max_tokens: 5, temperature: 0,
        messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: `data:image/png;base64,${png}` } }, { type: "text", text: "What is this?" }] }],
      });
      expect(r.usage?.completion_tokens).toBe(5);
      expect(r.usage!.prompt_tokens).toBeGreaterThan(50); // the image's tokens are in the prompt
    } finally {
      expect(await stop()).toBe(0);
    }
  });

  it("bad usage exits with 2 and says what was wrong", async () => {
    const r = await lm(["generate", "--model", fx.dir, "--prompt", "x", "--temp", "hot"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--temp.*Expected a number/);
    const missing = await lm(["generate", "--model", fx.dir]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--prompt/);
    const nope = await lm(["generate", "--model", join(root, "no-such-model"), "-p", "x"]);
    expect(nope.code).toBe(1);
    expect(nope.stderr).toMatch(/lm: error: .*no-such-model/);
  });
});
