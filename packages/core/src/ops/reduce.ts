// Filled in by the reduce work; see ARCHITECTURE.md.
export {};
