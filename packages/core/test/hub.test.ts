// resolveModel against a fake Hub on 127.0.0.1 that serves the routes huggingface_hub and Tessera use
// (/api/models/{repo}/revision/{rev}, HEAD and GET /{repo}/resolve/{rev}/{path}, and on another port a
// CDN for LFS files), with Range support and the headers the real Hub sends. Only 127.0.0.1 is contacted.
import { createHash, randomBytes } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { hub, resolveModel } from "@tessera/core";

const T = 20_000; // per-test bound
const TOKEN = "hf_test_token";

interface FixtureFile {
  path: string;
  content: Buffer;
  lfs: boolean;
}
interface FixtureRepo {
  commit: string;
  files: FixtureFile[];
  access?: "private" | "gated";
  /** Listed by the API, but resolve answers 404 EntryNotFound (a listing/storage mismatch). */
  ghost?: string;
}
interface Logged {
  method: string;
  url: string;
  range?: string;
  auth?: string;
}

const gitOid = (b: Buffer) => createHash("sha1").update(`blob ${b.length}\0`).update(b).digest("hex");
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const commitOf = (seed: string) => createHash("sha1").update(seed).digest("hex");

/** A Hub on loopback serving fixture repos, logging every request. */
class FakeHub {
  readonly repos = new Map<string, FixtureRepo>();
  readonly log: Logged[] = [];
  /** Per CDN blob sha256: bytes to send before cutting the connection, for the next N GETs. */
  readonly cuts = new Map<string, { bytes: number; times: number }>();
  /** Per CDN blob sha256: serve these bytes instead (a corrupted CDN). */
  readonly corrupt = new Map<string, Buffer>();
  readonly #servers: Server[] = [];
  endpoint = "";
  /** The CDN is another origin, as on the real Hub: clients do not follow its redirect on HEAD. */
  cdn = "";

  async start(): Promise<void> {
    [this.endpoint, this.cdn] = await Promise.all([0, 1].map(async () => {
      const server = createServer((req, res) => this.#handle(req, res));
      this.#servers.push(server);
      await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }));
  }

  async stop(): Promise<void> {
    for (const s of this.#servers) s.closeAllConnections();
    await Promise.all(this.#servers.map((s) => new Promise<void>((ok) => s.close(() => ok()))));
  }

  requests(filter: (l: Logged) => boolean = () => true): Logged[] {
    return this.log.filter(filter);
  }

  #authorized(repo: FixtureRepo, req: IncomingMessage): number | undefined {
    const auth = req.headers.authorization;
    if (!repo.access) return undefined;
    if (auth !== `Bearer ${TOKEN}`) return 401;
    return repo.access === "gated" ? 403 : undefined; // gated: this account never accepted the terms
  }

  #error(res: ServerResponse, status: number, code: string, message: string): void {
    res.writeHead(status, { "Content-Type": "application/json", "X-Error-Code": code });
    res.end(JSON.stringify({ error: message }));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", this.endpoint);
    this.log.push({ method: req.method ?? "", url: url.pathname, range: req.headers.range, auth: req.headers.authorization });
    const path = decodeURIComponent(url.pathname);
    let m = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(path);
    if (m) return this.#api(req, res, m[1], m[2]);
    m = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)$/.exec(path);
    if (m) return this.#tree(req, res, m[1], m[2]);
    m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    if (m) return this.#resolve(req, res, m[1], m[2], m[3]);
    m = /^\/cdn\/([0-9a-f]{64})$/.exec(path);
    if (m) return this.#cdn(req, res, m[1]);
    this.#error(res, 404, "NotFound", "Not found");
  }

  #repo(res: ServerResponse, req: IncomingMessage, id: string, rev: string): FixtureRepo | undefined {
    const repo = this.repos.get(id);
    const denied = repo && this.#authorized(repo, req);
    if (!repo || denied === 401) {
      // As the Hub: a private repo without a valid token looks like a missing one, but with 401.
      this.#error(res, repo ? 401 : 404, "RepoNotFound", "Repository not found");
      return undefined;
    }
    if (rev !== "main" && rev !== repo.commit) {
      this.#error(res, 404, "RevisionNotFound", `Invalid rev id: ${rev}`);
      return undefined;
    }
    return repo;
  }

  #api(req: IncomingMessage, res: ServerResponse, id: string, rev: string): void {
    const repo = this.#repo(res, req, id, rev);
    if (!repo) return;
    const siblings = [...repo.files.map((f) => f.path), ...(repo.ghost ? [repo.ghost] : [])].map((rfilename) => ({ rfilename }));
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ _id: "x", id, sha: repo.commit, siblings, private: repo.access === "private", gated: repo.access === "gated" && "auto" }));
  }

  /** The recursive tree listing (one page), as /api/models/{repo}/tree/{rev}?recursive=true sends it. */
  #tree(req: IncomingMessage, res: ServerResponse, id: string, rev: string): void {
    const repo = this.#repo(res, req, id, rev);
    if (!repo) return;
    const files = repo.files.map((f) => ({
      type: "file",
      path: f.path,
      size: f.lfs ? f.content.length : f.content.length,
      oid: gitOid(f.lfs ? Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(f.content)}\n`) : f.content),
      ...(f.lfs && { lfs: { oid: sha256(f.content), size: f.content.length, pointerSize: 134 } }),
    }));
    if (repo.ghost) files.push({ type: "file", path: repo.ghost, size: 1, oid: "0".repeat(40) });
    const dirs = [...new Set(repo.files.filter((f) => f.path.includes("/")).map((f) => f.path.split("/")[0]))];
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify([...dirs.map((d) => ({ type: "directory", path: d, size: 0, oid: "1".repeat(40) })), ...files]));
  }

  #resolve(req: IncomingMessage, res: ServerResponse, id: string, rev: string, file: string): void {
    const repo = this.#repo(res, req, id, rev);
    if (!repo) return;
    if (this.#authorized(repo, req) === 403) return this.#error(res, 403, "GatedRepo", "Access to this model is restricted");
    const f = repo.files.find((x) => x.path === file);
    if (!f) return this.#error(res, 404, "EntryNotFound", "Entry not found");
    if (f.lfs) {
      const hash = sha256(f.content);
      res.writeHead(302, {
        Location: `${this.cdn}/cdn/${hash}`,
        "X-Repo-Commit": repo.commit,
        "X-Linked-Etag": `"${hash}"`,
        "X-Linked-Size": String(f.content.length),
        ETag: `W/"redirect"`,
      });
      return void res.end();
    }
    this.#send(req, res, f.content, `"${gitOid(f.content)}"`, { "X-Repo-Commit": repo.commit });
  }

  #cdn(req: IncomingMessage, res: ServerResponse, hash: string): void {
    const f = [...this.repos.values()].flatMap((r) => r.files).find((x) => x.lfs && sha256(x.content) === hash);
    if (!f) return this.#error(res, 404, "NotFound", "no such blob");
    this.#send(req, res, this.corrupt.get(hash) ?? f.content, `"${hash}"`, {}, hash);
  }

  /** Serves bytes with Range support; may cut the connection mid-body. */
  #send(req: IncomingMessage, res: ServerResponse, body: Buffer, etag: string, extra: Record<string, string>, hash?: string): void {
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    const start = range ? Number(range[1]) : 0;
    if (start > body.length) {
      res.writeHead(416, { "Content-Range": `bytes */${body.length}` });
      return void res.end();
    }
    const part = body.subarray(start);
    const headers = { ...extra, ETag: etag, "Content-Length": String(part.length), "Accept-Ranges": "bytes" };
    if (range) res.writeHead(206, { ...headers, "Content-Range": `bytes ${start}-${body.length - 1}/${body.length}` });
    else res.writeHead(200, headers);
    if (req.method === "HEAD") return void res.end();
    const cut = hash ? this.cuts.get(hash) : undefined;
    if (cut && cut.times > 0) {
      cut.times--;
      res.write(part.subarray(0, cut.bytes), () => setTimeout(() => res.destroy(), 20));
      return;
    }
    res.end(part);
  }
}

const fakeHub = new FakeHub();
const root = mkdtempSync(join(tmpdir(), "tessera-hub-"));
let home = "";
let caseNo = 0;

function addRepo(id: string, files: Array<[string, Buffer | string, boolean?]>, extra: Partial<FixtureRepo> = {}): FixtureRepo {
  const repo: FixtureRepo = {
    commit: commitOf(id),
    files: files.map(([path, content, lfs]) => ({ path, content: Buffer.from(content), lfs: lfs ?? false })),
    ...extra,
  };
  fakeHub.repos.set(id, repo);
  return repo;
}

/** Options pointing at the fake Hub and this test's own HF_HOME, never at the real environment. */
const opts = (more: hub.HubSettingsOptions & Parameters<typeof resolveModel>[1] = {}) => ({
  env: { HF_HOME: home, HF_ENDPOINT: fakeHub.endpoint },
  progress: false as const,
  ...more,
});
const repoDir = (id: string) => join(home, "hub", hub.repoFolderName(id));
const weights = randomBytes(300_000);
const config = JSON.stringify({ model_type: "llama", hidden_size: 8 });

beforeAll(() => fakeHub.start());
afterAll(async () => {
  await fakeHub.stop();
  rmSync(root, { recursive: true, force: true });
});
beforeEach(() => {
  home = join(root, `home${caseNo++}`);
  mkdirSync(home);
  fakeHub.log.length = 0;
});

function blobsIn(id: string): string[] {
  const dir = join(repoDir(id), "blobs");
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

describe("resolveModel from a Hub", () => {
  it("downloads into the huggingface_hub layout with a progress bar", async () => {
    const repo = addRepo("org/tiny", [["config.json", config], ["model.safetensors", weights, true], ["sub/tok.json", "{}"]]);
    const out = new PassThrough();
    let text = "";
    out.on("data", (d: Buffer) => (text += d.toString()));
    const events: hub.DownloadProgress[] = [];
    const dir = await resolveModel("org/tiny", opts({ progress: out, onProgress: (p) => events.push(p) }));

    expect(dir).toBe(join(repoDir("org/tiny"), "snapshots", repo.commit));
    expect(readFileSync(join(dir, "model.safetensors")).equals(weights)).toBe(true);
    expect(readFileSync(join(dir, "config.json"), "utf8")).toBe(config);
    expect(readFileSync(join(dir, "sub/tok.json"), "utf8")).toBe("{}");
    expect(readFileSync(join(repoDir("org/tiny"), "refs", "main"), "utf8")).toBe(repo.commit);
    // Snapshot entries are relative symlinks to blobs named by etag: sha256 for LFS, git oid otherwise.
    expect(readlinkSync(join(dir, "model.safetensors"))).toBe(`../../blobs/${sha256(weights)}`);
    expect(readlinkSync(join(dir, "sub/tok.json"))).toBe(`../../../blobs/${gitOid(Buffer.from("{}"))}`);
    expect(blobsIn("org/tiny")).toEqual([sha256(weights), gitOid(Buffer.from(config)), gitOid(Buffer.from("{}"))].sort());
    expect(text).toMatch(/org\/tiny: model\.safetensors \|.*\| 100% 300\.0 kB\/300\.0 kB/);
    const last = events.filter((e) => e.file === "model.safetensors").at(-1);
    expect(last).toEqual({ repo: "org/tiny", file: "model.safetensors", downloaded: weights.length, total: weights.length });
    // The commit's listing, in huggingface_hub's trees/ format, so later calls need no request.
    const tree = JSON.parse(readFileSync(join(repoDir("org/tiny"), "trees", `${repo.commit}.json`), "utf8"));
    expect(tree.format_version).toBe(1);
    expect(tree.files["model.safetensors"]).toMatchObject({ size: weights.length, lfs_sha256: sha256(weights), lfs_size: weights.length });
    expect(tree.files["config.json"]).toEqual({ size: config.length, blob_id: gitOid(Buffer.from(config)) });
    expect(Object.keys(tree.files)).toEqual(["config.json", "model.safetensors", "sub/tok.json"]);
    // Two API calls (commit, listing), one HEAD per file, one GET per file (the LFS one through the CDN).
    expect(fakeHub.requests((l) => l.url.startsWith("/api/")).map((l) => l.url)).toEqual([
      "/api/models/org/tiny/revision/main",
      `/api/models/org/tiny/tree/${repo.commit}`,
    ]);
    expect(fakeHub.requests((l) => l.method === "HEAD").length).toBe(3);
    expect(fakeHub.requests((l) => l.url.startsWith("/cdn/")).length).toBe(1);
  }, T);

  it("answers from the cache without any request", async () => {
    const repo = addRepo("org/cached", [["config.json", config], ["model.safetensors", weights, true]]);
    const first = await resolveModel("org/cached", opts());
    const count = fakeHub.log.length;
    expect(await resolveModel("org/cached", opts())).toBe(first);
    expect(await resolveModel("org/cached", opts({ revision: repo.commit }))).toBe(first);
    expect(await resolveModel("org/cached", opts({ allowPatterns: "*.json" }))).toBe(first);
    expect(fakeHub.log.length).toBe(count);
  }, T);

  it("fetches only allowPatterns, and the rest later when asked", async () => {
    const repo = addRepo("org/patterns", [["config.json", config], ["model.safetensors", weights, true], ["unet/config.json", "{}"], ["unet/w.bin", "abc"]]);
    const dir = await resolveModel("org/patterns", opts({ allowPatterns: ["config.json", "unet/"] }));
    expect(existsSync(join(dir, "config.json"))).toBe(true);
    expect(existsSync(join(dir, "unet/w.bin"))).toBe(true);
    expect(existsSync(join(dir, "model.safetensors"))).toBe(false);
    const all = await resolveModel("org/patterns", opts({ allowPatterns: ["*.json", "*.safetensors"] }));
    expect(all).toBe(dir);
    expect(readFileSync(join(dir, "model.safetensors")).equals(weights)).toBe(true);
    expect(fakeHub.requests((l) => l.url.startsWith("/cdn/")).length).toBe(1);
    await expect(resolveModel("org/patterns", opts({ allowPatterns: "*.gguf" }))).rejects.toThrow(
      `No file of 'org/patterns' at revision 'main' matches allowPatterns ["*.gguf"]; its files are: config.json, model.safetensors, unet/config.json, unet/w.bin.`,
    );
    expect(repo.commit).toHaveLength(40);
  }, T);

  it("reuses a cache laid out by Python's huggingface_hub (1.x: no trees/)", async () => {
    const repo = addRepo("org/frompython", [["config.json", config], ["model.safetensors", weights, true]]);
    // What `snapshot_download("org/frompython")` leaves behind.
    const base = repoDir("org/frompython");
    mkdirSync(join(base, "blobs"), { recursive: true });
    mkdirSync(join(base, "refs"));
    mkdirSync(join(base, "snapshots", repo.commit), { recursive: true });
    writeFileSync(join(base, "refs", "main"), repo.commit);
    for (const [name, content] of [["config.json", Buffer.from(config)], ["model.safetensors", weights]] as const) {
      const etag = name.endsWith(".json") ? gitOid(content) : sha256(content);
      writeFileSync(join(base, "blobs", etag), content);
      symlinkSync(`../../blobs/${etag}`, join(base, "snapshots", repo.commit, name));
    }
    const offline = await resolveModel("org/frompython", opts({ offline: true }));
    expect(offline).toBe(join(base, "snapshots", repo.commit));
    expect(fakeHub.log.length).toBe(0);
    // Online, the Hub is asked for the file list; nothing is downloaded again.
    expect(await resolveModel("org/frompython", opts())).toBe(offline);
    expect(fakeHub.log.map((l) => l.method + " " + l.url)).toEqual([
      `GET /api/models/org/frompython/revision/main`,
      `GET /api/models/org/frompython/tree/${repo.commit}`,
    ]);
    expect(blobsIn("org/frompython")).toHaveLength(2);
    // huggingface_hub 2.x also writes trees/<commit>.json: with it, not even the listing is asked for.
    fakeHub.log.length = 0;
    expect(await resolveModel("org/frompython", opts())).toBe(offline);
    expect(fakeHub.log).toEqual([]);
  }, T);

  it("completes a snapshot that Python's huggingface_hub 2.x left partial", async () => {
    const repo = addRepo("org/partial", [["config.json", config], ["model.safetensors", weights, true]]);
    const base = repoDir("org/partial");
    const etag = gitOid(Buffer.from(config));
    mkdirSync(join(base, "blobs"), { recursive: true });
    mkdirSync(join(base, "refs"));
    mkdirSync(join(base, "trees"));
    mkdirSync(join(base, "snapshots", repo.commit), { recursive: true });
    writeFileSync(join(base, "refs", "main"), repo.commit);
    writeFileSync(join(base, "blobs", etag), config);
    symlinkSync(`../../blobs/${etag}`, join(base, "snapshots", repo.commit, "config.json"));
    const files = {
      "config.json": { size: config.length, blob_id: etag },
      "model.safetensors": { size: weights.length, blob_id: "b".repeat(40), lfs_sha256: sha256(weights), lfs_size: weights.length },
    };
    writeFileSync(join(base, "trees", `${repo.commit}.json`), JSON.stringify({ format_version: 1, files }, null, 1));
    // The listing says model.safetensors is missing: offline names it, online fetches only it.
    await expect(resolveModel("org/partial", opts({ offline: true }))).rejects.toThrow("lacks model.safetensors");
    const dir = await resolveModel("org/partial", opts());
    expect(readFileSync(join(dir, "model.safetensors")).equals(weights)).toBe(true);
    expect(fakeHub.log.map((l) => l.method + " " + l.url)).toEqual([
      "GET /api/models/org/partial/revision/main",
      "HEAD /org/partial/resolve/" + repo.commit + "/model.safetensors",
      "GET /org/partial/resolve/" + repo.commit + "/model.safetensors",
      "GET /cdn/" + sha256(weights),
    ]);
  }, T);

  it("offline: serves the cache, and names what is missing otherwise", async () => {
    addRepo("org/offline", [["config.json", config], ["model.safetensors", weights, true]]);
    await expect(resolveModel("org/offline", { env: { HF_HOME: home, HF_HUB_OFFLINE: "1" } })).rejects.toThrow(
      `Offline mode (HF_HUB_OFFLINE or offline: true): 'org/offline' at revision 'main' was never downloaded in the cache ${join(home, "hub")}.`,
    );
    const dir = await resolveModel("org/offline", opts({ allowPatterns: "config.json" }));
    fakeHub.log.length = 0;
    expect(await resolveModel("org/offline", opts({ offline: true, allowPatterns: "*.json" }))).toBe(dir);
    const miss = resolveModel("org/offline", { env: { HF_HOME: home, HF_HUB_OFFLINE: "true" }, allowPatterns: ["*.json", "*.safetensors"] });
    await expect(miss).rejects.toMatchObject({ name: "HubError", code: "NotCached" });
    await expect(miss).rejects.toThrow("'org/offline' at revision 'main' lacks model.safetensors in the cache");
    expect(fakeHub.log.length).toBe(0);
  }, T);

  it("says what to do on 404 and 401", async () => {
    addRepo("org/private", [["config.json", config]], { access: "private" });
    addRepo("org/gated", [["config.json", config]], { access: "gated" });
    addRepo("org/ghost", [["config.json", config]], { ghost: "model.safetensors" });
    const e = fakeHub.endpoint;
    await expect(resolveModel("org/missing", opts())).rejects.toThrow(
      `Repository 'org/missing' was not found on ${e} (HTTP 404). Check the id (owner/name, as in the repo's URL). If it is private or gated, set HF_TOKEN`,
    );
    await expect(resolveModel("org/private", opts())).rejects.toMatchObject({ code: "RepoNotFound", status: 401 });
    await expect(resolveModel("org/private", opts())).rejects.toThrow("(HTTP 401). Check the id (owner/name, as in the repo's URL). If it is private or gated, set HF_TOKEN");
    await expect(resolveModel("org/private", opts({ token: "hf_wrong" }))).rejects.toThrow(
      `The Hub rejected your token for 'org/private' (HTTP 401): it is invalid or expired`,
    );
    await expect(resolveModel("org/gated", opts({ token: TOKEN }))).rejects.toThrow(
      `Access to 'config.json' in 'org/gated' is restricted (HTTP 403): the repo is gated or your token lacks access. Accept its terms at ${e}/org/gated`,
    );
    await expect(resolveModel("org/ghost", opts())).rejects.toThrow(
      `File 'model.safetensors' does not exist in 'org/ghost' at revision 'main' (HTTP 404).`,
    );
    await expect(resolveModel("org/ghost", opts({ revision: "v9" }))).rejects.toThrow(
      `Revision 'v9' does not exist in 'org/ghost' (HTTP 404). Pass an existing branch, tag or commit hash as revision. (server said: Invalid rev id: v9)`,
    );
    // The token from HF_TOKEN, then from $HF_HOME/token.
    expect(await resolveModel("org/private", { ...opts(), env: { HF_HOME: home, HF_ENDPOINT: e, HF_TOKEN: TOKEN } })).toContain("models--org--private");
    writeFileSync(join(home, "token"), `${TOKEN}\n`);
    rmSync(join(home, "hub"), { recursive: true });
    fakeHub.log.length = 0;
    await resolveModel("org/private", opts());
    expect(fakeHub.log.every((l) => l.auth === `Bearer ${TOKEN}`)).toBe(true);
  }, T);

  it("says when the Hub cannot be reached, and falls back to the cache", async () => {
    addRepo("org/net", [["config.json", config]]);
    const closed = createServer();
    await new Promise<void>((ok) => closed.listen(0, "127.0.0.1", ok));
    const dead = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((ok) => closed.close(() => ok()));
    await expect(resolveModel("org/net", opts({ endpoint: dead }))).rejects.toThrow(
      `Could not reach the Hugging Face Hub at ${dead} for 'org/net' (ECONNREFUSED). Check your network connection and HF_ENDPOINT, or set HF_HUB_OFFLINE=1`,
    );
    // A snapshot from an earlier run (here without Tessera's file list) still serves.
    const dir = await resolveModel("org/net", opts());
    rmSync(join(repoDir("org/net"), "trees"), { recursive: true });
    expect(await resolveModel("org/net", opts({ endpoint: dead }))).toBe(dir);
  }, T);

  it("resumes an interrupted download with a Range request, never showing a partial file", async () => {
    const repo = addRepo("org/resume", [["config.json", config], ["model.safetensors", weights, true]]);
    const hash = sha256(weights);
    fakeHub.cuts.set(hash, { bytes: 120_000, times: 1 });
    const failed = resolveModel("org/resume", opts({ retries: 0 }));
    await expect(failed).rejects.toMatchObject({ name: "HubError", code: "Interrupted" });
    await expect(failed).rejects.toThrow(/Download of 'model\.safetensors' from 'org\/resume' stopped after \d+ of 300000 bytes .*call resolveModel again to resume it\./);
    const blob = join(repoDir("org/resume"), "blobs", hash);
    expect(existsSync(blob)).toBe(false);
    expect(existsSync(join(repoDir("org/resume"), "snapshots", repo.commit, "model.safetensors"))).toBe(false);
    const partial = readFileSync(`${blob}.incomplete`);
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.equals(weights.subarray(0, partial.length))).toBe(true);

    fakeHub.log.length = 0;
    const dir = await resolveModel("org/resume", opts());
    expect(readFileSync(join(dir, "model.safetensors")).equals(weights)).toBe(true);
    expect(fakeHub.requests((l) => l.url.startsWith("/cdn/")).map((l) => l.range)).toEqual([`bytes=${partial.length}-`]);
    expect(existsSync(`${blob}.incomplete`)).toBe(false);
    expect(lstatSync(join(dir, "model.safetensors")).isSymbolicLink()).toBe(true);
  }, T);

  it("retries within one call, resuming where the connection dropped", async () => {
    addRepo("org/retry", [["model.safetensors", weights, true]]);
    fakeHub.cuts.set(sha256(weights), { bytes: 100_000, times: 2 });
    const dir = await resolveModel("org/retry", opts({ retries: 2 }));
    expect(readFileSync(join(dir, "model.safetensors")).equals(weights)).toBe(true);
    const ranges = fakeHub.requests((l) => l.url.startsWith("/cdn/")).map((l) => l.range);
    expect(ranges).toHaveLength(3);
    expect(ranges[0]).toBeUndefined();
    expect(ranges.slice(1).every((r) => /^bytes=\d+-$/.test(r ?? ""))).toBe(true);
  }, T);

  it("discards a download whose sha256 is wrong", async () => {
    addRepo("org/corrupt", [["model.safetensors", weights, true]]);
    const bad = Buffer.from(weights);
    bad[1234] ^= 0xff;
    fakeHub.corrupt.set(sha256(weights), bad);
    await expect(resolveModel("org/corrupt", opts())).rejects.toMatchObject({ code: "Integrity" });
    await expect(resolveModel("org/corrupt", opts())).rejects.toThrow(
      `Downloaded 'model.safetensors' from 'org/corrupt' has sha256 ${sha256(bad)} where the Hub announced ${sha256(weights)}; the file was discarded.`,
    );
    expect(blobsIn("org/corrupt")).toEqual([]);
    fakeHub.corrupt.clear();
    expect(readFileSync(join(await resolveModel("org/corrupt", opts()), "model.safetensors")).equals(weights)).toBe(true);
  }, T);

  it("is safe when several calls resolve the same repo at once", async () => {
    addRepo("org/concurrent", [["config.json", config], ["model.safetensors", weights, true]]);
    const dirs = await Promise.all([0, 1, 2, 3].map(() => resolveModel("org/concurrent", opts())));
    expect(new Set(dirs).size).toBe(1);
    expect(readFileSync(join(dirs[0], "model.safetensors")).equals(weights)).toBe(true);
    expect(fakeHub.requests((l) => l.url.startsWith("/cdn/")).length).toBe(1); // one writer per blob
    expect(blobsIn("org/concurrent")).toHaveLength(2);
    expect(readdirSync(join(home, "hub", ".locks", hub.repoFolderName("org/concurrent")))).toEqual([]);
  }, T);
});

describe("resolveModel arguments and settings", () => {
  it("returns local folders and files as they are", async () => {
    const folder = join(root, "local-model");
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, "model.gguf"), "GGUF");
    expect(await resolveModel(folder)).toBe(folder);
    expect(await resolveModel(join(folder, "model.gguf"))).toBe(join(folder, "model.gguf"));
    await expect(resolveModel(join(folder, "absent"))).rejects.toThrow(
      `Model path '${join(folder, "absent")}' does not exist (looked for ${join(folder, "absent")}). Pass an existing folder or file, or a Hugging Face repo id such as 'org/name'.`,
    );
    await expect(resolveModel("weights.gguf")).rejects.toThrow("Model path 'weights.gguf' does not exist");
  }, T);

  it("rejects malformed repo ids, revisions and patterns", async () => {
    for (const bad of ["org/name/extra", "org--x/name", "org/na..me", "-org/name", "org/name.git", "a b/c"]) {
      await expect(resolveModel(bad, opts())).rejects.toThrow(`'${bad}' is neither an existing path nor a valid Hugging Face repo id`);
    }
    await expect(resolveModel("", opts())).rejects.toThrow("model must be a local folder, a file, or a Hugging Face repo id");
    await expect(resolveModel("org/name", opts({ revision: "../x" }))).rejects.toThrow(`revision must be a branch, tag or commit hash such as 'main'; got "../x".`);
    await expect(resolveModel("org/name", opts({ allowPatterns: [] }))).rejects.toThrow("allowPatterns must be a non-empty glob or list of globs");
    await expect(resolveModel("org/name", opts({ retries: -1 }))).rejects.toThrow("retries must be an integer >= 0; got -1.");
    await expect(resolveModel("org/name", opts({ concurrency: 0 }))).rejects.toThrow("concurrency must be an integer >= 1; got 0.");
    expect(fakeHub.log.length).toBe(0);
    expect(hub.validRepoId("gpt2")).toBe(true);
    expect(hub.validRepoId("TheOrg/Model-1.5_b")).toBe(true);
  }, T);

  it("reads HF_HOME, HF_HUB_CACHE, HF_ENDPOINT, HF_TOKEN and HF_HUB_OFFLINE; options win", () => {
    const env = { HF_HOME: "/h", HF_ENDPOINT: "http://127.0.0.1:9/", HF_TOKEN: "hf_a", HF_HUB_OFFLINE: "1" };
    expect(hub.hubSettings({ env })).toEqual({ cacheDir: "/h/hub", endpoint: "http://127.0.0.1:9", token: "hf_a", offline: true });
    expect(hub.hubSettings({ env: { ...env, HF_HUB_CACHE: "/c", HF_HUB_OFFLINE: "0" } })).toMatchObject({ cacheDir: "/c", offline: false });
    expect(hub.hubSettings({ env, cacheDir: "/o", endpoint: "http://127.0.0.1:8", token: false, offline: false })).toEqual({
      cacheDir: "/o",
      endpoint: "http://127.0.0.1:8",
      token: undefined,
      offline: false,
    });
    expect(hub.hubSettings({ env: { HF_HOME: "/nowhere" } }).endpoint).toBe("https://huggingface.co");
    expect(() => hub.hubSettings({ env: { HF_ENDPOINT: "ftp://x" } })).toThrow("Hub endpoint 'ftp://x' is not an http(s) URL");
  });
});
