"""GGUF SD checkpoints as stable-diffusion.cpp's `sd -M convert --type q8_0 / q4_0` writes them, from the
tiny single-file fixture (test/fixtures/diffusion/sd15.safetensors, original SD key names, float16).

sd.cpp's rules (model.cpp, ModelLoader::save_to_gguf_file / tensor_should_be_converted): every tensor keeps
its original name; it is converted to the target type unless its row (ne[0], the last torch dim) is not a
whole number of blocks, its name ends in ".bias" or ".scale", or it is a UNet "time_embed." / "label_emb."
tensor; unconverted tensors keep the file's type (float16 here). No KV metadata besides what the writer
requires (gguf-py always writes general.architecture; sd.cpp's files have none, and we ignore it).
Quantization is gguf-py's (bit-exact with ggml's reference quantizers).
Run: python tools/reference/gen_diffusion_gguf.py
"""
import os

import gguf
import numpy as np
from safetensors.numpy import load_file

from common import FIXTURES

UNET_KEPT = ("time_embed.", "label_emb.")


def converted(name, shape, qtype):
    block = gguf.GGML_QUANT_SIZES[qtype][0]
    if not shape or shape[-1] % block:
        return False
    if name.endswith(".bias") or name.endswith(".scale"):
        return False
    return not any(k in name for k in UNET_KEPT)


def main():
    src = load_file(os.path.join(FIXTURES, "diffusion", "sd15.safetensors"))
    # q4_0 only, to keep the fixtures small (q8_0 follows the same rules; core tests both block types).
    for tname, qtype in [("q4_0", gguf.GGMLQuantizationType.Q4_0)]:
        path = os.path.join(FIXTURES, "diffusion", f"sd15.{tname}.gguf")
        w = gguf.GGUFWriter(path, "sd")
        n = 0
        for name, t in src.items():
            if converted(name, t.shape, qtype):
                w.add_tensor(name, gguf.quants.quantize(t.astype(np.float32), qtype), raw_dtype=qtype)
                n += 1
            else:
                w.add_tensor(name, t)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        print(f"wrote {path} ({os.path.getsize(path) // 1024} KiB, {n} of {len(src)} tensors {tname})")


if __name__ == "__main__":
    main()
