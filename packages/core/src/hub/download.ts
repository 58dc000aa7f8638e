// One file from the Hub: its metadata (HEAD on /resolve/, as huggingface_hub reads it) and its bytes,
// downloaded into blobs/<etag>.incomplete, resumed with a Range request after an interruption,
// checked against the announced size (and sha256 for LFS files) and only then renamed to blobs/<etag>.
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileSize } from "./cache.js";
import { HubError, httpError, networkError, type RequestSubject } from "./errors.js";
import type { ProgressReporter } from "./progress.js";

/** What the Hub says about a file before it is downloaded. */
export interface FileMetadata {
  /** The blob's name in the cache: the git oid of a small file, the sha256 of an LFS file. */
  etag: string;
  size: number;
  /** The commit the revision resolved to (X-Repo-Commit), when the server sends it. */
  commit?: string;
}

/** How to reach the Hub for one repo. */
export interface Remote {
  endpoint: string;
  token: string | undefined;
  subject: RequestSubject;
  signal?: AbortSignal;
}

const MAX_REDIRECTS = 5;

/** The URL of a file of `repo` at `revision`, with every path segment escaped. */
export function resolveUrl(endpoint: string, repo: string, revision: string, file: string): string {
  const path = file.split("/").map(encodeURIComponent).join("/");
  return `${endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${path}`;
}

function authHeaders(token: string | undefined): Record<string, string> {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/** huggingface_hub's etag normalization: no weak prefix, no quotes. */
function normalizeEtag(etag: string | null): string | undefined {
  const e = etag?.replace(/^W\//, "").replace(/^"(.*)"$/, "$1").trim();
  return e ? e : undefined;
}

async function request(url: string, init: RequestInit, remote: Remote): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: remote.signal });
  } catch (err) {
    if (remote.signal?.aborted) throw err;
    throw networkError(err, remote.subject);
  }
}

/**
 * HEAD on the file's resolve URL. Like huggingface_hub, redirects within the Hub's origin (a renamed
 * repo) are followed, and one to another origin (the CDN holding LFS files) is not: that answer
 * carries X-Linked-Etag and X-Linked-Size, and the token must not leave the Hub.
 */
export async function fileMetadata(url: string, remote: Remote): Promise<FileMetadata> {
  let current = url;
  for (let hop = 0; ; hop++) {
    const res = await request(
      current,
      { method: "HEAD", redirect: "manual", headers: { ...authHeaders(remote.token), "Accept-Encoding": "identity" } },
      remote,
    );
    const location = res.headers.get("location");
    if (res.status >= 300 && res.status < 400 && location && hop < MAX_REDIRECTS) {
      const next = new URL(location, current);
      if (next.origin === new URL(current).origin) {
        current = next.href;
        continue;
      }
    } else if (!res.ok) {
      throw httpError(res.status, res.headers.get("x-error-code"), remote.subject);
    }
    const etag = normalizeEtag(res.headers.get("x-linked-etag") ?? res.headers.get("etag"));
    const size = Number(res.headers.get("x-linked-size") ?? res.headers.get("content-length"));
    if (!etag || !Number.isSafeInteger(size) || size < 0) {
      throw new HubError(
        "Http",
        `The server at ${remote.endpoint} sent no ETag or size for '${remote.subject.file}' of '${remote.subject.repo}'; ` +
          `is HF_ENDPOINT a Hugging Face Hub?`,
        res.status,
      );
    }
    return { etag, size, commit: res.headers.get("x-repo-commit") ?? undefined };
  }
}

/** Download settings. */
export interface DownloadOptions {
  /** Extra attempts after an interruption within the same call, each resuming where the last stopped. */
  retries: number;
  progress: ProgressReporter;
}

async function hashPrefix(path: string, bytes: number): Promise<Hash> {
  const hash = createHash("sha256");
  if (bytes > 0) {
    for await (const chunk of createReadStream(path, { start: 0, end: bytes - 1 })) hash.update(chunk as Buffer);
  }
  return hash;
}

/** One GET of the rest of the file, appended to `incomplete`; returns the bytes now on disk. */
async function fetchInto(
  url: string,
  incomplete: string,
  meta: FileMetadata,
  remote: Remote,
  hash: { value: Hash | undefined },
  onBytes: (n: number) => void,
): Promise<number> {
  let have = (await fileSize(incomplete)) ?? 0;
  if (have > meta.size) have = 0;
  const sha256 = /^[0-9a-f]{64}$/.test(meta.etag);
  if (have === meta.size && have > 0) {
    // An earlier run got every byte but stopped before the rename: only the check is left.
    hash.value = sha256 ? await hashPrefix(incomplete, have) : undefined;
    return have;
  }
  const headers: Record<string, string> = { ...authHeaders(remote.token), "Accept-Encoding": "identity" };
  if (have > 0) headers.Range = `bytes=${have}-`;
  const res = await request(url, { headers }, remote);
  if (res.status === 416) {
    await res.body?.cancel();
    await rm(incomplete, { force: true }); // the partial file does not fit the server's file: restart
    return 0;
  }
  if (!res.ok) throw httpError(res.status, res.headers.get("x-error-code"), remote.subject);
  const range = /^bytes (\d+)-/.exec(res.headers.get("content-range") ?? "");
  if (res.status !== 206 || !range || Number(range[1]) !== have) have = 0; // the whole file came back
  hash.value = sha256 ? await hashPrefix(incomplete, have) : undefined;
  const fh = await open(incomplete, have > 0 ? "a" : "w");
  try {
    onBytes(have);
    if (res.body) {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        await fh.write(chunk);
        hash.value?.update(chunk);
        have += chunk.byteLength;
        onBytes(have);
      }
    }
  } finally {
    await fh.close();
  }
  return have;
}

/**
 * Downloads `url` to `blob` through `blob.incomplete`, resuming an earlier partial download. The
 * final name appears only once the size (and the sha256 of an LFS file) is right.
 */
export async function downloadBlob(
  url: string,
  blob: string,
  meta: FileMetadata,
  remote: Remote,
  options: DownloadOptions,
): Promise<void> {
  const file = remote.subject.file ?? "";
  const incomplete = `${blob}.incomplete`;
  await mkdir(dirname(blob), { recursive: true });
  const bar = options.progress.start(file, meta.size, (await fileSize(incomplete)) ?? 0);
  const hash: { value: Hash | undefined } = { value: undefined };
  let have = 0;
  for (let attempt = 0; ; attempt++) {
    let failure: unknown;
    try {
      have = await fetchInto(url, incomplete, meta, remote, hash, (n) => bar.update(n));
      if (have >= meta.size) break;
      failure = new Error("the server closed the connection early");
    } catch (err) {
      if (err instanceof HubError && err.code !== "Network") throw err;
      // A local file error (disk full, permissions) is not an interruption: retrying won't help.
      if (remote.signal?.aborted || typeof (err as { syscall?: unknown }).syscall === "string") throw err;
      failure = err;
      have = (await fileSize(incomplete)) ?? 0;
    }
    if (attempt >= options.retries) {
      const reason = describeFailure(failure);
      throw new HubError(
        "Interrupted",
        `Download of '${file}' from '${remote.subject.repo}' stopped after ${have} of ${meta.size} bytes (${reason}). ` +
          `The partial file is kept as ${incomplete}; call resolveModel again to resume it.`,
        undefined,
        { cause: failure },
      );
    }
    await sleep(Math.min(250 * 2 ** attempt, 4_000));
  }
  await verify(incomplete, have, meta, hash.value, remote);
  await rename(incomplete, blob);
  bar.done();
}

/** "terminated: other side closed (UND_ERR_SOCKET)": the error and its causes, briefly. */
function describeFailure(err: unknown): string {
  const parts: string[] = [];
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 4; depth++) {
    const { message, code } = e as { message?: unknown; code?: unknown };
    const text = typeof message === "string" && message ? message : String(e);
    parts.push(typeof code === "string" && !text.includes(code) ? `${text} (${code})` : text);
    e = (e as { cause?: unknown }).cause;
  }
  return parts.join(": ");
}

async function verify(incomplete: string, have: number, meta: FileMetadata, hash: Hash | undefined, remote: Remote): Promise<void> {
  const what = `'${remote.subject.file}' from '${remote.subject.repo}'`;
  let problem: string | undefined;
  if (have !== meta.size) problem = `has ${have} bytes where the Hub announced ${meta.size}`;
  else if (hash) {
    const digest = hash.digest("hex");
    if (digest !== meta.etag) problem = `has sha256 ${digest} where the Hub announced ${meta.etag}`;
  }
  if (problem) {
    await rm(incomplete, { force: true });
    throw new HubError("Integrity", `Downloaded ${what} ${problem}; the file was discarded. Call resolveModel again to retry.`);
  }
}
