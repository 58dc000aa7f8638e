"""Tiny random-weight Whisper checkpoints in three layouts, and transformers' outputs for them.

Models (all written under test/fixtures/whisper/models/):
  tiny   multilingual (vocab 51865), 80 mels, d_model 8, 2 heads, 2+2 layers, 16 audio positions:
         tiny-hf/ (save_pretrained: config.json, generation_config.json with alignment_heads,
         model.safetensors in float16), tiny-mlx/ (config.json in openai's dims naming + weights.npz,
         keys as mlx-examples' convert.py names them, conv weights channels-last, alignment_heads
         stored as MLX's Whisper keeps them) and tiny-ggml.bin (whisper.cpp's convert-pt-to-ggml.py
         layout: openai state-dict names, PyTorch conv layout, conv biases as [n, 1], small tensors f32).
  en128  English-only (vocab 51864), 128 mels, d_model 8: en128-hf/ only.
  q      vocab 512, d_model 32, 4 heads, 2+2 layers, for quantized formats: q-mlx-4bit/, q-mlx-8bit/
         (MLX's own mx.quantize, group 32, every Linear and the Embedding as nn.quantize does),
         q-ggml-q8_0.bin, q-ggml-q4_0.bin (gguf-py's quantizers; every 2-D weight but the skipped
         ones, as whisper.cpp's quantize tool does).

Weights are float16 values; the reference runs transformers' WhisperForConditionalGeneration in
float32 on them (for the quantized models: on the dequantized weights) and records the encoder
output for a fixed mel input, decoder logits for a forced token sequence, and the cross-attention
probabilities of every decoder layer. Writes test/fixtures/whisper/models/reference.json.

    pip install torch transformers mlx gguf && python3 tools/reference/gen_whisper_model.py
"""
import base64
import gzip
import json
import os
import shutil

import mlx.core as mx
import numpy as np
import torch
from gguf import GGMLQuantizationType as Q
from gguf.quants import dequantize as gguf_dequantize
from gguf.quants import quantize as gguf_quantize
from transformers import WhisperConfig, WhisperForConditionalGeneration

from common import FIXTURES, ref_array, write_fixture
from whisper_shared import (GGML_SKIP, converter_tensor, hf_to_mlx_key, openai_state, randomize_,  # noqa: F401
                            write_ggml_header, write_ggml_tensor)

OUT = os.path.join(FIXTURES, "whisper", "models")
torch.manual_seed(0)
rng = np.random.default_rng(7)

# openai-whisper's published alignment heads, to check our TS decoding of them.
ALIGNMENT_HEADS = {
    "tiny": (b"ABzY8bu8Lr0{>%RKn9Fp%m@SkK7Kt=7ytkO", 4, 6),
    "base.en": (b"ABzY8;40c<0{>%RzzG;p*o+Vo09|#PsxSZm00", 6, 8),
    "large-v3": (b"ABzY8gWO1E0{>%R7(9S+Kn!D~%ngiGaR?*L!iJG9p-nab0JQ=-{D1-g00", 32, 20),
    "large-v3-turbo": (b"ABzY8j^C+e0{>%RARaKHP%t(lGR*)0g!tONPyhe`", 4, 20),
}


def decode_heads(dump, layers, heads):
    mask = np.frombuffer(gzip.decompress(base64.b85decode(dump)), dtype=bool).reshape(layers, heads)
    return [[int(a), int(b)] for a, b in zip(*mask.nonzero())]


def make_model(vocab, n_mels, d_model, heads, layers, audio_ctx, text_ctx):
    cfg = WhisperConfig(
        vocab_size=vocab, num_mel_bins=n_mels, d_model=d_model, encoder_layers=layers, decoder_layers=layers,
        encoder_attention_heads=heads, decoder_attention_heads=heads, encoder_ffn_dim=4 * d_model,
        decoder_ffn_dim=4 * d_model, max_source_positions=audio_ctx, max_target_positions=text_ctx,
        pad_token_id=50257 if vocab > 50257 else 0, bos_token_id=50257 if vocab > 50257 else 1,
        eos_token_id=50257 if vocab > 50257 else 2, decoder_start_token_id=50258 if vocab > 50258 else 3,
        suppress_tokens=[], begin_suppress_tokens=[],
    )
    return randomize_(WhisperForConditionalGeneration._from_config(cfg, attn_implementation="eager").eval())


def dims_of(model):
    c = model.config
    return dict(n_mels=c.num_mel_bins, n_audio_ctx=c.max_source_positions, n_audio_state=c.d_model,
                n_audio_head=c.encoder_attention_heads, n_audio_layer=c.encoder_layers, n_vocab=c.vocab_size,
                n_text_ctx=c.max_target_positions, n_text_state=c.d_model, n_text_head=c.decoder_attention_heads,
                n_text_layer=c.decoder_layers)


def mlx_weights(model, alignment_heads):
    """The parameters mlx_whisper's Whisper holds: channels-last convs, no encoder positions."""
    w = {}
    for k, v in openai_state(model).items():
        if k == "encoder.positional_embedding":
            continue  # MLX keeps it private (_positional_embedding), computed
        k = k.replace(".mlp.0", ".mlp1").replace(".mlp.2", ".mlp2")
        if "conv" in k and v.ndim == 3:
            v = v.transpose(0, 2, 1)
        w[k] = mx.array(v).astype(mx.float16)
    w["alignment_heads"] = mx.array(np.asarray(alignment_heads, dtype=np.int64))
    return w


def write_mlx(path, model, alignment_heads, quantization=None):
    os.makedirs(path, exist_ok=True)
    w = mlx_weights(model, alignment_heads)
    config = dims_of(model)
    if quantization:
        gs, bits = quantization["group_size"], quantization["bits"]
        for k in list(w):
            # nn.quantize: every Linear and Embedding whose input size the group size divides.
            is_layer = k.endswith(".weight") and w[k].ndim == 2 and "positional" not in k
            if is_layer and w[k].shape[-1] % gs == 0:
                wq, s, b = mx.quantize(w[k], group_size=gs, bits=bits)
                base = k[: -len(".weight")]
                w[k], w[base + ".scales"], w[base + ".biases"] = wq, s, b
        config["quantization"] = {"group_size": gs, "bits": bits}
    config["model_type"] = "whisper"
    np.savez(os.path.join(path, "weights.npz"), **{k: np.array(v) for k, v in w.items()})
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(config, f, indent=4)
    return w


def mlx_dequantized(w, quantization):
    """The float weights a quantized MLX checkpoint stands for, keyed like openai_state: q * scale + bias
    in float32 (the loader keeps the weights packed and its quantized matmul computes in float32;
    mx.dequantize in the scales' float16 would round every weight)."""
    gs, bits = quantization["group_size"], quantization["bits"]
    out = {}
    for k, v in w.items():
        if k.endswith(".scales") or k.endswith(".biases") or k == "alignment_heads":
            continue
        base = k[: -len(".weight")]
        if k.endswith(".weight") and base + ".scales" in w:
            s, b = w[base + ".scales"].astype(mx.float32), w[base + ".biases"].astype(mx.float32)
            v = mx.dequantize(v, s, b, group_size=gs, bits=bits)
        out[k] = np.array(v.astype(mx.float32))
    return out


def write_ggml(path, model, qtype=None):
    """whisper.cpp's convert-pt-to-ggml.py layout (then its quantize tool for qtype)."""
    hp = dims_of(model)
    ftype = {None: 1, Q.Q4_0: 2, Q.Q8_0: 7}[qtype] + (1000 * 2 if qtype else 0)
    filters = rng.random((hp["n_mels"], 201)).astype(np.float32) * 0.01
    tokens = [bytes([i]) for i in range(256)]  # a short stand-in vocabulary (the real one has 50257 entries)
    deq = {}
    with open(path, "wb") as f:
        write_ggml_header(f, hp, ftype, filters, tokens)
        for name, data in openai_state(model).items():
            data, t = converter_tensor(name, data)
            shape = data.shape
            if qtype is not None and data.ndim == 2 and name not in GGML_SKIP:
                data, t = gguf_quantize(data.astype(np.float32), qtype), int(qtype)
                deq[name] = gguf_dequantize(data, qtype).reshape(shape)
            else:
                deq[name] = data.astype(np.float32)
            write_ggml_tensor(f, name, shape, t, data)
    return deq


def set_from_openai(model, weights):
    """Loads openai-named float32 weights (e.g. dequantized ones) back into the transformers model."""
    sd = model.state_dict()
    with torch.no_grad():
        for k in sd:
            if k == "proj_out.weight" or "encoder.embed_positions" in k:
                continue
            ok = hf_to_mlx_key(k)
            ok2 = ok.replace(".mlp1", ".mlp.0").replace(".mlp2", ".mlp.2")
            v = weights.get(ok, weights.get(ok2))
            if v is None:
                raise KeyError(k)
            if "conv" in ok and v.ndim == 3 and v.shape != tuple(sd[k].shape):
                v = v.transpose(0, 2, 1)
            sd[k].copy_(torch.from_numpy(np.ascontiguousarray(v)).reshape(sd[k].shape))


def reference(model, tokens, select=None):
    d = dims_of(model)
    mel = rng.standard_normal((1, d["n_mels"], 2 * d["n_audio_ctx"])).astype(np.float32)
    with torch.no_grad():
        enc = model.model.encoder(torch.from_numpy(mel)).last_hidden_state
        out = model(input_features=torch.from_numpy(mel), decoder_input_ids=torch.tensor([tokens]), output_attentions=True)
    logits = out.logits[0].numpy()
    ref = {"mel": ref_array(mel), "tokens": tokens, "encoder": ref_array(enc.numpy()),
           "cross_attentions": [ref_array(a.numpy()) for a in out.cross_attentions],
           "logsumexp": ref_array(torch.logsumexp(out.logits[0], -1).numpy()),
           "argmax": [int(i) for i in logits.argmax(-1)]}
    if select is None:
        ref["logits"] = ref_array(logits)
    else:
        ids = sorted(set(select) | set(ref["argmax"]))
        ref["logit_ids"] = ids
        ref["logits"] = ref_array(logits[:, ids])
    return ref


def save_hf(model, path, alignment_heads):
    shutil.rmtree(path, ignore_errors=True)
    model.generation_config.alignment_heads = alignment_heads
    half = WhisperForConditionalGeneration._from_config(model.config, attn_implementation="eager")
    half.load_state_dict(model.state_dict())
    half.half().save_pretrained(path, safe_serialization=True)
    model.generation_config.save_pretrained(path)


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    refs = {"official_heads": {name: decode_heads(*v) for name, v in ALIGNMENT_HEADS.items()}}

    # tiny: the same weights as HF, MLX and ggml.
    tiny = make_model(51865, 80, 8, 2, 2, 16, 24)
    heads = [[0, 1], [1, 0]]
    save_hf(tiny, os.path.join(OUT, "tiny-hf"), heads)
    write_mlx(os.path.join(OUT, "tiny-mlx"), tiny, heads)
    write_ggml(os.path.join(OUT, "tiny-ggml.bin"), tiny)
    select = list(range(0, 40)) + list(range(50250, 50370)) + list(rng.integers(0, 51865, 40))
    refs["tiny"] = {"dims": dims_of(tiny), "alignment_heads": heads,
                    **reference(tiny, [50258, 50259, 50359, 50363, 1169, 2068, 7586], [int(i) for i in select])}

    en = make_model(51864, 128, 8, 2, 2, 12, 16)
    save_hf(en, os.path.join(OUT, "en128-hf"), [[1, 1]])
    refs["en128"] = {"dims": dims_of(en), "alignment_heads": [[1, 1]],
                     **reference(en, [50257, 50362, 383, 3290], [int(i) for i in list(range(0, 40)) + list(range(50250, 50364))])}

    # Quantized layouts: references from the dequantized weights each file stands for.
    q = make_model(512, 80, 32, 4, 2, 8, 16)
    q_tokens = [3, 100, 7, 300, 42]
    q_float = {k: v.clone() for k, v in q.state_dict().items()}
    for bits in (4, 8):
        q.load_state_dict(q_float)
        cfg = {"group_size": 32, "bits": bits}
        w = write_mlx(os.path.join(OUT, f"q-mlx-{bits}bit"), q, [[1, 2]], cfg)
        set_from_openai(q, mlx_dequantized(w, cfg))
        refs[f"q-mlx-{bits}bit"] = {"dims": dims_of(q), **reference(q, q_tokens)}
    for qt, name in ((Q.Q8_0, "q8_0"), (Q.Q4_0, "q4_0")):
        q.load_state_dict(q_float)
        deq = write_ggml(os.path.join(OUT, f"q-ggml-{name}.bin"), q, qt)
        set_from_openai(q, deq)
        refs[f"q-ggml-{name}"] = {"dims": dims_of(q), **reference(q, q_tokens)}

    write_fixture("whisper/models/reference.json", refs)
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(OUT) for f in fs)
    print(f"fixtures: {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
