// Filled in by the fast work; see ARCHITECTURE.md.
export {};
