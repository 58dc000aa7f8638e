"""Loads the committed tiny random MLX-layout Whisper checkpoints into openai-whisper's Whisper.

Shared by gen_whisper_timing.py and gen_whisper_transcribe.py. The weights are the float16 values of
weights.npz run in float32 (our loader's default dtype); the alignment heads are the ones the file
stores (as our loader reads them); the encoder's sinusoidal positions are openai's own.
"""
import json
import os

import numpy as np
import torch
import whisper
from whisper.model import ModelDimensions, Whisper

from common import FIXTURES

MODELS = os.path.join(FIXTURES, "whisper", "models")


def load_openai(folder):
    folder = os.path.join(MODELS, folder)
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    dims = ModelDimensions(**{k: config[k] for k in ModelDimensions.__dataclass_fields__})
    model = Whisper(dims)
    npz = np.load(os.path.join(folder, "weights.npz"))
    state = model.state_dict()
    heads = None
    for k in npz.files:
        v = npz[k]
        if k == "alignment_heads":
            heads = v.astype(np.int64)
            continue
        ok = k.replace(".mlp1", ".mlp.0").replace(".mlp2", ".mlp.2")
        if "conv" in k and v.ndim == 3:
            v = v.transpose(0, 2, 1)  # channels-last -> PyTorch
        if tuple(state[ok].shape) != v.shape:
            raise ValueError(f"{k}: {v.shape} vs {tuple(state[ok].shape)}")
        state[ok] = torch.from_numpy(np.ascontiguousarray(v.astype(np.float32)))
    model.load_state_dict(state)
    mask = torch.zeros(dims.n_text_layer, dims.n_text_head, dtype=torch.bool)
    for layer, head in heads:
        mask[layer, head] = True
    model.register_buffer("alignment_heads", mask.to_sparse(), persistent=False)
    return model.float().eval(), [[int(a), int(b)] for a, b in heads]


def tokenizer_for(model, language="en", task="transcribe"):
    return whisper.tokenizer.get_tokenizer(model.is_multilingual, num_languages=model.num_languages,
                                           language=language, task=task)
