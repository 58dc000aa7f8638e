"""Pieces of a random-weight Whisper shared by the reference generators (gen_whisper_model.py,
gen_gguf.py) and the peers bench (bench/peers/whisper_peers.py): the weight initialization,
openai-whisper's parameter names and whisper.cpp's ggml layout. Only NumPy at import (the peers
bench runs without mlx and gguf); torch is imported by the function that needs it.
"""
import struct

import numpy as np

# whisper.cpp's hparams, in file order.
GGML_HPARAMS = ["n_vocab", "n_audio_ctx", "n_audio_state", "n_audio_head", "n_audio_layer", "n_text_ctx",
                "n_text_state", "n_text_head", "n_text_layer", "n_mels"]
# Tensors whisper.cpp's converter keeps float32 whatever their rank.
GGML_SKIP = {"encoder.conv1.bias", "encoder.conv2.bias", "encoder.positional_embedding", "decoder.positional_embedding"}


def randomize_(model):
    """Weights of order-one outputs (transformers' default init is std 0.02, which makes every logit
    ~0), rounded to float16 so every layout holds exactly the same values. The encoder's sinusoidal
    positions stay as computed (every implementation recomputes them)."""
    import torch

    with torch.no_grad():
        for name, p in model.named_parameters():
            if "encoder.embed_positions" in name or name == "proj_out.weight":
                continue
            if "layer_norm" in name:
                v = (1.0 if name.endswith("weight") else 0.0) + 0.2 * torch.randn_like(p)
            elif "embed" in name:
                v = torch.randn_like(p)
            elif name.endswith("bias"):
                v = 0.3 * torch.randn_like(p)
            else:
                fan_in = p.shape[1] * (p.shape[2] if p.ndim == 3 else 1)
                v = torch.randn_like(p) * 1.2 / fan_in**0.5
            p.copy_(v.half().float())
    return model


def hf_to_mlx_key(k):
    """transformers key -> mlx-examples key (as mlx_whisper's convert maps them)."""
    k = k.removeprefix("model.")
    for a, b in [(".layers", ".blocks"), (".self_attn_layer_norm", ".attn_ln"), (".self_attn.", ".attn."),
                 (".encoder_attn_layer_norm", ".cross_attn_ln"), (".encoder_attn.", ".cross_attn."),
                 (".final_layer_norm", ".mlp_ln"), (".q_proj", ".query"), (".k_proj", ".key"), (".v_proj", ".value"),
                 (".out_proj", ".out"), (".fc1", ".mlp1"), (".fc2", ".mlp2"),
                 ("decoder.embed_positions.weight", "decoder.positional_embedding"),
                 ("encoder.embed_positions.weight", "encoder.positional_embedding"),
                 ("decoder.embed_tokens", "decoder.token_embedding"), ("encoder.layer_norm", "encoder.ln_post"),
                 ("decoder.layer_norm", "decoder.ln")]:
        k = k.replace(a, b)
    return k


def openai_state(model):
    """openai-whisper's state dict (PyTorch layouts, mlp.0 / mlp.2) as float32 NumPy arrays."""
    out = {}
    for k, v in model.state_dict().items():
        if k == "proj_out.weight":
            continue
        k = hf_to_mlx_key(k).replace(".mlp1", ".mlp.0").replace(".mlp2", ".mlp.2")
        out[k] = v.detach().float().numpy()
    return out


def write_ggml_header(f, hparams, ftype, filters, tokens):
    """whisper.cpp's file header: magic, hparams (GGML_HPARAMS order), ftype, mel filters, vocabulary."""
    f.write(struct.pack("<i", 0x67676D6C))
    f.write(struct.pack("<10i", *[hparams[k] for k in GGML_HPARAMS]))
    f.write(struct.pack("<i", ftype))
    f.write(struct.pack("<ii", *filters.shape))
    f.write(filters.tobytes())
    f.write(struct.pack("<i", len(tokens)))
    for t in tokens:
        f.write(struct.pack("<i", len(t)))
        f.write(t)


def converter_tensor(name, data):
    """A tensor as convert-pt-to-ggml.py stores it: squeezed, conv biases as [n, 1], float16 when 2-D or
    more (outside GGML_SKIP), else float32. Returns (data, ggml type: 0 f32, 1 f16)."""
    data = data.squeeze() if data.ndim > 1 else data
    if name in ("encoder.conv1.bias", "encoder.conv2.bias"):
        data = data.reshape(data.shape[0], 1)
    if data.ndim < 2 or name in GGML_SKIP:
        return data.astype(np.float32), 0
    return data.astype(np.float16), 1


def write_ggml_tensor(f, name, shape, ggml_type, data):
    """One tensor record: dims, name length and type, the dims innermost first, the name, the bytes."""
    key = name.encode()
    f.write(struct.pack("<iii", len(shape), len(key), ggml_type))
    for d in reversed(shape):
        f.write(struct.pack("<i", d))
    f.write(key)
    f.write(np.ascontiguousarray(data).tobytes())
