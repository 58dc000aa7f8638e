// Sequential: applies layers (Modules with forward, or plain functions) in order.
import type { Tensor } from "../tensor.js";
import { Module } from "./module.js";

/** A Module that maps one Tensor to one Tensor. */
export interface UnaryLayer extends Module {
  forward(x: Tensor): Tensor;
}
export type SequentialLayer = UnaryLayer | ((x: Tensor) => Tensor);

/** Calls each layer on the previous one's output; its parameters are named "layers.<i>.<name>". */
export class Sequential extends Module {
  layers: SequentialLayer[];

  constructor(...layers: SequentialLayer[]) {
    super();
    layers.forEach((l, i) => {
      if (typeof l !== "function" && !(l instanceof Module && typeof (l as UnaryLayer).forward === "function"))
        throw new Error(`Sequential: layer ${i} must be a Module with forward() or a function`);
    });
    this.layers = layers;
  }

  forward(x: Tensor): Tensor {
    let y = x;
    for (const l of this.layers) y = typeof l === "function" ? l(y) : l.forward(y);
    return y;
  }
}
