// loadVlm end to end on the tiny fixtures: prompts with image placeholders tokenize to
// transformers' processor ids, the chat template renders them, and generate / stream / chat give
// lm.generate's result shape with the tokens generateWithImages gives for the same inputs.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expandImages, generateWithImages, loadVlm, preprocessImages, promptImages } from "@tessera/vlm";
import { fixturesDir } from "../../../test/helpers/reference.js";

interface Case { prompt_text: string; images: string[]; prompt: number[]; tokens: number[] }

for (const name of ["llava", "gemma3"]) {
  describe(`loadVlm: ${name}`, async () => {
    const dir = join(fixturesDir, "vlm", name);
    const ref = JSON.parse(readFileSync(join(dir, "reference.json"), "utf8")) as { cases: Record<string, Case> };
    const vlm = await loadVlm(dir, { dtype: "float32" });
    const img = (f: string) => join(fixturesDir, "vlm", "images", f);

    it("expands image placeholders to the processor's prompt ids", () => {
      const marks = promptImages(vlm.model, vlm.config, vlm.tokenizer);
      for (const c of Object.values(ref.cases))
        expect(vlm.tokenizer.encode(expandImages(c.prompt_text, marks, c.images.length))).toEqual(c.prompt);
      expect(() => expandImages(ref.cases.one.prompt_text, marks, 2)).toThrow(/1 image placeholder\(s\) .* for 2 image/);
    });

    it("generate, stream and chat", async () => {
      const c = ref.cases.two;
      const images = c.images.map(img);
      const pixels = await preprocessImages(vlm.processor, images);
      const direct = await generateWithImages(vlm.model, c.prompt, { pixels }, { maxTokens: 12 });
      const out = await vlm.generate(images, c.prompt_text, { maxTokens: 12 });
      expect(out.tokens).toEqual(direct.tokens);
      expect(out.finishReason).toBe("length");
      expect(out.usage).toEqual({ promptTokens: c.prompt.length, completionTokens: 12 });
      expect(out.text).toBe(vlm.tokenizer.decode(out.tokens.filter((t) => t < vlm.tokenizer.vocabSize), { skipSpecialTokens: true }));
      let streamed = "";
      const tokens: number[] = [];
      for await (const chunk of vlm.stream(images, c.prompt_text, { maxTokens: 12 })) { streamed += chunk.text; tokens.push(chunk.token); }
      expect(tokens).toEqual(out.tokens);
      expect(streamed).toBe(out.text);
      // A plain question goes through the chat template, which writes the placeholders.
      const q = name === "llava" ? "Compare these two images." : "Compare these two images.";
      const viaTemplate = await vlm.generate(images, q, { maxTokens: 12 });
      const viaChat = await vlm.chat([{ role: "user", content: [{ type: "image", image: images[0] }, { type: "image", image: images[1] }, { type: "text", text: q }] }], { maxTokens: 12 });
      expect(viaChat.tokens).toEqual(viaTemplate.tokens);
      const sampled = await vlm.generate(images, q, { maxTokens: 6, temperature: 0.8, seed: 3 });
      expect((await vlm.generate(images, q, { maxTokens: 6, temperature: 0.8, seed: 3 })).tokens).toEqual(sampled.tokens);
      await expect(vlm.generate([], c.prompt_text)).rejects.toThrow(/placeholder/);
    });
  });
}
