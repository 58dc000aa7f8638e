// A lock file per blob so that two downloads of the same file (two calls in one process, or two
// processes) never write the same .incomplete file at once. Created with O_EXCL; the holder keeps its
// mtime fresh, and a lock whose holder died (same host, pid gone) or went quiet is taken over.
import { hostname } from "node:os";
import { mkdir, open, readFile, rm, stat, utimes } from "node:fs/promises";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const HEARTBEAT_MS = 2_000;
const STALE_MS = 30_000;
const POLL_MS = 50;

/** A held lock; release() removes it. */
export interface HeldLock {
  release(): Promise<void>;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function isStale(path: string): Promise<boolean> {
  try {
    const [text, s] = await Promise.all([readFile(path, "utf8"), stat(path)]);
    if (Date.now() - s.mtimeMs > STALE_MS) return true;
    const owner = JSON.parse(text) as { pid?: number; host?: string };
    return owner.host === hostname() && typeof owner.pid === "number" && !processAlive(owner.pid);
  } catch {
    // Unreadable: being written right now (fresh) or removed; only an old one is stale.
    const s = await stat(path).catch(() => undefined);
    return s !== undefined && Date.now() - s.mtimeMs > STALE_MS;
  }
}

/** Waits until the lock at `path` is free and takes it. */
export async function acquireLock(path: string, signal?: AbortSignal): Promise<HeldLock> {
  await mkdir(dirname(path), { recursive: true });
  for (;;) {
    signal?.throwIfAborted();
    try {
      const fh = await open(path, "wx");
      try {
        await fh.writeFile(JSON.stringify({ pid: process.pid, host: hostname() }));
      } finally {
        await fh.close();
      }
      const timer = setInterval(() => {
        const now = new Date();
        utimes(path, now, now).catch(() => undefined);
      }, HEARTBEAT_MS);
      timer.unref();
      return {
        async release() {
          clearInterval(timer);
          await rm(path, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    if (await isStale(path)) await rm(path, { force: true });
    else await sleep(POLL_MS);
  }
}
