// OpenAI-style error bodies: { error: { message, type, param, code } }.

/** A request the server refuses, with the HTTP status and OpenAI's error fields. */
export class RequestError extends Error {
  constructor(message: string, readonly param: string | null = null, readonly status = 400,
    readonly type = "invalid_request_error", readonly code: string | null = null) {
    super(message);
  }
}

/** The body OpenAI's API sends with an error status. */
export function errorBody(e: RequestError): { error: { message: string; type: string; param: string | null; code: string | null } } {
  return { error: { message: e.message, type: e.type, param: e.param, code: e.code } };
}
