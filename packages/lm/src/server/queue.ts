// A first-come, first-served queue of generations: one runs at a time, so concurrent requests
// neither interleave on the model nor share state; a request aborted while waiting leaves the queue.

/** Runs jobs one at a time in arrival order. */
export class JobQueue {
  #tail: Promise<void> = Promise.resolve();
  #waiting = 0;

  /** Requests waiting for their turn (not counting the one running). */
  get waiting(): number {
    return this.#waiting;
  }

  /** Runs `job` after every job queued before it; rejects with the signal's reason if aborted while waiting. */
  run<T>(job: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const before = this.#tail;
    let release!: () => void;
    this.#tail = new Promise<void>((r) => { release = r; });
    this.#waiting++;
    const turn = new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal!.reason ?? new Error("aborted"));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      void before.then(() => { signal?.removeEventListener("abort", onAbort); resolve(); });
    });
    // The next job waits for this one's slot whatever happens: ours ends when `before` has and our job is done.
    return turn.then(
      async () => {
        this.#waiting--;
        try { return await job(); } finally { release(); }
      },
      async (e: unknown) => {
        this.#waiting--;
        void before.then(release);
        throw e;
      },
    );
  }
}
