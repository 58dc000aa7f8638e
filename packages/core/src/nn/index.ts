// nn: Module and layers.
export {};
