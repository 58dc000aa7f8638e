// The typed face of the native addon. Only @tessera/core imports it.
import { createRequire } from "node:module";

export interface NativeTensor {
  shape(): number[];
  dtype(): string;
  evaluated(): boolean;
  /** Row-major bytes; halves come back as float32 unless `raw`. */
  read(raw?: boolean): ArrayBuffer;
  dispose(): void;
  disposed(): boolean;
  id(): number;
}

export interface NativeMemoryStats {
  active: number;
  peak: number;
  cache: number;
  limit: number;
}

export interface NativeAddon {
  op(name: string, inputs: NativeTensor[], attrs?: object): NativeTensor;
  fromBytes(data: ArrayBufferView, shape: readonly number[], dtype: string): NativeTensor;
  eval(tensors: NativeTensor[]): Promise<void>;
  evalSync(tensors: NativeTensor[]): void;
  memoryStats(): NativeMemoryStats;
  memoryControl(what: "clearCache" | "resetPeak" | "setLimit" | "setCacheLimit", value?: number): void;
  threads(n?: number): number;
  isa(level?: string): string;
  isaLevels(): string[];
  opNames: string[];
  [extra: string]: unknown;
}

const require = createRequire(import.meta.url);
export const native = require("@tessera/native") as NativeAddon;
