"""Tiny random-weight LLM checkpoints made by transformers, one per architecture, with reference
logits and greedy tokens, plus MLX-quantized copies (mlx's own quantize, 4- and 8-bit) of a few.

Writes test/fixtures/lm/<name>/:
  config.json, model.safetensors (float16 weights, as save_pretrained writes them)
  tokenizer.json (a byte-level BPE trained here, vocab 512) on the first two sets
  reference.safetensors: prompt_logits [L, vocab] (float32, the model in float32 on the float16
                         weights), step_logits [20, vocab] (the logits generate() picked from)
  reference.json: prompt ids, the 20 greedy tokens from model.generate, the smallest top-1/top-2
                  margin seen (so a test's tolerance can be judged), and the transformers version.
MLX-quantized sets (<name>-mlx-4bit, <name>-mlx-8bit; the 8-bit one sharded in two files with
model.safetensors.index.json) hold mlx.core.quantize's packed weights, scales and biases under the
same keys (as mlx-lm saves them) and a config with a `quantization` block; their references come
from transformers run on mx.dequantize'd weights (with float32 scales: q * scale + bias unrounded).

    pip install torch transformers tokenizers safetensors mlx==0.32.4 mlx-cpu==0.32.4
    python3 tools/reference/gen_lm_models.py
"""
import json
import os
import shutil

import mlx.core as mx
import numpy as np
import torch
import transformers
from safetensors.numpy import save_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from common import FIXTURES

mx.set_default_device(mx.cpu)
OUT = os.path.join(FIXTURES, "lm")
VOCAB = 512
STEPS = 20
SPECIALS = ["<pad>", "<eos>", "<bos>", "<start_of_turn>", "<end_of_turn>"]
IDS = {"pad_token_id": 0, "eos_token_id": 1, "bos_token_id": 2}

COMMON = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_attention_heads=4,
              num_key_value_heads=2, head_dim=16, max_position_embeddings=256, rms_norm_eps=1e-6, **IDS)

# name -> (config class, model class, config kwargs, layer count)
ARCHS = {
    "gemma3_text": ("Gemma3TextConfig", "Gemma3ForCausalLM", dict(
        num_key_value_heads=1, query_pre_attn_scalar=24, sliding_window=6,
        layer_types=["sliding_attention", "sliding_attention", "full_attention", "sliding_attention"],
        rope_parameters={"full_attention": {"rope_type": "linear", "factor": 2.0, "rope_theta": 1e6},
                         "sliding_attention": {"rope_type": "default", "rope_theta": 1e4}}), 4),
    "llama": ("LlamaConfig", "LlamaForCausalLM", dict(
        tie_word_embeddings=False,
        rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
                         "high_freq_factor": 4.0, "original_max_position_embeddings": 64}), 2),
    "qwen2": ("Qwen2Config", "Qwen2ForCausalLM", dict(tie_word_embeddings=True, rope_parameters={"rope_type": "default", "rope_theta": 1e6}), 2),
    "qwen3": ("Qwen3Config", "Qwen3ForCausalLM", dict(head_dim=32, tie_word_embeddings=False), 2),
    "mistral": ("MistralConfig", "MistralForCausalLM", dict(sliding_window=8, tie_word_embeddings=False), 2),
    "gemma2": ("Gemma2Config", "Gemma2ForCausalLM", dict(
        query_pre_attn_scalar=24, sliding_window=6, attn_logit_softcapping=5.0, final_logit_softcapping=3.0), 3),
    "phi3": ("Phi3Config", "Phi3ForCausalLM", dict(
        num_key_value_heads=2, tie_word_embeddings=False,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": 0.5}), 2),
    "mixtral": ("MixtralConfig", "MixtralForCausalLM", dict(num_local_experts=4, num_experts_per_tok=2, tie_word_embeddings=False), 2),
    "qwen3_moe": ("Qwen3MoeConfig", "Qwen3MoeForCausalLM", dict(
        num_experts=4, num_experts_per_tok=2, moe_intermediate_size=64, norm_topk_prob=True, decoder_sparse_step=1,
        mlp_only_layers=[], tie_word_embeddings=False), 2),
    "gemma": ("GemmaConfig", "GemmaForCausalLM", dict(num_key_value_heads=1), 2),
}
QUANTIZED = ["gemma3_text", "llama", "qwen3"]
WITH_TOKENIZER = ["gemma3_text", "llama"]
PROMPT_TEXT = "The quick brown fox jumps over the lazy dog while the"
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<start_of_turn>{{ 'model' if m['role'] == 'assistant' else m['role'] }}\n"
    "{{ m['content'] }}<end_of_turn>\n{% endfor %}{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}")
CHAT = [{"role": "user", "content": "Hello there!"}, {"role": "assistant", "content": "Hi."},
        {"role": "user", "content": "What does the fox say?"}]
TOKENIZER_CONFIG = {"bos_token": "<bos>", "eos_token": "<eos>", "pad_token": "<pad>", "chat_template": CHAT_TEMPLATE,
                    "tokenizer_class": "PreTrainedTokenizerFast", "clean_up_tokenization_spaces": False}
GEN_EOS = [1, 4]

CORPUS = """The quick brown fox jumps over the lazy dog. A tiny model learns nothing, but its tokenizer
still splits words into pieces. Tessera runs language models on a native tensor core: the weights load
from safetensors, the cache keeps keys and values, and the sampler picks the next token. Hello world!
Numbers like 12345 and 3.14159 appear, as do symbols such as {}, [], (), <>, and emoji. Once upon a time
there was a small dog who liked to run in the park with the other dogs while the sun was shining.
def main():\n    print("hello")\n    return 0\n""" * 3


def make_tokenizer():
    tok = Tokenizer(models.BPE(byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, special_tokens=SPECIALS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator([CORPUS], trainer)
    assert tok.get_vocab_size() <= VOCAB, tok.get_vocab_size()
    return tok


def randomize(model, gemma, seed, tied=False):
    """Weights large enough that greedy decoding has clear winners (init's 0.02 gives near-ties)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                base = 0.0 if gemma else 1.0
                p.copy_(base + 0.2 * torch.randn(p.shape, generator=g))
            elif p.ndim == 1:
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            elif "embed_tokens" in name:
                # Tied tables small, so the layers (not the input token) decide the next token.
                p.copy_((0.05 if gemma else 0.3 if tied else 1.0) * torch.randn(p.shape, generator=g))
            elif "o_proj" in name or "down_proj" in name:
                p.copy_(1.5 * torch.randn(p.shape, generator=g) / p.shape[-1] ** 0.5)
            else:
                p.copy_(torch.randn(p.shape, generator=g) / p.shape[-1] ** 0.5)
            p.copy_(p.half().float())


def reference(model, prompt):
    ids = torch.tensor([prompt])
    with torch.no_grad():
        logits = model(ids).logits[0].float().numpy()
        out = model.generate(ids, max_new_tokens=STEPS, min_new_tokens=STEPS, do_sample=False, output_logits=True,
                             return_dict_in_generate=True, pad_token_id=0, eos_token_id=None)
    tokens = out.sequences[0, len(prompt):].tolist()
    steps = torch.stack([s[0] for s in out.logits]).float().numpy()
    top2 = np.sort(steps, axis=-1)[:, -2:]
    margin = float((top2[:, 1] - top2[:, 0]).min())
    return logits, steps, tokens, margin


def chat_reference(path, model):
    """transformers' chat template rendering and generate() (stopping at generation_config's EOS list)."""
    tok = transformers.AutoTokenizer.from_pretrained(path)
    enc = tok.apply_chat_template(CHAT, add_generation_prompt=True, tokenize=True)
    ids = list(enc["input_ids"] if isinstance(enc, dict) or hasattr(enc, "keys") else enc)
    with torch.no_grad():
        out = model.generate(torch.tensor([ids]), max_new_tokens=STEPS, do_sample=False, eos_token_id=GEN_EOS, pad_token_id=0)
    new = out[0, len(ids):].tolist()
    text = tok.decode(new, skip_special_tokens=True)
    rendered = tok.apply_chat_template(CHAT, add_generation_prompt=True, tokenize=False)
    return {"messages": CHAT, "rendered": rendered, "prompt": ids, "tokens": new, "text": text,
            "prompt_text_ids": tok(PROMPT_TEXT)["input_ids"]}


def write_set(name, arch, config, state, model, prompt, extra_config=None, shards=1, tokenizer=None):
    path = os.path.join(OUT, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    cfg = json.loads(config.to_json_string())
    cfg.update(extra_config or {})
    cfg["architectures"] = [type(model).__name__]
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    names = sorted(state)
    if shards == 1:
        save_file(state, os.path.join(path, "model.safetensors"), metadata={"format": "mlx" if extra_config else "pt"})
    else:
        index = {"metadata": {"total_size": int(sum(v.nbytes for v in state.values()))}, "weight_map": {}}
        for i in range(shards):
            file = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
            part = {k: state[k] for k in names[i::shards]}
            save_file(part, os.path.join(path, file), metadata={"format": "mlx"})
            index["weight_map"].update({k: file for k in part})
        with open(os.path.join(path, "model.safetensors.index.json"), "w") as f:
            json.dump(index, f, indent=2)
    chat = None
    if tokenizer is not None:
        tokenizer.save(os.path.join(path, "tokenizer.json"))
        with open(os.path.join(path, "tokenizer_config.json"), "w") as f:
            json.dump(TOKENIZER_CONFIG, f, indent=2)
        with open(os.path.join(path, "generation_config.json"), "w") as f:
            json.dump({"bos_token_id": 2, "eos_token_id": GEN_EOS, "pad_token_id": 0}, f, indent=2)
        chat = chat_reference(path, model)
    logits, steps, tokens, margin = reference(model, prompt)
    save_file({"prompt_logits": logits, "step_logits": steps}, os.path.join(path, "reference.safetensors"))
    with open(os.path.join(path, "reference.json"), "w") as f:
        json.dump({"model_type": arch, "prompt": prompt, "prompt_text": PROMPT_TEXT if tokenizer else None, "tokens": tokens,
                   "min_margin": margin, "transformers": transformers.__version__, "torch": torch.__version__,
                   "mlx": mx.__version__ if extra_config else None, "chat": chat}, f, indent=1)
    size = sum(os.path.getsize(os.path.join(path, x)) for x in os.listdir(path))
    print(f"{name}: {size // 1024} KiB, tokens {tokens}, min margin {margin:.4f}")


def mlx_quantized(state, bits):
    """mlx-lm's nn.quantize: every Linear/Embedding weight whose last dim is a multiple of 64."""
    out = {}
    for k, v in state.items():
        if k.endswith(".weight") and v.ndim == 2 and "norm" not in k and v.shape[-1] % 64 == 0:
            w, s, b = mx.quantize(mx.array(v), group_size=64, bits=bits)
            base = k[: -len(".weight")]
            out[k] = np.array(w)
            out[base + ".scales"] = np.array(s)
            out[base + ".biases"] = np.array(b)
        else:
            out[k] = v
    return out


def mlx_dequantized(qstate, bits):
    out = {}
    for k, v in qstate.items():
        if k.endswith(".scales") or k.endswith(".biases"):
            continue
        base = k[: -len(".weight")]
        if base + ".scales" in qstate:
            # float32 scales: q * scale + bias unrounded, as quantized matmuls compute it.
            s, b = (mx.array(qstate[base + x]).astype(mx.float32) for x in (".scales", ".biases"))
            w = mx.dequantize(mx.array(v), s, b, group_size=64, bits=bits)
            out[k] = np.array(w.astype(mx.float32))
        else:
            out[k] = v.astype(np.float32)
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    tokenizer = make_tokenizer()
    text_prompt = tokenizer.encode(PROMPT_TEXT).ids
    rng = np.random.default_rng(7)
    for i, (arch, (cfg_cls, model_cls, kwargs, layers)) in enumerate(ARCHS.items()):
        cfg = getattr(transformers, cfg_cls)(**{**COMMON, **kwargs, "num_hidden_layers": layers})
        torch.manual_seed(i)
        model = getattr(transformers, model_cls)._from_config(cfg, attn_implementation="eager").eval()
        randomize(model, arch.startswith("gemma"), 100 + i, cfg.tie_word_embeddings)
        tok = tokenizer if arch in WITH_TOKENIZER else None
        prompt = text_prompt if tok else rng.integers(5, VOCAB, 12).tolist()
        state = {k: v.half().numpy() for k, v in model.state_dict().items()}
        if cfg.tie_word_embeddings:
            state.pop("lm_head.weight", None)
        write_set(arch, arch, cfg, state, model, prompt, tokenizer=tok)
        if arch not in QUANTIZED:
            continue
        for bits in (4, 8):
            q = mlx_quantized(state, bits)
            deq = mlx_dequantized(q, bits)
            sd = model.state_dict()
            with torch.no_grad():
                for k, v in deq.items():
                    sd[k].copy_(torch.from_numpy(v))
                if cfg.tie_word_embeddings:
                    model.lm_head.weight = model.model.embed_tokens.weight
            qcfg = {"quantization": {"group_size": 64, "bits": bits}, "quantization_config": {"group_size": 64, "bits": bits}}
            write_set(f"{arch}-mlx-{bits}bit", arch, cfg, q, model, prompt, qcfg, shards=2 if bits == 8 else 1, tokenizer=tok)
            randomize(model, arch.startswith("gemma"), 100 + i, cfg.tie_word_embeddings)  # back to the float weights


if __name__ == "__main__":
    main()
