// JSON schemas of the request bodies (checked by fastify's Ajv before a handler runs). Fields
// OpenAI defines are type-checked; unknown fields are ignored, as OpenAI-compatible servers do.

const nullable = (s: Record<string, unknown>) => ({ anyOf: [s, { type: "null" }] });
const num = (minimum: number, maximum?: number) => nullable({ type: "number", minimum, ...(maximum !== undefined ? { maximum } : {}) });
const int = (minimum: number, maximum?: number) => nullable({ type: "integer", minimum, ...(maximum !== undefined ? { maximum } : {}) });

const sampling = {
  model: { type: "string" },
  max_tokens: int(0),
  temperature: num(0, 2),
  top_p: num(0, 1),
  top_k: int(0),
  min_p: num(0, 1),
  repetition_penalty: nullable({ type: "number", exclusiveMinimum: 0 }),
  frequency_penalty: num(-2, 2),
  presence_penalty: num(-2, 2),
  seed: nullable({ type: "integer" }),
  logit_bias: nullable({ type: "object", additionalProperties: { type: "number", minimum: -100, maximum: 100 } }),
  stop: nullable({ anyOf: [{ type: "string" }, { type: "array", items: { type: "string" }, maxItems: 4 }] }),
  stream: nullable({ type: "boolean" }),
  stream_options: nullable({ type: "object", properties: { include_usage: { type: "boolean" } } }),
  n: int(1),
  user: { type: "string" },
  response_format: nullable({
    type: "object",
    required: ["type"],
    properties: {
      type: { enum: ["text", "json_object", "json_schema"] },
      json_schema: {
        type: "object",
        required: ["name"],
        properties: { name: { type: "string" }, description: { type: "string" }, schema: { type: "object" }, strict: nullable({ type: "boolean" }) },
      },
    },
  }),
} as const;

const part = {
  type: "object",
  required: ["type"],
  properties: {
    type: { type: "string" },
    text: { type: "string" },
    image_url: { anyOf: [{ type: "string" }, { type: "object", required: ["url"], properties: { url: { type: "string" } } }] },
  },
};

/** POST /v1/chat/completions. */
export const chatBodySchema = {
  type: "object",
  required: ["model", "messages"],
  properties: {
    ...sampling,
    messages: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        required: ["role"],
        properties: {
          role: { type: "string" },
          content: nullable({ anyOf: [{ type: "string" }, { type: "array", items: part }] }),
          name: { type: "string" },
        },
      },
    },
    max_completion_tokens: int(0),
    logprobs: nullable({ type: "boolean" }),
    top_logprobs: int(0, 20),
  },
} as const;

/** POST /v1/completions. */
export const completionBodySchema = {
  type: "object",
  required: ["model", "prompt"],
  properties: {
    ...sampling,
    prompt: {
      anyOf: [
        { type: "string", minLength: 1 },
        { type: "array", minItems: 1, items: { type: "string", minLength: 1 } },
        { type: "array", minItems: 1, items: { type: "integer", minimum: 0 } },
      ],
    },
    logprobs: int(0, 20),
    echo: nullable({ type: "boolean" }),
    best_of: int(1),
    suffix: nullable({ type: "string" }),
  },
} as const;
