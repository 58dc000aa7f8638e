// Where the Hub cache lives, which Hub to talk to, and with which token: huggingface_hub's HF_*
// environment variables (the only environment configuration in Tessera), overridden by options.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** Hub settings that options can override; unset fields come from the HF_* environment. */
export interface HubSettingsOptions {
  /** The hub cache folder (`models--org--name/...` inside). Default: `HF_HUB_CACHE`, else `$HF_HOME/hub`. */
  cacheDir?: string;
  /** The Hub's base URL. Default: `HF_ENDPOINT`, else `https://huggingface.co`. */
  endpoint?: string;
  /** Access token; `false` sends none. Default: `HF_TOKEN`, else the token file `$HF_HOME/token`. */
  token?: string | false;
  /** Only use the cache, never the network. Default: `HF_HUB_OFFLINE` is 1/true/yes/on. */
  offline?: boolean;
  /** The environment to read HF_* variables from (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Settings after applying options over the environment. */
export interface HubSettings {
  cacheDir: string;
  endpoint: string;
  token: string | undefined;
  offline: boolean;
}

export const DEFAULT_ENDPOINT = "https://huggingface.co";

const TRUE_VALUES = new Set(["1", "on", "yes", "true"]);

function nonEmpty(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v ? v : undefined;
}

/** `HF_HOME`, default `~/.cache/huggingface` (as huggingface_hub, without XDG: HF_* only). */
export function hfHome(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return resolve(nonEmpty(env.HF_HOME) ?? join(homedir(), ".cache", "huggingface"));
}

function readTokenFile(path: string): string | undefined {
  try {
    return nonEmpty(readFileSync(path, "utf8"));
  } catch {
    return undefined; // no token file: anonymous access
  }
}

/** Resolves the Hub settings: explicit options first, then HF_* variables, then defaults. */
export function hubSettings(options: HubSettingsOptions = {}): HubSettings {
  const env = options.env ?? process.env;
  const home = hfHome(env);
  const cacheDir = resolve(options.cacheDir ?? nonEmpty(env.HF_HUB_CACHE) ?? join(home, "hub"));
  const endpoint = (options.endpoint ?? nonEmpty(env.HF_ENDPOINT) ?? DEFAULT_ENDPOINT).replace(/\/+$/, "");
  if (!/^https?:\/\/[^/]/.test(endpoint)) {
    throw new Error(`Hub endpoint '${endpoint}' is not an http(s) URL; fix the endpoint option or HF_ENDPOINT.`);
  }
  let token: string | undefined;
  if (options.token === false) token = undefined;
  else if (options.token !== undefined) token = nonEmpty(options.token);
  else token = nonEmpty(env.HF_TOKEN) ?? readTokenFile(nonEmpty(env.HF_TOKEN_PATH) ?? join(home, "token"));
  const offline = options.offline ?? TRUE_VALUES.has((env.HF_HUB_OFFLINE ?? "").trim().toLowerCase());
  return { cacheDir, endpoint, token, offline };
}
