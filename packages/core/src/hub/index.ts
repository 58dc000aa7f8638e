// hub: models from the Hugging Face Hub, through the huggingface_hub cache layout.
export { resolveModel } from "./resolve.js";
export type { ResolveModelOptions } from "./resolve.js";
export { HubError } from "./errors.js";
export type { HubErrorCode } from "./errors.js";
export { hubSettings, hfHome, DEFAULT_ENDPOINT } from "./settings.js";
export type { HubSettings, HubSettingsOptions } from "./settings.js";
export { repoFolderName } from "./cache.js";
export { validRepoId } from "./patterns.js";
export type { DownloadProgress } from "./progress.js";
