// resolveModel: a local folder, a local file, or a Hub repo id resolved to a snapshot folder in the
// huggingface_hub cache, downloading what is missing.
import { listFiles as listRepoFiles, modelInfo } from "@huggingface/hub";
import { stat } from "node:fs/promises";
import { homedir } from "node:os";
import { resolve as resolvePath } from "node:path";
import { RepoCache, fileSize, linkBlob, listFiles, tagCacheDir, type Tree } from "./cache.js";
import { downloadBlob, fileMetadata, resolveUrl, type Remote } from "./download.js";
import { HubError, fromHubApiError, type RequestSubject } from "./errors.js";
import { acquireLock } from "./lock.js";
import { checkRepoFile, checkRevision, describePatterns, fileMatcher, isCommitHash, validRepoId } from "./patterns.js";
import { ProgressReporter, type DownloadProgress } from "./progress.js";
import { hubSettings, type HubSettings, type HubSettingsOptions } from "./settings.js";

/** Options of {@link resolveModel}; cacheDir, endpoint, token and offline override the HF_* variables. */
export interface ResolveModelOptions extends HubSettingsOptions {
  /** Branch, tag or commit hash of a repo (default 'main'). */
  revision?: string;
  /** Globs choosing which repo files to fetch (default: all); see {@link fileMatcher}. */
  allowPatterns?: string | readonly string[];
  /** Progress bars: true (default) on stderr, false for none, or a stream to draw them on. */
  progress?: boolean | NodeJS.WritableStream;
  /** Called as bytes arrive, for applications that show their own progress. */
  onProgress?: (progress: DownloadProgress) => void;
  /** Extra attempts, each resuming, when a download is interrupted within this call (default 2). */
  retries?: number;
  /** Parallel file downloads (default 4). */
  concurrency?: number;
  signal?: AbortSignal;
}

const WEIGHTS_FILE = /\.(gguf|ggml|bin|safetensors|npz|npy|pt|pth|ckpt|onnx)$/i;

function looksLikePath(model: string): boolean {
  return /^(\.{1,2}|~)?([/\\]|$)/.test(model) || /^[A-Za-z]:[/\\]/.test(model) || model.includes("\\") || WEIGHTS_FILE.test(model);
}

/** The absolute path of an existing local model, undefined for a repo id; throws for a missing path. */
async function localModel(model: string): Promise<string | undefined> {
  const path = resolvePath(model === "~" || model.startsWith("~/") ? homedir() + model.slice(1) : model);
  const s = await stat(path).catch(() => undefined);
  if (s?.isDirectory() || s?.isFile()) return path;
  if (s) throw new Error(`Model path '${model}' (${path}) is neither a folder nor a file.`);
  if (looksLikePath(model)) {
    throw new Error(
      `Model path '${model}' does not exist (looked for ${path}). Pass an existing folder or file, or a Hugging Face repo id such as 'org/name'.`,
    );
  }
  return undefined;
}

/**
 * Resolves `model` to a local path: an existing folder or file is returned as it is (absolute); a
 * Hugging Face repo id ('org/name') becomes its snapshot folder in the huggingface_hub cache
 * (`HF_HUB_CACHE`, or `$HF_HOME/hub`), so files downloaded with Python are reused. Missing files are
 * downloaded from `HF_ENDPOINT` (with `HF_TOKEN` or `$HF_HOME/token`) with a progress bar on stderr,
 * resumed if an earlier download was interrupted, and checked before they appear in the cache. A
 * snapshot already holding the requested files is returned without any request; with
 * `HF_HUB_OFFLINE=1` (or `offline: true`) only the cache is used.
 *
 * @throws HubError for Hub failures (unknown repo, missing file, token, network, offline and not
 * cached, interrupted download), Error for bad arguments or missing local paths.
 */
export async function resolveModel(model: string, options: ResolveModelOptions = {}): Promise<string> {
  if (typeof model !== "string" || model.trim() === "") {
    throw new Error(`model must be a local folder, a file, or a Hugging Face repo id such as 'org/name'; got ${JSON.stringify(model)}.`);
  }
  const local = await localModel(model);
  if (local !== undefined) return local;
  if (!validRepoId(model)) {
    throw new Error(
      `'${model}' is neither an existing path nor a valid Hugging Face repo id: expected 'org/name' made of letters, ` +
        `digits, '-', '_' and '.', without '--' or '..', at most 96 characters.`,
    );
  }
  return resolveRepo(model, options);
}

interface CachedSnapshot {
  dir: string;
  /** What is missing from the snapshot: file names when its file list is known, else patterns. */
  missing: string[];
  /** Whether the commit's file list is known, so `missing` is exact. */
  exact: boolean;
}

async function cachedSnapshot(
  cache: RepoCache,
  commit: string,
  match: (f: string) => boolean,
  patterns: ResolveModelOptions["allowPatterns"],
): Promise<CachedSnapshot> {
  const dir = cache.snapshot(commit);
  const tree = await cache.readTree(commit);
  if (tree) {
    const wanted = Object.keys(tree).filter(match);
    if (wanted.length === 0) return { dir, missing: [`a file matching ${describePatterns(patterns)}`], exact: false };
    const present = await Promise.all(wanted.map(async (f) => (await fileSize(cache.pointer(commit, f))) !== undefined));
    return { dir, missing: wanted.filter((_, i) => !present[i]), exact: true };
  }
  // A snapshot made by huggingface_hub < 2: its file list is unknown, so each pattern must find some file.
  const files = await listFiles(dir);
  if (files.length === 0) return { dir, missing: ["its snapshot folder"], exact: false };
  const list = patterns === undefined ? [] : typeof patterns === "string" ? [patterns] : [...patterns];
  const missing = list.filter((p) => !files.some(fileMatcher(p))).map((p) => `a file matching '${p}'`);
  return { dir, missing, exact: false };
}

function notCached(repo: string, revision: string, settings: HubSettings, why: string): HubError {
  return new HubError(
    "NotCached",
    `Offline mode (HF_HUB_OFFLINE or offline: true): '${repo}' at revision '${revision}' ${why} in the cache ${settings.cacheDir}. ` +
      `Run once with network access to download it (unset HF_HUB_OFFLINE), or point HF_HUB_CACHE/HF_HOME at the cache that holds it.`,
  );
}

async function resolveRepo(repo: string, options: ResolveModelOptions): Promise<string> {
  const settings = hubSettings(options);
  const revision = checkRevision(options.revision ?? "main");
  const match = fileMatcher(options.allowPatterns);
  const retries = options.retries ?? 2;
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(retries) || retries < 0) throw new Error(`retries must be an integer >= 0; got ${retries}.`);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`concurrency must be an integer >= 1; got ${concurrency}.`);
  const cache = new RepoCache(settings.cacheDir, repo);
  const subject: RequestSubject = { repo, endpoint: settings.endpoint, revision, hasToken: settings.token !== undefined };

  const knownCommit = isCommitHash(revision) ? revision : await cache.readRef(revision);
  const cached = knownCommit ? await cachedSnapshot(cache, knownCommit, match, options.allowPatterns) : undefined;
  if (cached?.exact && cached.missing.length === 0) return cached.dir;
  if (settings.offline) {
    if (!cached) throw notCached(repo, revision, settings, "was never downloaded");
    if (cached.missing.length > 0) throw notCached(repo, revision, settings, `lacks ${cached.missing.join(", ")}`);
    return cached.dir;
  }

  let commit: string;
  let files: string[];
  try {
    commit = await resolveCommit(repo, revision, settings, subject, options.signal);
    const tree = (await cache.readTree(commit)) ?? (await listTree(repo, commit, settings, subject, options.signal));
    files = Object.keys(tree).sort();
    for (const f of files) checkRepoFile(repo, f);
    await tagCacheDir(settings.cacheDir);
    await cache.writeTree(commit, tree);
  } catch (err) {
    // Like huggingface_hub: when the Hub cannot be reached, a cached snapshot still serves.
    if (err instanceof HubError && err.code === "Network" && cached && cached.missing.length === 0) return cached.dir;
    throw err;
  }
  if (revision !== commit) await cache.writeRef(revision, commit);
  const wanted = files.filter(match);
  if (wanted.length === 0) {
    const shown = files.slice(0, 20).join(", ") + (files.length > 20 ? ", ..." : "");
    throw new Error(`No file of '${repo}' at revision '${revision}' matches allowPatterns ${describePatterns(options.allowPatterns)}; its files are: ${shown || "(none)"}.`);
  }
  const remote: Remote = { endpoint: settings.endpoint, token: settings.token, subject, signal: options.signal };
  const stream = options.progress === false ? undefined : options.progress === true || options.progress === undefined ? process.stderr : options.progress;
  const progress = new ProgressReporter(repo, stream, options.onProgress);
  try {
    await forEachLimited(wanted, concurrency, (file) =>
      ensureFile(cache, commit, file, { ...remote, subject: { ...subject, file } }, retries, progress),
    );
  } finally {
    progress.stop();
  }
  return cache.snapshot(commit);
}

/** A fetch for @huggingface/hub calls: adds the token and keeps the Hub's X-Error-Code for messages. */
function hubFetch(settings: HubSettings, signal: AbortSignal | undefined, seen: { errorCode: string | null }): typeof fetch {
  // The token goes in our own header: the client insists on 'hf_' tokens, private hubs may not.
  return async (input, init) => {
    const headers = new Headers(init?.headers);
    if (settings.token) headers.set("Authorization", `Bearer ${settings.token}`);
    const res = await fetch(input, { ...init, headers, signal });
    seen.errorCode = res.headers.get("x-error-code");
    return res;
  };
}

async function callHub<T>(subject: RequestSubject, signal: AbortSignal | undefined, call: (seen: { errorCode: string | null }) => Promise<T>): Promise<T> {
  const seen = { errorCode: null as string | null };
  try {
    return await call(seen);
  } catch (err) {
    if (signal?.aborted) throw err;
    throw fromHubApiError(err, subject, seen.errorCode);
  }
}

/** The commit `revision` points to, from the Hub's model API. */
async function resolveCommit(repo: string, revision: string, settings: HubSettings, subject: RequestSubject, signal?: AbortSignal): Promise<string> {
  if (isCommitHash(revision)) return revision;
  const info = await callHub(subject, signal, (seen) =>
    modelInfo({ name: repo, revision, hubUrl: settings.endpoint, additionalFields: ["sha"], fetch: hubFetch(settings, signal, seen) }),
  );
  if (!isCommitHash(info.sha ?? "")) {
    throw new HubError("Http", `The Hub at ${settings.endpoint} sent no commit hash for '${repo}'; is HF_ENDPOINT a Hugging Face Hub?`);
  }
  return info.sha;
}

/** Every file of `repo` at `commit` with sizes and blob ids (the Hub's tree API, all pages). */
async function listTree(repo: string, commit: string, settings: HubSettings, subject: RequestSubject, signal?: AbortSignal): Promise<Tree> {
  return callHub(subject, signal, async (seen) => {
    const tree: Tree = {};
    const entries = listRepoFiles({ repo, revision: commit, recursive: true, hubUrl: settings.endpoint, fetch: hubFetch(settings, signal, seen) });
    for await (const e of entries) {
      if (e.type !== "file") continue;
      tree[e.path] = {
        size: e.size,
        blob_id: e.oid ?? "",
        ...(e.lfs && { lfs_sha256: e.lfs.oid, lfs_size: e.lfs.size }),
        ...(e.xetHash && /^[0-9a-f]{64}$/.test(e.xetHash) && { xet_hash: e.xetHash }),
      };
    }
    return tree;
  });
}

/** Makes snapshots/<commit>/<file> point at its blob, downloading the blob if needed. */
async function ensureFile(cache: RepoCache, commit: string, file: string, remote: Remote, retries: number, progress: ProgressReporter): Promise<void> {
  const pointer = cache.pointer(commit, file);
  if ((await fileSize(pointer)) !== undefined) return;
  const url = resolveUrl(remote.endpoint, remote.subject.repo, commit, file);
  const meta = await fileMetadata(url, remote);
  if (!/^[\w.-]+$/.test(meta.etag) || meta.etag.startsWith(".")) {
    throw new HubError("Http", `The Hub sent an unusable ETag ${JSON.stringify(meta.etag)} for '${file}' of '${remote.subject.repo}'.`);
  }
  const blob = cache.blob(meta.etag);
  if ((await fileSize(blob)) !== meta.size) {
    // One writer per blob, across calls and processes; the others wait, then find it done.
    const lock = await acquireLock(cache.lock(meta.etag), remote.signal);
    try {
      if ((await fileSize(blob)) !== meta.size) await downloadBlob(url, blob, meta, remote, { retries, progress });
    } finally {
      await lock.release();
    }
  }
  await linkBlob(blob, pointer);
}

/** Runs `fn` on every item with at most `limit` at once; waits for all, then throws the first error. */
async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let firstError: { error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !firstError) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (error) {
        firstError ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (firstError) throw firstError.error;
}
