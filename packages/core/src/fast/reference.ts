// Composite versions of the fused ops, made of plain ops: the definition each fused kernel is tested against.
export {};
