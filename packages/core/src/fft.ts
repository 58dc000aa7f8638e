// Filled in by the fft work; see ARCHITECTURE.md.
export {};
