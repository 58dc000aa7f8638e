"""llama.cpp's reference on the real Gemma 3 270M Q4_K_M GGUF (tools/weights/gemma3-270m.ts) for
packages/lm/test/gguf-real.test.ts: its tokenization of varied strings and its greedy tokens for
several prompts, through llama-cpp-python 0.3.36 (which vendors llama.cpp), on 2 threads.

Tokenization: `Llama.tokenize(text, add_bos, special=True)` (control tokens in the text are parsed,
as Hugging Face tokenizers match special added tokens), with and without BOS.
Greedy: the prompt tokenized with BOS, then argmax of the last logits 32 times (llama.cpp's own
logits, float32 from its quantized kernels); the margin between the best and second-best logit at
each step is recorded too, so a divergence can be told from a near-tie, and the best 8 logits of each step.

    pip install llama-cpp-python==0.3.36      # builds llama.cpp (CMAKE_ARGS="-DGGML_NATIVE=ON")
    python3 tools/reference/gen_lm_gemma3_real.py [path/to/gemma-3-270m-q4_k_m.gguf]

Float check: transformers (GGUF loaded and dequantized to float32) on a prompt of more than 128
tokens, the last position's best logits.

Writes test/fixtures/lm/gemma3_real.json.
"""
import os
import sys

import llama_cpp
import numpy as np
from llama_cpp import Llama

from common import ROOT, write_fixture

GGUF = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    ROOT, ".cache", "weights", "gemma-3-270m-q4_k_m", "gemma-3-270m-q4_k_m.gguf")
STEPS = 32
FLOAT_TOP = 32
LONG_PROMPT = ("The history of the printing press begins in the fifteenth century, when Johannes Gutenberg "
    "combined movable metal type, oil-based ink and a wooden press adapted from those used for wine. "
    "Before him, books were copied by hand or printed from carved wooden blocks, which made them rare "
    "and expensive. Within fifty years presses had spread to more than two hundred cities across "
    "Europe, and millions of books had been printed: Bibles, grammars, almanacs, pamphlets and maps. "
    "Scholars could compare identical copies, errors could be corrected in later editions, and new "
    "ideas travelled faster than ever before. Historians still argue about how much the press caused "
    "the Reformation and the scientific revolution, but few doubt that it changed")
TOP = 8  # logits of the best TOP tokens at each step

PROMPTS = [
    "The capital of France is",
    "Once upon a time, in a small village by the sea,",
    "def fibonacci(n):\n    ",
    "Water boils at a temperature of",
    "The three primary colors are",
    "Here is a list of fruits: apple, banana,",
]

STRINGS = [
    "", " ", "  ", "   ", "\t", "\n", "\n\n", " \n ", "\r\n", "a", "A", "hello", " hello", "hello ", "Hello, world!",
    "Hello,  world!", "Hello   world    !", "The quick brown fox jumps over the lazy dog.",
    "I'm sure it's fine; they'll see, won't they?", "e.g. U.S.A. vs. U.K.", "mr. o'neil's café",
    "naïve résumé — déjà vu", "Straße, Ärger, Öl, Übel", "ﬁ ligature and Ａ fullwidth", "Ångström Å Å",
    "e\u0301 (e + combining acute)", "日本語のテキストです。", "中文文本，包含标点符号！", "한국어 문장입니다.",
    "Привет, мир! Как дела?", "Γειά σου Κόσμε", "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया", "สวัสดีชาวโลก",
    "Tiếng Việt có dấu", "emoji 😀😃😄 and 👍🏽 and 👨‍👩‍👧‍👦 family", "flags 🇫🇷🇯🇵 and ❤️ and ⭐",
    "math: ∑_{i=1}^{n} i² = n(n+1)/2, √2 ≈ 1.414, ∞, ≠, ≤", "1234567890", "3.14159265358979",
    "-42 +17 1e-5 0x1F 1,000,000", "2026-12-02T18:16:41Z", "$100.00 €50 £20 ¥1000",
    "user@example.com https://example.org/path?q=1&x=y#frag", "C:\\Users\\name\\file.txt",
    "def f(x):\n    return x * 2\n", "for (int i = 0; i < n; ++i) { sum += a[i]; }",
    "const x = { a: 1, b: [2, 3] };\nconsole.log(x?.a ?? 0);", "SELECT * FROM users WHERE id = 42;",
    "<div class=\"a\">text</div>", "#include <stdio.h>\nint main() { return 0; }",
    "    indented four", "\tindented tab", "\t\t\ttabs", "trailing spaces   ", "    ", " " * 40, "\n" * 5,
    "a\n\nb\n\n\nc", "line1\r\nline2\rline3", "word\u00a0nbsp", "zero\u200bwidth", "soft\u00adhyphen",
    "mixed\u2028separator", "\u3000ideographic space", "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n",
    "<bos>text", "<eos>", "<pad><unk><mask>", "<unused0> and <unused99>", "[multimodal]",
    "<start_of_image>", "not <a> token", "<start_of_turn", "▁", "▁▁hello", "a▁b", "<0x41>",
    "\u0000null\u0001", "\ue000 private use \uf8ff", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕞𝕒𝕥𝕙", "𠀀𠀁 rare CJK ext B", "🦙🦄🧠",
    "Ω≈ç√∫˜µ≤≥÷", "¡™£¢∞§¶•ªº–≠", "ÅÍÎÏ˝ÓÔÒÚÆ☃", "¯\\_(ツ)_/¯", "(╯°□°）╯︵ ┻━┻",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "abababababababababab", "!!!???...,,,;;;",
    "UPPERCASE lowercase CamelCase snake_case kebab-case", "don't DON'T Don't", "'quoted' \"double\" `back`",
    "«guillemets» „German“ ‘single’ “double”", "...", "…", "—", "-", "--", "---",
    "The year 1999 and 2000 and 12345", "10km 5kg 3.5°C 100%", "x=1;y=2;z=x+y",
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore.",
    "Über 90% der Befragten gaben an, dass sie mindestens einmal pro Woche Sport treiben.",
    "La inteligencia artificial está transformando el mundo de maneras inesperadas.",
    "Le cœur a ses raisons que la raison ne connaît point.", "東京は日本の首都です。Tokyo is the capital.",
]



def last_logits(llm):
    """The logits of the last evaluated token (llama-cpp-python keeps llm.scores only with logits_all)."""
    import llama_cpp
    ptr = llama_cpp.llama_get_logits_ith(llm.ctx, -1)
    return np.ctypeslib.as_array(ptr, shape=(llm.n_vocab(),)).astype(np.float32)


def float_logits(ids):
    """transformers' Gemma3ForCausalLM on the file dequantized to float32 (its own GGUF reader and
    name/norm mapping): the last position's best FLOAT_TOP logits for a prompt of more than 128
    tokens (long enough that ggufMatmul takes its exact float path)."""
    import torch
    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained(os.path.dirname(GGUF), gguf_file=os.path.basename(GGUF), dtype=torch.float32).eval()
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0, -1].numpy()
    top = np.argsort(logits)[::-1][:FLOAT_TOP]
    lse = float(np.log(np.sum(np.exp(logits.astype(np.float64) - logits.max()))) + logits.max())
    return {"promptIds": ids, "ids": [int(i) for i in top], "logits": [round(float(logits[i]), 5) for i in top], "logsumexp": round(lse, 5)}

def main():
    print("llama-cpp-python", llama_cpp.__version__)
    vocab = Llama(model_path=GGUF, vocab_only=True, verbose=False)
    tokenize = []
    for s in STRINGS:
        b = s.encode("utf-8")
        tokenize.append({
            "text": s,
            "ids": vocab.tokenize(b, add_bos=False, special=True),
            "idsBos": vocab.tokenize(b, add_bos=True, special=True),
        })
    vocab_tokens = vocab.tokenize(LONG_PROMPT.encode("utf-8"), add_bos=True, special=True)
    del vocab

    llm = Llama(model_path=GGUF, n_ctx=512, n_threads=2, n_threads_batch=2, n_batch=512, seed=0, verbose=False)
    greedy = []
    for p in PROMPTS:
        prompt = llm.tokenize(p.encode("utf-8"), add_bos=True, special=True)
        llm.reset()
        llm.eval(prompt)
        tokens, margins, tops = [], [], []
        for _ in range(STEPS):
            logits = last_logits(llm)
            top = np.argsort(logits)[::-1][:TOP]
            nxt = int(top[0])
            tokens.append(nxt)
            margins.append(round(float(logits[top[0]] - logits[top[1]]), 4))
            tops.append({"ids": [int(i) for i in top], "logits": [round(float(logits[i]), 4) for i in top]})
            llm.eval([nxt])
        text = llm.detokenize(tokens).decode("utf-8", errors="replace")
        print(repr(p), "->", repr(text))
        greedy.append({"prompt": p, "promptIds": prompt, "tokens": tokens, "margins": margins, "top": tops, "text": text})

    float_ref = float_logits(vocab_tokens)
    write_fixture("lm/gemma3_real.json", {
        "about": "llama.cpp (llama-cpp-python %s) on gemma-3-270m-q4_k_m.gguf (sha256 a5fd3b62...6818); "
                 "tools/reference/gen_lm_gemma3_real.py" % llama_cpp.__version__,
        "tokenize": tokenize,
        "greedy": greedy,
        "float": float_ref,
    })


if __name__ == "__main__":
    main()
