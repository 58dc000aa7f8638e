// The huggingface_hub cache layout, so that downloads are shared with Python:
//   <cache>/models--<org>--<name>/refs/<revision>          the commit hash a branch or tag points to
//   <cache>/models--<org>--<name>/blobs/<etag>             file contents, named by etag (git oid or sha256)
//   <cache>/models--<org>--<name>/blobs/<etag>.incomplete  a download in progress (resumable)
//   <cache>/models--<org>--<name>/snapshots/<commit>/<path> relative symlinks into blobs/
//   <cache>/models--<org>--<name>/trees/<commit>.json       the commit's file listing (huggingface_hub >= 2)
// A commit's listing never changes, so with trees/ a later call knows without asking the Hub whether a
// snapshot holds every file it needs.
import { randomBytes } from "node:crypto";
import { copyFile, mkdir, readFile, readdir, rename, rm, stat, symlink, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";

/** The folder name of a model repo in the cache: `models--org--name`. */
export function repoFolderName(repoId: string): string {
  return ["models", ...repoId.split("/")].join("--");
}

/** Paths of one repo inside the cache. */
export class RepoCache {
  readonly dir: string;

  constructor(
    readonly cacheDir: string,
    readonly repoId: string,
  ) {
    this.dir = join(cacheDir, repoFolderName(repoId));
  }

  snapshot(commit: string): string {
    return join(this.dir, "snapshots", commit);
  }

  pointer(commit: string, file: string): string {
    return join(this.snapshot(commit), ...file.split("/"));
  }

  blob(etag: string): string {
    return join(this.dir, "blobs", etag);
  }

  /** Lock files live beside Python's (.locks/<repo folder>/) under their own names. */
  lock(etag: string): string {
    return join(this.cacheDir, ".locks", repoFolderName(this.repoId), `${etag}.tessera.lock`);
  }

  /** The commit a branch or tag points to in refs/, if recorded. */
  async readRef(revision: string): Promise<string | undefined> {
    try {
      const commit = (await readFile(join(this.dir, "refs", ...revision.split("/")), "utf8")).trim();
      return /^[0-9a-f]{40}$/.test(commit) ? commit : undefined;
    } catch {
      return undefined;
    }
  }

  async writeRef(revision: string, commit: string): Promise<void> {
    await atomicWrite(join(this.dir, "refs", ...revision.split("/")), commit);
  }

  /** The file listing of `commit` recorded by an earlier online call (ours or Python's), if any. */
  async readTree(commit: string): Promise<Tree | undefined> {
    try {
      const data = JSON.parse(await readFile(this.treePath(commit), "utf8")) as { format_version?: unknown; files?: unknown };
      if (data.format_version !== TREE_FORMAT_VERSION || typeof data.files !== "object" || data.files === null) return undefined;
      const files = data.files as Record<string, Partial<TreeEntry>>;
      const valid = Object.values(files).every((e) => typeof e?.size === "number" && typeof e.blob_id === "string");
      return valid ? (files as Tree) : undefined;
    } catch {
      return undefined; // none, or unreadable: the Hub is asked again
    }
  }

  /** Records `commit`'s file listing in huggingface_hub's format (sorted keys, as Python writes it). */
  async writeTree(commit: string, tree: Tree): Promise<void> {
    const files = Object.fromEntries(Object.keys(tree).sort().map((k) => [k, tree[k]]));
    await atomicWrite(this.treePath(commit), JSON.stringify({ format_version: TREE_FORMAT_VERSION, files }, null, 1));
  }

  private treePath(commit: string): string {
    return join(this.dir, "trees", `${commit}.json`);
  }
}

const TREE_FORMAT_VERSION = 1;

/** One file of a tree listing, with huggingface_hub's field names. */
export interface TreeEntry {
  size: number;
  /** The git blob id. */
  blob_id: string;
  lfs_sha256?: string;
  lfs_size?: number;
  xet_hash?: string;
}

/** A commit's files: repo path to entry. */
export type Tree = Record<string, TreeEntry>;

/** Size of the file at `path` (following symlinks), or undefined when there is none. */
export async function fileSize(path: string): Promise<number | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

/** Writes a small file so that readers see the old content or the new one, never a partial one. */
export async function atomicWrite(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await writeFile(tmp, content);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Points the snapshot file `pointer` at `blob` with a relative symlink (as huggingface_hub does),
 * replacing any existing entry atomically; copies where symlinks are not allowed.
 */
export async function linkBlob(blob: string, pointer: string): Promise<void> {
  await mkdir(dirname(pointer), { recursive: true });
  const tmp = `${pointer}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    try {
      await symlink(relative(dirname(pointer), blob), tmp);
    } catch {
      await copyFile(blob, tmp); // e.g. Windows without the symlink privilege
    }
    await rename(tmp, pointer);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Relative paths (with '/') of the files under `dir`, following symlinks; [] when it does not exist. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(sub: string): Promise<void> {
    let names: string[];
    try {
      names = await readdir(join(dir, sub));
    } catch {
      return;
    }
    for (const name of names) {
      const rel = sub ? `${sub}/${name}` : name;
      const s = await stat(join(dir, rel)).catch(() => undefined);
      if (s?.isDirectory()) await walk(rel);
      else if (s?.isFile()) out.push(rel);
    }
  }
  await walk("");
  return out.sort();
}

/** Marks the cache for backup tools (https://bford.info/cachedir/), as huggingface_hub does. */
export async function tagCacheDir(cacheDir: string): Promise<void> {
  const content =
    "Signature: 8a477f597d28d172789f06886806bc55\n" +
    "# This file is a cache directory tag created by Tessera (huggingface_hub's cache layout).\n" +
    "# For information about cache directory tags, see:\n#\thttps://bford.info/cachedir/\n";
  await mkdir(cacheDir, { recursive: true });
  await writeFile(join(cacheDir, "CACHEDIR.TAG"), content, { flag: "wx" }).catch(() => undefined); // exists already
}
