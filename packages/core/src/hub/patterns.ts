// Which repo files to fetch: model ids, revisions and allowPatterns, validated with clear errors.
import picomatch from "picomatch";

const COMMIT = /^[0-9a-f]{40}$/;

/** Whether `revision` is a full commit hash (no ref to look up). */
export function isCommitHash(revision: string): boolean {
  return COMMIT.test(revision);
}

/**
 * Checks a Hub repo id as huggingface_hub does: `name` or `namespace/name`, letters, digits, '-',
 * '_' and '.', no '--' or '..', not ending in '.git', at most 96 characters.
 */
export function validRepoId(id: string): boolean {
  return (
    id.length <= 96 &&
    /^([\w.-]+\/)?[\w.-]+$/.test(id) &&
    !id.includes("--") &&
    !id.includes("..") &&
    !id.endsWith(".git") &&
    id.split("/").every((part) => /^\w/.test(part) && /\w$/.test(part))
  );
}

/** Checks a branch, tag or commit name before it becomes part of a URL and of refs/<revision>. */
export function checkRevision(revision: unknown): string {
  if (
    typeof revision !== "string" ||
    revision === "" ||
    revision.split("/").some((part) => part === "" || part === "." || part === "..") ||
    /[\\\0\s]/.test(revision)
  ) {
    throw new Error(`revision must be a branch, tag or commit hash such as 'main'; got ${JSON.stringify(revision)}.`);
  }
  return revision;
}

/** Checks a file path the Hub listed before it becomes a path in the cache. */
export function checkRepoFile(repo: string, file: string): void {
  const parts = file.split("/");
  if (file === "" || file.startsWith("/") || file.includes("\\") || parts.some((p) => p === "" || p === "." || p === "..")) {
    throw new Error(`The Hub listed an unsafe file path ${JSON.stringify(file)} in '${repo}'; refusing to write it.`);
  }
}

/**
 * A predicate for `allowPatterns` (picomatch globs on the repo path). A pattern without '/' that
 * starts with '*' matches a file name in any folder, so '*.json' picks what huggingface_hub's
 * allow_patterns picks; other patterns match the whole path ('config.json' is the top-level file,
 * 'unet/*' a folder's files); a trailing '/' takes a whole folder.
 */
export function fileMatcher(patterns: string | readonly string[] | undefined): (file: string) => boolean {
  if (patterns === undefined) return () => true;
  const list = typeof patterns === "string" ? [patterns] : patterns;
  if (!Array.isArray(list) || list.length === 0 || !list.every((p) => typeof p === "string" && p !== "")) {
    throw new Error(
      `allowPatterns must be a non-empty glob or list of globs such as ['*.json', '*.safetensors']; got ${JSON.stringify(patterns)}.`,
    );
  }
  const matchers = list.map((p) => {
    const glob = p.endsWith("/") ? `${p}**` : p;
    return picomatch(glob, { dot: true, basename: !glob.includes("/") && glob.startsWith("*") });
  });
  return (file) => matchers.some((m) => m(file));
}

/** The patterns for messages. */
export function describePatterns(patterns: string | readonly string[] | undefined): string {
  return patterns === undefined ? "all files" : JSON.stringify(typeof patterns === "string" ? [patterns] : patterns);
}
