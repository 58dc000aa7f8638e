// whisper.cpp's legacy ggml model files (magic "ggml"): hparams, mel filters, vocab, tensors.
import type { Tensor } from "../tensor.js";
import { GGML_TYPES, GGMLTensors, checkLayout, ggmlNbytes } from "./ggml_types.js";
import type { GGMLTensorInfo } from "./ggml_types.js";
import { HeaderReader, MappedFile, WeightsFileError } from "./mapped.js";

const GGML_MAGIC = 0x67676d6c;
// whisper.cpp stores ftype + 1000 * quantization version.
const QNT_VERSION_FACTOR = 1000;

/** The model dimensions, in the order whisper.cpp writes them. */
export interface WhisperHparams {
  n_vocab: number;
  n_audio_ctx: number;
  n_audio_state: number;
  n_audio_head: number;
  n_audio_layer: number;
  n_text_ctx: number;
  n_text_state: number;
  n_text_head: number;
  n_text_layer: number;
  n_mels: number;
  /** Weight type (0 f32, 1 f16, 2 q4_0, ...), without the quantization version. */
  ftype: number;
  /** Quantization version (ftype / 1000 in the file). */
  qntvr: number;
}

const HPARAMS = ["n_vocab", "n_audio_ctx", "n_audio_state", "n_audio_head", "n_audio_layer", "n_text_ctx",
  "n_text_state", "n_text_head", "n_text_layer", "n_mels"] as const;

/** A parsed whisper.cpp ggml file. Tensor names are the PyTorch state-dict keys. */
export class WhisperGgmlFile extends GGMLTensors {
  constructor(
    file: MappedFile,
    readonly hparams: WhisperHparams,
    /** Mel filterbank [n_mel, n_fft] (float32, a view of the file). */
    readonly melFilters: Tensor,
    /** Token byte strings by id (as written: raw bytes, not necessarily UTF-8). */
    readonly vocab: Uint8Array[],
    infos: GGMLTensorInfo[],
  ) {
    super(file, infos);
  }
}

function readTensorInfos(r: HeaderReader, path: string): GGMLTensorInfo[] {
  const infos: GGMLTensorInfo[] = [];
  const seen = new Set<string>();
  // Tensors follow one another until the end of the file, each: n_dims, name length, type,
  // dims (fastest first), name, data (no padding).
  while (r.remaining > 0) {
    const nDims = r.i32("a tensor's dimension count");
    const nameLen = r.i32("a tensor's name length");
    const typeId = r.i32("a tensor's type");
    if (nDims < 0 || nDims > 4) r.fail(`a tensor at offset ${r.pos - 12} has ${nDims} dimensions (expected 0 to 4)`);
    if (nameLen <= 0 || nameLen > 4096) r.fail(`a tensor at offset ${r.pos - 12} has an invalid name length ${nameLen}`);
    const ne: number[] = [];
    for (let i = 0; i < nDims; i++) {
      const d = r.i32("a tensor dimension");
      if (d < 0) r.fail(`a tensor at offset ${r.pos - 4} has a negative dimension ${d}`);
      ne.push(d);
    }
    const name = r.utf8(nameLen, "a tensor name");
    const type = GGML_TYPES.get(typeId);
    if (!type) r.fail(`tensor '${name}' has unknown ggml type ${typeId}`);
    if (seen.has(name)) r.fail(`tensor '${name}' appears twice`);
    seen.add(name);
    const shape = ne.reverse();
    const nbytes = ggmlNbytes(path, name, shape, type);
    if (nbytes > r.remaining) r.fail(`tensor '${name}' needs ${nbytes} bytes at offset ${r.pos} but the file ends at ${r.file.size}: it is truncated`);
    infos.push({ name, shape, type: type.name, typeId, offset: r.pos, nbytes });
    r.pos += nbytes;
  }
  return infos;
}

/**
 * Reads a whisper.cpp ggml model (.bin, magic 0x67676d6c): hparams, the mel filterbank, the
 * vocabulary as byte strings, and its tensors (NumPy-order shapes; f32/f16 as views, quantized
 * types as raw blocks with `dequantize`). Throws a WeightsFileError naming the file when it is
 * not such a file, is truncated, or has an unknown tensor type.
 */
export function readWhisperGgml(path: string): WhisperGgmlFile {
  const file = new MappedFile(path);
  try {
    const r = new HeaderReader(file, 0, "ggml header");
    if (file.size < 4) r.fail(`file is too small to be a whisper.cpp ggml model (${file.size} bytes)`);
    const magic = r.u32("the magic");
    if (magic !== GGML_MAGIC) r.fail(`bad magic 0x${magic.toString(16).padStart(8, "0")}: not a whisper.cpp ggml model`);
    const hp: Record<string, number> = {};
    for (const k of HPARAMS) {
      hp[k] = r.i32(k);
      if (hp[k] < 0) r.fail(`hparam ${k} is negative (${hp[k]})`);
    }
    const ftypeRaw = r.i32("ftype");
    const hparams = { ...hp, ftype: ftypeRaw % QNT_VERSION_FACTOR, qntvr: Math.trunc(ftypeRaw / QNT_VERSION_FACTOR) } as WhisperHparams;
    const nMel = r.i32("the filter count"), nFft = r.i32("the filter length");
    if (nMel < 0 || nFft < 0) r.fail(`invalid mel filterbank shape [${nMel}, ${nFft}]`);
    const melBytes = nMel * nFft * 4;
    file.checkRange(r.pos, melBytes, "the mel filterbank");
    const melFilters = file.tensor(r.pos, [nMel, nFft], "float32");
    r.pos += melBytes;
    const nVocab = r.i32("the vocabulary size");
    if (nVocab < 0 || nVocab * 4 > r.remaining) r.fail(`vocabulary size ${nVocab} does not fit in the file`);
    const vocab: Uint8Array[] = [];
    for (let i = 0; i < nVocab; i++) vocab.push(new Uint8Array(r.bytes(r.u32("a token length"), `token ${i}`)));
    const infos = readTensorInfos(r, path);
    checkLayout(file, infos);
    return new WhisperGgmlFile(file, hparams, melFilters, vocab, infos);
  } catch (e) {
    file.close();
    if (e instanceof WeightsFileError) throw e;
    throw new WeightsFileError(path, (e as Error).message);
  }
}
