// @tessera/lm: LLM text generation on Tessera (being built; see issue "@tessera/lm").
export {};
