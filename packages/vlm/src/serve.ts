// A Vlm as @tessera/lm's server sees it (ServedModel): chat messages whose image parts
// ({ type: "image", image: Buffer }, from OpenAI's image_url data URLs) go to the vision encoder.
import { ChatTemplate, validateMessages } from "@tessera/lm";
import type { ChatMessage, ServedModel } from "@tessera/lm";
import { readImage } from "./processors/image.js";
import type { ImageInput } from "./processors/image.js";
import type { Vlm } from "./vlm.js";

/** What a served VLM request becomes: its images in order and the rendered prompt. */
export interface VlmServedInput {
  images: ImageInput[];
  text: string;
}

/** Serves a {@link Vlm} with `createServer` from @tessera/lm: chat only, images allowed. */
export function servedVlm(vlm: Vlm, id: string = vlm.folder): ServedModel<VlmServedInput> {
  const source = vlm.tokenizer.chatTemplate;
  const template = source !== undefined ? ChatTemplate.fromTokenizer(vlm.tokenizer, source) : undefined;
  return {
    id,
    contextLength: vlm.model.language.contextLength,
    completions: false,
    images: true,
    tokenizer: vlm.tokenizer,
    // Decoding each image once up front turns an unreadable one into a 400, not a failed generation.
    checkImages: async (images) => {
      for (const [i, image] of images.entries()) {
        try {
          await readImage(image);
        } catch (e) {
          throw new Error(`image ${i + 1} of the request: ${(e as Error).message}`);
        }
      }
    },
    prepare: (p) => {
      if (p.kind !== "chat") throw new Error("a vision-language model serves chat completions only");
      if (!template) throw new Error(`${vlm.folder} has no chat template`);
      validateMessages(p.messages);
      const images: ImageInput[] = [];
      const take = (image: unknown) => {
        // Bytes only: a string would be a path on the server's disk.
        if (!(image instanceof Uint8Array)) throw new Error("an image part must carry the image's bytes");
        images.push(image);
        return { type: "image" };
      };
      const plain: ChatMessage[] = p.messages.map((m) => (Array.isArray(m.content)
        ? { ...m, content: m.content.map((part) => (part.type === "image" ? take((part as { image?: unknown }).image) : part)) }
        : m));
      // The prompt's length depends on the images' sizes: the context check is left to generation.
      return { input: { images, text: template.render(plain, { addGenerationPrompt: true }) } };
    },
    stream: (input, opts) => vlm.stream(input.images, input.text, { ...opts, chat: false }),
  };
}
