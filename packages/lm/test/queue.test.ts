// The server's JobQueue: one job at a time in arrival order; a job aborted while waiting leaves
// the queue at once without running, and the jobs behind it still run in order.
import { describe, expect, it } from "vitest";
import { JobQueue } from "../src/index.js";

describe("JobQueue", () => {
  it("runs jobs one at a time in order; an aborted waiter is dropped", async () => {
    const q = new JobQueue();
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const job = (name: string, wait?: Promise<void>) => async () => {
      log.push(`start ${name}`);
      await wait;
      log.push(`end ${name}`);
      return name;
    };
    const a = q.run(job("a", gate));
    const ac = new AbortController();
    const b = q.run(job("b"), ac.signal);
    const c = q.run(job("c"));
    await new Promise((r) => setImmediate(r));
    expect(q.waiting).toBe(2);
    ac.abort(new Error("client left"));
    await expect(b).rejects.toThrow("client left");
    expect(log).toEqual(["start a"]);
    release();
    expect(await Promise.all([a, c])).toEqual(["a", "c"]);
    expect(log).toEqual(["start a", "end a", "start c", "end c"]);
    expect(q.waiting).toBe(0);
    // A failing job does not block the queue.
    await expect(q.run(async () => { throw new Error("boom"); })).rejects.toThrow("boom");
    expect(await q.run(async () => 1)).toBe(1);
    const pre = new AbortController();
    pre.abort(new Error("already gone"));
    await expect(q.run(async () => 2, pre.signal)).rejects.toThrow("already gone");
  });
});
