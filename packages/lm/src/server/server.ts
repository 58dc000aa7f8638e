// createServer: an OpenAI-compatible HTTP API (fastify) over a model: /v1/models,
// /v1/completions and /v1/chat/completions, whole or streamed as server-sent events. Generations
// run one at a time in arrival order (JobQueue); a client that goes away aborts its own.
import { randomUUID } from "node:crypto";
import Fastify from "fastify";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Lm } from "../lm.js";
import type { GenerateResult, TextChunk } from "../text.js";
import { errorBody, RequestError } from "./errors.js";
import { servedLm } from "./model.js";
import type { ServedModel } from "./model.js";
import { chatLogprobs, chatMessages, chatRequest, completionLogprobs, completionRequest, finishReason, usage } from "./openai.js";
import type { ChatBody, CompletionBody, Request } from "./openai.js";
import { JobQueue } from "./queue.js";
import { chatBodySchema, completionBodySchema } from "./schema.js";

/** Options of {@link createServer}. */
export interface ServerOptions {
  /** The id `/v1/models` lists and responses carry (default: the model's). */
  modelId?: string;
  /** Fastify's logger option (default off). */
  logger?: boolean;
  /** Largest request body in bytes (default 32 MiB, room for base64 images). */
  bodyLimit?: number;
  /** Fetch http(s) image URLs in chat messages (default: only base64 data URLs). */
  allowRemoteImages?: boolean;
}

const isLm = (m: Lm | ServedModel): m is Lm => typeof (m as Lm).createPromptCache === "function";

/** Ajv's instancePath "/messages/0/role" → OpenAI's param "messages[0].role". */
function paramOf(path: string, missing?: string): string | null {
  const parts = path.split("/").filter(Boolean);
  if (missing) parts.push(missing);
  if (!parts.length) return null;
  return parts.reduce((s, p) => (/^\d+$/.test(p) ? `${s}[${p}]` : s ? `${s}.${p}` : p), "");
}

function toRequestError(e: FastifyError): RequestError {
  if (e instanceof RequestError) return e;
  if (e.validation?.length) {
    const v = e.validation[0];
    const missing = (v.params as { missingProperty?: string }).missingProperty;
    const param = paramOf(v.instancePath, missing);
    return new RequestError(`${param ?? "body"}: ${missing ? "is required" : v.message ?? "is invalid"}`, param);
  }
  if (e.statusCode === 413) return new RequestError(e.message, null, 413);
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) return new RequestError(`Invalid request body: ${e.message}`, null, e.statusCode);
  return new RequestError(e.message, null, 500, "server_error");
}

/**
 * An OpenAI-compatible server for `model` (an Lm, or anything shaped as {@link ServedModel}).
 * Returns the fastify instance, not yet listening: `await app.listen({ port, host })`.
 */
export function createServer(model: Lm | ServedModel, opts: ServerOptions = {}): FastifyInstance {
  const served: ServedModel = isLm(model) ? servedLm(model) : model;
  const id = opts.modelId ?? served.id;
  const queue = new JobQueue();
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: opts.bodyLimit ?? 32 * 1024 * 1024,
    // close() ends idle keep-alive connections instead of waiting for their timeout.
    forceCloseConnections: "idle",
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
  });
  const created = Math.floor(Date.now() / 1000);

  app.setErrorHandler((e: FastifyError, _req, reply) => {
    const r = toRequestError(e);
    void reply.status(r.status).send(errorBody(r));
  });
  app.setNotFoundHandler((req, reply) => {
    const r = new RequestError(`Unknown request URL: ${req.method} ${req.url}`, null, 404, "invalid_request_error", "unknown_url");
    void reply.status(404).send(errorBody(r));
  });

  const modelObject = { id, object: "model", created, owned_by: "tessera" };
  app.get("/v1/models", async () => ({ object: "list", data: [modelObject] }));
  app.get("/v1/models/:id", async (req, reply) => {
    if ((req.params as { id: string }).id !== id) {
      const r = new RequestError(`The model ${JSON.stringify((req.params as { id: string }).id)} does not exist`, "model", 404, "invalid_request_error", "model_not_found");
      return reply.status(404).send(errorBody(r));
    }
    return modelObject;
  });

  /** Encodes the prompt and checks it fits the context with max_tokens; fills in the default max_tokens. */
  const prepare = (r: Request) => {
    let p: { input: unknown; promptTokens?: number };
    try {
      p = served.prepare(r.prompt);
    } catch (e) {
      throw new RequestError((e as Error).message, r.prompt.kind === "chat" ? "messages" : "prompt");
    }
    const ctx = served.contextLength;
    if (ctx !== undefined && p.promptTokens !== undefined) {
      if (p.promptTokens >= ctx)
        throw new RequestError(`The prompt is ${p.promptTokens} tokens; this model's context is ${ctx} tokens`, r.prompt.kind === "chat" ? "messages" : "prompt", 400, "invalid_request_error", "context_length_exceeded");
      if (r.maxTokens !== undefined && p.promptTokens + r.maxTokens > ctx)
        throw new RequestError(`This model's context is ${ctx} tokens; the prompt (${p.promptTokens} tokens) and max_tokens (${r.maxTokens}) ask for ${p.promptTokens + r.maxTokens}`, "max_tokens", 400, "invalid_request_error", "context_length_exceeded");
      if (r.maxTokens === undefined) r.options.maxTokens = ctx - p.promptTokens;
    }
    return p.input;
  };

  /** An AbortSignal that fires when the client goes away before the response is complete. */
  const clientGone = (req: FastifyRequest, reply: FastifyReply): AbortController => {
    const ac = new AbortController();
    const onClose = () => { if (!reply.raw.writableFinished) ac.abort(new Error("client disconnected")); };
    reply.raw.on("close", onClose);
    req.raw.on("aborted", onClose);
    return ac;
  };

  type Shape = {
    object: string;
    chunkObject: string;
    choice: (r: GenerateResult) => Record<string, unknown>;
    delta: (c: TextChunk, first: boolean, offset: number) => Record<string, unknown>;
    end: (r: GenerateResult) => Record<string, unknown>;
  };

  const answer = async (req: FastifyRequest, reply: FastifyReply, r: Request, input: unknown, prefix: string, shape: Shape) => {
    const ac = clientGone(req, reply);
    const rid = `${prefix}-${randomUUID().replaceAll("-", "")}`;
    const head = () => ({ id: rid, created: Math.floor(Date.now() / 1000), model: id });
    const options = { ...r.options, signal: ac.signal };
    if (!r.stream) {
      const result = await queue.run(async () => {
        const s = served.stream(input, options);
        for (;;) {
          const n = await s.next();
          if (n.done) return n.value;
        }
      }, ac.signal).catch((e: unknown) => { if (ac.signal.aborted) return undefined; throw e; });
      if (!result || ac.signal.aborted) return reply;
      return reply.send({ ...head(), object: shape.object, choices: [{ index: 0, ...shape.choice(result) }], usage: usage(result) });
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" });
    const send = (data: unknown) => { if (!res.writableEnded && !res.destroyed) res.write(`data: ${JSON.stringify(data)}\n\n`); };
    const extra = r.includeUsage ? { usage: null } : {};
    try {
      await queue.run(async () => {
        const s = served.stream(input, options);
        let first = true;
        let offset = 0;
        for (;;) {
          const n = await s.next();
          // Aborted (the client went away): the generation ends at its next token; write nothing more.
          if (ac.signal.aborted && !n.done) continue;
          if (n.done) {
            if (ac.signal.aborted) return;
            const result = n.value;
            send({ ...head(), object: shape.chunkObject, choices: [{ index: 0, ...shape.end(result) }], ...extra });
            if (r.includeUsage) send({ ...head(), object: shape.chunkObject, choices: [], usage: usage(result) });
            return;
          }
          if (n.value.text === "" && !n.value.logprob && !first) continue;
          send({ ...head(), object: shape.chunkObject, choices: [{ index: 0, ...shape.delta(n.value, first, offset), finish_reason: null }], ...extra });
          offset += n.value.text.length;
          first = false;
        }
      }, ac.signal);
      if (!ac.signal.aborted) res.write("data: [DONE]\n\n");
    } catch (e) {
      if (!ac.signal.aborted) {
        const err = e instanceof RequestError ? e : new RequestError((e as Error).message, null, 500, "server_error");
        send(errorBody(err));
      }
    } finally {
      res.end();
    }
    return reply;
  };

  app.post<{ Body: ChatBody }>("/v1/chat/completions", { schema: { body: chatBodySchema } }, async (req, reply) => {
    const { messages, remote } = chatMessages(req.body, { images: served.images, allowRemoteImages: opts.allowRemoteImages });
    for (const { part, url } of remote) {
      const res = await fetch(url).catch((e: Error) => { throw new RequestError(`could not fetch ${url.href}: ${e.message}`, "messages"); });
      if (!res.ok) throw new RequestError(`could not fetch ${url.href}: HTTP ${res.status}`, "messages");
      part.image = Buffer.from(await res.arrayBuffer());
    }
    if (served.checkImages) {
      const images = messages.flatMap((m) => (Array.isArray(m.content) ? m.content : []))
        .map((p) => (p.type === "image" ? (p as { image?: unknown }).image : undefined)).filter((b): b is Uint8Array => b instanceof Uint8Array);
      if (images.length) await served.checkImages(images).catch((e: Error) => { throw new RequestError(e.message, "messages"); });
    }
    const r = chatRequest(req.body, messages);
    const input = prepare(r);
    const lp = (c: { logprob?: TextChunk["logprob"] }) => (c.logprob ? { content: chatLogprobs([c.logprob]), refusal: null } : null);
    return answer(req, reply, r, input, "chatcmpl", {
      object: "chat.completion",
      chunkObject: "chat.completion.chunk",
      choice: (res) => ({
        message: { role: "assistant", content: res.text, refusal: null },
        logprobs: res.logprobs ? { content: chatLogprobs(res.logprobs), refusal: null } : null,
        finish_reason: finishReason(res.finishReason),
      }),
      delta: (c, first) => ({ delta: { ...(first ? { role: "assistant" } : {}), content: c.text }, logprobs: lp(c) }),
      end: (res) => ({ delta: {}, logprobs: null, finish_reason: finishReason(res.finishReason) }),
    });
  });

  app.post<{ Body: CompletionBody }>("/v1/completions", { schema: { body: completionBodySchema } }, async (req, reply) => {
    if (!served.completions) throw new RequestError("this model serves /v1/chat/completions only", null, 404, "invalid_request_error", "unknown_url");
    const r = completionRequest(req.body);
    const input = prepare(r);
    return answer(req, reply, r, input, "cmpl", {
      object: "text_completion",
      chunkObject: "text_completion",
      choice: (res) => ({ text: res.text, logprobs: res.logprobs ? completionLogprobs(res.logprobs) : null, finish_reason: finishReason(res.finishReason) }),
      delta: (c, _first, offset) => ({ text: c.text, logprobs: c.logprob ? completionLogprobs([c.logprob], offset) : null }),
      end: (res) => ({ text: "", logprobs: null, finish_reason: finishReason(res.finishReason) }),
    });
  });

  return app;
}
