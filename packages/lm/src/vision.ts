// `lm serve` on a vision-language model folder: @tessera/vlm is loaded only then, by name, so that
// @tessera/lm does not depend on it (vlm depends on lm); without it installed, a clear Error.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { ServedModel } from "./server/model.js";

/** Whether `path` is a model folder whose config.json describes a vision tower (vision_config). */
export function isVisionFolder(path: string): boolean {
  const config = join(path, "config.json");
  if (!existsSync(path) || !statSync(path).isDirectory() || !existsSync(config)) return false;
  try {
    return typeof (JSON.parse(readFileSync(config, "utf8")) as { vision_config?: unknown }).vision_config === "object";
  } catch {
    return false;
  }
}

interface VlmModule {
  loadVlm(folder: string): Promise<unknown>;
  servedVlm(vlm: unknown, id?: string): ServedModel;
}

/** A vision-language folder loaded with @tessera/vlm and adapted for createServer; undefined for other models. */
export async function loadServedVision(path: string): Promise<ServedModel | undefined> {
  if (!isVisionFolder(path)) return undefined;
  const name = "@tessera/vlm";
  let vlm: VlmModule;
  try {
    vlm = (await import(name)) as VlmModule;
  } catch (e) {
    throw new Error(`${path} is a vision-language model: serving it needs ${name} installed (${(e as Error).message})`);
  }
  return vlm.servedVlm(await vlm.loadVlm(path), path);
}
