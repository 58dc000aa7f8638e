// @tessera/diffusion: Stable Diffusion on Tessera (being built; see issue "@tessera/diffusion").
export {};
