// Hub failures as Errors that say what went wrong and what to do about it.
import { HubApiError } from "@huggingface/hub";

/** What kind of Hub failure a HubError is. */
export type HubErrorCode =
  | "RepoNotFound" // 404, or 401 without a token: the id is wrong or the repo is private
  | "RevisionNotFound"
  | "EntryNotFound" // the repo has no such file
  | "Unauthorized" // 401 with a token: the token is invalid
  | "Forbidden" // 403: gated repo whose terms were not accepted, or a token without access
  | "Network" // the Hub could not be reached
  | "NotCached" // offline and the files are not in the cache
  | "Interrupted" // a download stopped part-way; the partial file is kept for the next call
  | "Integrity" // size or sha256 differs from what the Hub announced
  | "Http"; // any other unexpected HTTP status

/** An Error from resolving or downloading a model from the Hugging Face Hub. */
export class HubError extends Error {
  constructor(
    readonly code: HubErrorCode,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "HubError";
  }
}

/** What the failing request was about, for the message. */
export interface RequestSubject {
  repo: string;
  endpoint: string;
  revision: string;
  file?: string;
  hasToken: boolean;
}

const TOKEN_HINT = "set HF_TOKEN (or run `huggingface-cli login`, or pass the token option)";
const OFFLINE_HINT = "set HF_HUB_OFFLINE=1 (or pass offline: true) to use only files already in the cache";

/** Turns an HTTP error status (with the Hub's X-Error-Code header, if any) into a HubError. */
export function httpError(status: number, errorCode: string | null, s: RequestSubject, detail = ""): HubError {
  const what = s.file ? `'${s.file}' in '${s.repo}'` : `'${s.repo}'`;
  const where = `${s.endpoint}/${s.repo}`;
  const tail = detail ? ` (server said: ${detail})` : "";
  if (errorCode === "GatedRepo" || (status === 403 && s.hasToken)) {
    return new HubError(
      "Forbidden",
      `Access to ${what} is restricted (HTTP ${status}): the repo is gated or your token lacks access. ` +
        `Accept its terms at ${where} and use a token of that account: ${TOKEN_HINT}.${tail}`,
      status,
    );
  }
  if (errorCode === "EntryNotFound" || (status === 404 && s.file && errorCode !== "RepoNotFound")) {
    if (errorCode !== "RevisionNotFound") {
      return new HubError(
        "EntryNotFound",
        `File '${s.file ?? "?"}' does not exist in '${s.repo}' at revision '${s.revision}' (HTTP ${status}). ` +
          `Check the file name and revision against ${where}/tree/${s.revision}.${tail}`,
        status,
      );
    }
  }
  if (errorCode === "RevisionNotFound") {
    return new HubError(
      "RevisionNotFound",
      `Revision '${s.revision}' does not exist in '${s.repo}' (HTTP ${status}). Pass an existing branch, tag or commit hash as revision.${tail}`,
      status,
    );
  }
  if (status === 401 && s.hasToken) {
    return new HubError(
      "Unauthorized",
      `The Hub rejected your token for '${s.repo}' (HTTP 401): it is invalid or expired, or the repo is private to another account. ` +
        `Create a new token at ${s.endpoint}/settings/tokens and ${TOKEN_HINT}.${tail}`,
      status,
    );
  }
  if (status === 401 || status === 404 || status === 403) {
    const auth = s.hasToken ? "" : ` If it is private or gated, ${TOKEN_HINT}.`;
    return new HubError(
      "RepoNotFound",
      `Repository '${s.repo}' was not found on ${s.endpoint} (HTTP ${status}). Check the id (owner/name, as in the repo's URL).${auth}${tail}`,
      status,
    );
  }
  return new HubError("Http", `The Hub answered HTTP ${status} for ${what} at ${s.endpoint}.${tail}`, status);
}

/**
 * Maps a @huggingface/hub API error to a HubError (`errorCode`: the response's X-Error-Code, which the
 * client does not keep); errors without an HTTP answer become network errors.
 */
export function fromHubApiError(err: unknown, s: RequestSubject, errorCode: string | null): HubError {
  if (err instanceof HubApiError) {
    const data = err.data as { error?: unknown } | undefined;
    const detail = typeof data?.error === "string" ? data.error : "";
    return httpError(err.statusCode, errorCode, { ...s, file: undefined }, detail);
  }
  return networkError(err, s);
}

function errorChainCodes(err: unknown): string[] {
  const codes: string[] = [];
  for (let e = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") codes.push(code);
    e = (e as { cause?: unknown }).cause;
  }
  return codes;
}

/** A HubError for a request that got no HTTP answer (refused, DNS failure, reset, timeout). */
export function networkError(err: unknown, s: RequestSubject): HubError {
  if (err instanceof HubError) return err;
  const codes = errorChainCodes(err);
  const reason = codes.length ? codes.join("/") : err instanceof Error ? err.message : String(err);
  const what = s.file ? `'${s.file}' of '${s.repo}'` : `'${s.repo}'`;
  return new HubError(
    "Network",
    `Could not reach the Hugging Face Hub at ${s.endpoint} for ${what} (${reason}). ` +
      `Check your network connection and HF_ENDPOINT, or ${OFFLINE_HINT}.`,
    undefined,
    { cause: err },
  );
}
