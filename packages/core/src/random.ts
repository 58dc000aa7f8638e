// Filled in by the random work; see ARCHITECTURE.md.
export {};
