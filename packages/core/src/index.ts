// @tessera/core: lazily evaluated tensors on a native core.
export * from "./dtype.js";
export { Tensor, tensor, scalar, callOp } from "./tensor.js";
export type { Scalar, TensorLike, NestedArray, TensorOptions } from "./tensor.js";
export { tidy, keep } from "./scope.js";
export * from "./evaluate.js"; // not `export { eval } from`: esbuild (tsx) turns that into an illegal `import { eval }`
export * from "./ops/elementwise.js";
export * from "./ops/layout.js";
export * from "./ops/creation.js";
export * from "./ops/reduce.js";
export * from "./ops/linalg.js";
export * from "./compile.js";
export * as fast from "./fast.js";
export * as random from "./random.js";
export * as fft from "./fft.js";
export * as nn from "./nn/index.js";
export * as io from "./io/index.js";
export * as quant from "./quant/index.js";
export * as memory from "./memory.js";
export { numThreads, setNumThreads } from "./threads.js";
export { ISA_LEVELS, isaLevel, setIsaLevel, supportedIsaLevels } from "./isa.js";
export type { IsaLevel } from "./isa.js";
export * as hub from "./hub/index.js";
export { resolveModel } from "./hub/index.js";
export { bytesToUnicode } from "./byte_level.js";
