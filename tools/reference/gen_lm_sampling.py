"""Sampling fixtures for @tessera/lm: transformers' logits processors and warpers on fixed logits.

Each case applies, in transformers' generate() order, RepetitionPenaltyLogitsProcessor, then
TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper and MinPLogitsWarper, and records which
tokens keep a finite score and the resulting probabilities.

    python3 tools/reference/gen_lm_sampling.py
"""
import os
import sys

import numpy as np
import torch
from transformers.generation.logits_process import (
    MinPLogitsWarper,
    RepetitionPenaltyLogitsProcessor,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

sys.path.insert(0, os.path.dirname(__file__))
from common import write_fixture  # noqa: E402

CONFIGS = [
    {"temperature": 1.0},
    {"temperature": 0.7, "topK": 5},
    {"temperature": 1.0, "topK": 1},
    {"temperature": 1.3, "topK": 40},
    {"temperature": 1.0, "topP": 0.9},
    {"temperature": 0.5, "topP": 0.5},
    {"temperature": 1.0, "topP": 0.99},
    {"temperature": 2.0, "topP": 0.3},
    {"temperature": 1.0, "minP": 0.05},
    {"temperature": 0.8, "minP": 0.2},
    {"temperature": 1.0, "topK": 20, "topP": 0.8},
    {"temperature": 0.9, "topK": 50, "topP": 0.95, "minP": 0.02},
    {"temperature": 1.0, "repetitionPenalty": 1.3},
    {"temperature": 0.7, "repetitionPenalty": 1.1, "topK": 10, "topP": 0.9},
    {"temperature": 1.0, "repetitionPenalty": 0.8, "minP": 0.1},
]


def process(logits, history, cfg):
    ids = torch.tensor([history], dtype=torch.long)
    s = torch.tensor(logits, dtype=torch.float32)[None]
    if cfg.get("repetitionPenalty"):
        s = RepetitionPenaltyLogitsProcessor(cfg["repetitionPenalty"])(ids, s)
    s = TemperatureLogitsWarper(cfg["temperature"])(ids, s)
    if cfg.get("topK"):
        s = TopKLogitsWarper(cfg["topK"])(ids, s)
    if cfg.get("topP"):
        s = TopPLogitsWarper(cfg["topP"])(ids, s)
    if cfg.get("minP"):
        s = MinPLogitsWarper(cfg["minP"])(ids, s)
    probs = torch.softmax(s, dim=-1)[0].numpy()
    kept = [int(i) for i in np.nonzero(np.isfinite(s[0].numpy()))[0]]
    return kept, [float(probs[i]) for i in kept]


def main():
    rng = np.random.default_rng(7)
    cases, sets = [], []
    for vocab in (64, 1000):
        for scale in (1.0, 4.0):
            logits = (rng.standard_normal(vocab) * scale).astype(np.float32)
            history = [int(x) for x in rng.integers(0, vocab, size=12)] + [3, 3, 3]
            sets.append({"logits": [float(x) for x in logits], "history": history})
            for cfg in CONFIGS:
                kept, probs = process(logits, history, cfg)
                cases.append({"name": f"v{vocab}_s{scale}_{'_'.join(f'{k}{v}' for k, v in cfg.items())}",
                              "set": len(sets) - 1, "options": cfg,
                              "kept": kept, "probs": [float(np.float32(p)) for p in probs]})
    write_fixture("lm/sampling.json", {"sets": sets, "cases": cases})
    print(len(cases), "cases")


if __name__ == "__main__":
    main()
