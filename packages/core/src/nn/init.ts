// Initial values of layer parameters (as MLX initializes them). Graph nodes are lazy, so a model
// built and then given checkpoint weights never computes these.
import type { DType } from "../dtype.js";
import { full } from "../ops/creation.js";
import * as random from "../random.js";
import type { Tensor } from "../tensor.js";

/** Uniform in [-bound, bound). */
export function uniformInit(shape: readonly number[], bound: number, dtype: DType): Tensor {
  return random.uniform(shape, { low: -bound, high: bound, dtype });
}

/** Normal with standard deviation `std`. */
export function normalInit(shape: readonly number[], std: number, dtype: DType): Tensor {
  return random.normal(shape, { scale: std, dtype });
}

export function constantInit(shape: readonly number[], value: number, dtype: DType): Tensor {
  return full(shape, value, dtype);
}
