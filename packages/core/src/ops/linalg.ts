// Filled in by the linalg work; see ARCHITECTURE.md.
export {};
