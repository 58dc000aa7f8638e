// Filled in by the compile work; see ARCHITECTURE.md.
export {};
