// The raw addon; @tessera/core wraps it with types. Nothing else should import this.
declare const native: Record<string, any>;
export = native;
