/** Decoded audio before mixing and resampling: one Float32Array per channel, samples in [-1, 1]. */
export interface DecodedAudio {
  channelData: Float32Array[];
  sampleRate: number;
}
