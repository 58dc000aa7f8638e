// Checks that Tessera's resolveModel and Python's huggingface_hub share one cache: both download the
// same small repo from a fake Hub on 127.0.0.1 (nothing else is contacted), the two cache folders
// must hold the same files, symlinks, refs and trees/ listing, and each must read the other's cache
// offline. Not part of the test suite (CI runs no Python):
//   python3 -m venv /tmp/hfvenv && /tmp/hfvenv/bin/pip install huggingface_hub
//   npx tsx tools/reference/check_hub_cache.ts /tmp/hfvenv/bin/python
// Checked with huggingface_hub 2.4.0: identical layout, byte-identical trees/<commit>.json.
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { resolveModel } from "../../packages/core/src/hub/index.js";

const python = process.argv[2] ?? "python3";
const files: Record<string, { body: Buffer; lfs: boolean }> = {
  "config.json": { body: Buffer.from('{"model_type":"llama"}'), lfs: false },
  "model.safetensors": { body: randomBytes(200_000), lfs: true },
  "sub/tok.json": { body: Buffer.from("{}"), lfs: false },
};
const commit = createHash("sha1").update("check").digest("hex");
const gitOid = (b: Buffer) => createHash("sha1").update(`blob ${b.length}\0`).update(b).digest("hex");
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
let cdn = "";

function json(res: ServerResponse, value: unknown): void {
  res.writeHead(200, { "Content-Type": "application/json" });
  res.end(JSON.stringify(value));
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
  if (path.startsWith("/api/models/org/x/revision/")) {
    return json(res, { id: "org/x", _id: "1", sha: commit, siblings: Object.keys(files).map((rfilename) => ({ rfilename })) });
  }
  if (path.startsWith("/api/models/org/x/tree/")) {
    const entries = Object.entries(files).map(([p, f]) => ({
      type: "file",
      path: p,
      size: f.body.length,
      oid: gitOid(f.body),
      ...(f.lfs && { lfs: { oid: sha256(f.body), size: f.body.length, pointerSize: 130 } }),
    }));
    return json(res, [{ type: "directory", path: "sub", oid: "0".repeat(40), size: 0 }, ...entries]);
  }
  const resolved = /^\/org\/x\/resolve\/[^/]+\/(.+)$/.exec(path);
  const file = resolved && files[resolved[1]];
  if (file?.lfs) {
    const hash = sha256(file.body);
    res.writeHead(302, { Location: `${cdn}/cdn/${hash}`, "X-Repo-Commit": commit, "X-Linked-Etag": `"${hash}"`, "X-Linked-Size": String(file.body.length) });
    return void res.end();
  }
  const blob = /^\/cdn\/(\w+)$/.exec(path);
  const body = file ? file.body : blob && Object.values(files).find((f) => sha256(f.body) === blob[1])?.body;
  if (!body) {
    res.writeHead(404, { "X-Error-Code": "EntryNotFound" });
    return void res.end();
  }
  res.writeHead(200, { "X-Repo-Commit": commit, ETag: `"${file ? gitOid(body) : sha256(body)}"`, "Content-Length": String(body.length) });
  res.end(req.method === "HEAD" ? undefined : body);
}

async function listen(): Promise<[Server, string]> {
  const server = createServer(handle);
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return [server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`];
}

/** Files, symlink targets and refs of a cache, without lock files and the CACHEDIR.TAG wording. */
function layout(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const rel = relative(dir, p);
      if (rel.startsWith(".locks") || rel === "CACHEDIR.TAG") continue;
      const s = lstatSync(p);
      if (s.isSymbolicLink()) out.push(`${rel} -> ${readlinkSync(p)}`);
      else if (s.isDirectory()) walk(p);
      else out.push(`${rel} ${rel.includes("/refs/") || rel.includes("/trees/") ? readFileSync(p, "utf8") : s.size}`);
    }
  };
  walk(dir);
  return out;
}

async function pythonSnapshot(endpoint: string, cache: string, offline: boolean): Promise<string> {
  const env = { ...process.env, HF_ENDPOINT: endpoint, HF_HUB_CACHE: cache, HF_HUB_OFFLINE: offline ? "1" : "0", HF_HUB_DISABLE_XET: "1" };
  const code = "from huggingface_hub import snapshot_download; print(snapshot_download('org/x'))";
  return (await promisify(execFile)(python, ["-c", code], { env })).stdout.trim();
}

const [hub, endpoint] = await listen();
const [cdnServer, cdnUrl] = await listen();
cdn = cdnUrl;
const pyCache = mkdtempSync(join(tmpdir(), "hub-python-"));
const tsCache = mkdtempSync(join(tmpdir(), "hub-tessera-"));
const pyDir = await pythonSnapshot(endpoint, pyCache, false);
const tsDir = await resolveModel("org/x", { cacheDir: tsCache, endpoint, progress: false });
const [a, b] = [layout(pyCache), layout(tsCache)];
const checks = {
  "same layout": JSON.stringify(a) === JSON.stringify(b),
  "tessera reads python's cache offline": (await resolveModel("org/x", { cacheDir: pyCache, offline: true })) === pyDir,
  "python reads tessera's cache offline": (await pythonSnapshot(endpoint, tsCache, true)) === tsDir,
};
hub.close();
cdnServer.close();
if (!checks["same layout"]) console.log(`python:\n  ${a.join("\n  ")}\ntessera:\n  ${b.join("\n  ")}`);
for (const [name, ok] of Object.entries(checks)) console.log(`${ok ? "ok  " : "FAIL"} ${name}`);
process.exit(Object.values(checks).every(Boolean) ? 0 : 1);
