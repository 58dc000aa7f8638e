// The huggingface_hub cache layout, so that downloads are shared with Python:
//   <cache>/models--<org>--<name>/refs/<revision>          the commit hash a branch or tag points to
//   <cache>/models--<org>--<name>/blobs/<etag>             file contents, named by etag (git oid or sha256)
//   <cache>/models--<org>--<name>/blobs/<etag>.incomplete  a download in progress (resumable)
//   <cache>/models--<org>--<name>/snapshots/<commit>/<path> relative symlinks into blobs/
// Tessera adds one thing Python ignores: .tessera/<commit>.json, the file list of that commit, so a
// later call knows without asking the Hub whether a snapshot holds every file it needs.
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

  /** The full file list of `commit` recorded by an earlier online call, if any. */
  async readManifest(commit: string): Promise<string[] | undefined> {
    try {
      const parsed = JSON.parse(await readFile(this.manifestPath(commit), "utf8")) as { files?: unknown };
      const files = parsed.files;
      return Array.isArray(files) && files.every((f) => typeof f === "string") ? (files as string[]) : undefined;
    } catch {
      return undefined;
    }
  }

  async writeManifest(commit: string, files: readonly string[]): Promise<void> {
    await atomicWrite(this.manifestPath(commit), JSON.stringify({ files }));
  }

  private manifestPath(commit: string): string {
    return join(this.dir, ".tessera", `${commit}.json`);
  }
}

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
