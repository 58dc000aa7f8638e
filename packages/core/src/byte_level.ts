// GPT-2's byte-level alphabet, shared by every byte-level BPE vocabulary (Whisper's tiktoken files,
// Hugging Face tokenizer.json files with a ByteLevel pre-tokenizer, llama.cpp's "gpt2" GGUF vocabularies).

/** GPT-2's reversible byte -> printable-unicode map used by Hugging Face byte-level vocabularies. */
export function bytesToUnicode(): Map<number, string> {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++)
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  return new Map(bs.map((b, i) => [b, String.fromCharCode(cs[i])]));
}
