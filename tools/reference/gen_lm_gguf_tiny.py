"""GGUF files of the tiny random-weight checkpoints (test/fixtures/lm/<arch>/, gen_lm_models.py) made
as llama.cpp users make them, and llama.cpp's greedy tokens on each, for packages/lm/test/gguf-tiny.test.ts.

- F16: llama.cpp's convert_hf_to_gguf.py from llama-cpp-python 0.3.36's source distribution (which
  vendors llama.cpp whole). The tiny byte-level BPE tokenizer is not one llama.cpp knows by hash, so
  its pre-tokenizer is declared "gpt-2" (the BPE regex it was trained with is GPT-2's ByteLevel one).
- Q8_0, Q4_0, Q4_K_M: the built package's llama_model_quantize on the F16 file (tensors whose rows
  are not whole 256-blocks fall back as llama.cpp decides).
- Tokenization: llama.cpp's of gen_lm_gemma3_real.py's strings on the F16 files (byte-level BPE
  vocabularies, tokenizer.ggml.model "gpt2"), with special tokens parsed.
- Reference: llama-cpp-python on each file, 2 threads: the fixture's prompt ids (with BOS as the
  tiny reference has it), then STEPS greedy tokens (argmax of llama.cpp's logits) and the top-1/top-2
  margin at each step.

    pip download --no-deps --no-binary :all: llama-cpp-python==0.3.36   # the sdist (for the converter)
    pip install llama-cpp-python==0.3.36
    python3 tools/reference/gen_lm_gguf_tiny.py path/to/llama_cpp_python-0.3.36.tar.gz

Writes test/fixtures/lm/gguf/<arch>-<type>.gguf and test/fixtures/lm/gguf/reference.json.
"""
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

import numpy as np

from common import FIXTURES

OUT = os.path.join(FIXTURES, "lm", "gguf")
QUANTS = {"Q8_0": 7, "Q4_0": 2, "Q4_K_M": 15}  # llama_ftype values
# Each architecture's quantized copies (one for mistral, to keep the fixtures small; gemma2 is left out:
# its converter reads only a SentencePiece tokenizer.model).
ARCHS = {"llama": list(QUANTS), "qwen2": list(QUANTS), "qwen3": list(QUANTS), "gemma3_text": list(QUANTS),
         "mistral": ["Q4_K_M"]}
STEPS = 20

# Runs convert_hf_to_gguf.main() with the tiny tokenizer's pre-tokenizer declared as GPT-2's.
CONVERT = r"""
import sys
sys.path.insert(0, sys.argv[1])
sys.argv = [sys.argv[1] + "/convert_hf_to_gguf.py"] + sys.argv[2:]
import convert_hf_to_gguf
from conversion.base import TextModel
TextModel.get_vocab_base_pre = lambda self, tokenizer: "gpt-2"
convert_hf_to_gguf.main()
"""



def last_logits(llm):
    """The logits of the last evaluated token (llama-cpp-python keeps llm.scores only with logits_all)."""
    import llama_cpp
    ptr = llama_cpp.llama_get_logits_ith(llm.ctx, -1)
    return np.ctypeslib.as_array(ptr, shape=(llm.n_vocab(),)).astype(np.float32)

def llama_cpp_dir(sdist, work):
    with tarfile.open(sdist) as t:
        t.extractall(work, filter="data")
    root = next(os.path.join(work, d) for d in os.listdir(work) if d.startswith("llama_cpp_python"))
    return os.path.join(root, "vendor", "llama.cpp")


def convert(llama_cpp, arch, work):
    src = os.path.join(FIXTURES, "lm", arch)
    folder = os.path.join(work, arch)
    shutil.copytree(src, folder)
    tok = os.path.join(folder, "tokenizer.json")
    if not os.path.exists(tok):  # the tiny sets share one tokenizer (vocab 512)
        shutil.copy(os.path.join(FIXTURES, "lm", "llama", "tokenizer.json"), tok)
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<bos>", "eos_token": "<eos>", "pad_token": "<pad>", "unk_token": "<pad>", "add_bos_token": False}, f)
    out = os.path.join(OUT, f"{arch}-F16.gguf")
    subprocess.run([sys.executable, "-c", CONVERT, llama_cpp, folder, "--outtype", "f16", "--outfile", out], check=True)
    return out


def quantize(f16, arch, name, ftype):
    import llama_cpp
    out = os.path.join(OUT, f"{arch}-{name}.gguf")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.nthread = 2
    rc = llama_cpp.llama_model_quantize(f16.encode(), out.encode(), params)
    if rc != 0:
        raise RuntimeError(f"llama_model_quantize {name} of {f16} failed ({rc})")
    return out


def greedy(path, prompt):
    from llama_cpp import Llama
    llm = Llama(model_path=path, n_ctx=256, n_threads=2, n_threads_batch=2, seed=0, verbose=False)
    llm.reset()
    llm.eval(prompt)
    tokens, margins = [], []
    for _ in range(STEPS):
        logits = last_logits(llm)
        top2 = np.argsort(logits)[-2:]
        tokens.append(int(top2[1]))
        margins.append(round(float(logits[top2[1]] - logits[top2[0]]), 5))
        llm.eval([tokens[-1]])
    return tokens, margins


def tokenize(path):
    from llama_cpp import Llama
    from gen_lm_gemma3_real import STRINGS
    vocab = Llama(model_path=path, vocab_only=True, verbose=False)
    return [{"text": t, "ids": vocab.tokenize(t.encode("utf-8"), add_bos=False, special=True)} for t in STRINGS]


def main():
    import llama_cpp
    os.makedirs(OUT, exist_ok=True)
    ref = {"about": f"llama.cpp (llama-cpp-python {llama_cpp.__version__}) greedy tokens on GGUF files of the tiny "
                    "checkpoints; tools/reference/gen_lm_gguf_tiny.py", "files": {}, "tokenize": {}}
    with tempfile.TemporaryDirectory() as work:
        llama_cpp_src = llama_cpp_dir(sys.argv[1], work)
        for arch, quants in ARCHS.items():
            with open(os.path.join(FIXTURES, "lm", arch, "reference.json")) as f:
                prompt = json.load(f)["prompt"]
            files = {"F16": convert(llama_cpp_src, arch, work)}
            for name in quants:
                files[name] = quantize(files["F16"], arch, name, QUANTS[name])
            ref["tokenize"][os.path.basename(files["F16"])] = tokenize(files["F16"])
            for name, path in files.items():
                tokens, margins = greedy(path, prompt)
                print(arch, name, os.path.getsize(path), tokens, min(margins))
                ref["files"][os.path.basename(path)] = {"arch": arch, "type": name, "prompt": prompt, "tokens": tokens, "margins": margins}
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1)


if __name__ == "__main__":
    main()
