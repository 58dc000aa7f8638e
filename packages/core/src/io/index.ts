// io: weights files. Everything is memory-mapped; headers are parsed here with bounds checks and
// tensors view the mapping without copying where the dtype allows.
export { MappedFile, WeightsFileError } from "./mapped.js";
export { loadSafetensors, loadSafetensorsIndex, saveSafetensors } from "./safetensors.js";
export type { Weights } from "./safetensors.js";
export { loadWeights } from "./weights.js";
export { readNpz, readNpy } from "./npz.js";
export { GGUFFile, readGGUF } from "./gguf.js";
export type { GGUFValue } from "./gguf.js";
export { DEQUANTIZABLE, GGML_TYPES, GGMLTensors, dequantize, ggmlType } from "./ggml_types.js";
export type { GGMLTensorInfo, GGMLTypeInfo, QuantType } from "./ggml_types.js";
export { WhisperGgmlFile, readWhisperGgml } from "./whisper_ggml.js";
export type { WhisperHparams } from "./whisper_ggml.js";
