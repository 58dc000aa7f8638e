// @tessera/whisper: speech transcription with Whisper.
export * from "./model/index.js";
