"""openai-whisper's transcribe() on the tiny random checkpoint, for the TS transcribe() tests.

Model: test/fixtures/whisper/models/tiny30s-mlx: tiny-mlx's weights (weights.npz is a symlink to
../tiny-mlx/weights.npz) with n_audio_ctx 1500, so windows are openai's 30 s (3000 mel frames); its
text context stays 24 tokens (sample_len 12, prompts of at most 11 tokens).

Audio: the samples @tessera/whisper's loadAudio decodes from ../shared/data/audio/jfk.flac (44.1 kHz
stereo; our resampler differs from ffmpeg's by up to 7e-4, so the reference runs on our samples,
dumped by tools/reference/whisper_audio.mts), and a long clip: 10 x (jfk, then 1 s of zeros).

Every case: temperature 0.0 only (no fallback), word_timestamps=True, fp16=False, verbose=None.
Records per case the options, openai's result (text, language, segments with words) and the
smallest greedy argmax margin (top-1 minus top-2 filtered logit) and language-detection margin seen.

    pip install openai-whisper && python3 tools/reference/gen_whisper_transcribe.py
"""
import hashlib
import os
import subprocess
import tempfile

import numpy as np
import torch
import whisper
import whisper.decoding as wd

from common import ROOT, write_fixture
from whisper_openai import load_openai

SHARED = next((d for d in [os.path.join(ROOT, "..", "shared", "data"), os.path.join(ROOT, "..", "..", "shared", "data")]
               if os.path.isdir(d)), "/work/shared/data")
JFK = os.path.join(SHARED, "audio", "jfk.flac")

margins = {"greedy": [], "language": []}

_update = wd.GreedyDecoder.update


def update(self, tokens, logits, sum_logprobs):
    top = torch.topk(logits.float(), 2, dim=-1).values
    margins["greedy"].extend((top[:, 0] - top[:, 1]).tolist())
    return _update(self, tokens, logits, sum_logprobs)


wd.GreedyDecoder.update = update

_detect = wd.detect_language


def detect_language(model, mel, tokenizer=None):
    tokens, probs = _detect(model, mel, tokenizer)
    for p in probs if isinstance(probs, list) else [probs]:
        v = sorted(p.values(), reverse=True)
        margins["language"].append(float(np.log(v[0]) - np.log(v[1])))
    return tokens, probs


wd.detect_language = detect_language
whisper.model.detect_language_function = detect_language


def our_samples(path):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "samples.f32")
        subprocess.run(["npx", "tsx", os.path.join(ROOT, "tools", "reference", "whisper_audio.mts"), path, out],
                       check=True, cwd=ROOT)
        return np.fromfile(out, dtype=np.float32)


def clean(v):
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [clean(x) for x in v]
    if isinstance(v, (np.floating, float)):
        return float(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    return v


def main():
    model, _ = load_openai("tiny30s-mlx")
    # openai's Whisper.detect_language is bound at class creation: route it through the wrapper.
    model.detect_language = lambda mel, tokenizer=None: detect_language(model, mel, tokenizer)
    jfk = our_samples(JFK)
    long = np.concatenate([np.concatenate([jfk, np.zeros(16000, np.float32)]) for _ in range(10)])
    audios = {"jfk": jfk, "long": long}

    cases = [
        ("jfk_en", "jfk", dict(language="en", condition_on_previous_text=True)),
        ("jfk_detect", "jfk", dict(language=None, condition_on_previous_text=True)),
        ("jfk_clips", "jfk", dict(language="en", clip_timestamps="1.5,4,6")),
        ("jfk_prompt", "jfk", dict(language="en", initial_prompt=" And so my fellow Americans")),
        ("jfk_prompt_carry", "jfk", dict(language="en", initial_prompt=" And so my fellow Americans", carry_initial_prompt=True)),
        ("long_en", "long", dict(language="en", condition_on_previous_text=True)),
        ("long_en_nocond", "long", dict(language="en", condition_on_previous_text=False)),
        ("long_detect", "long", dict(language=None, condition_on_previous_text=True)),
        ("long_clips", "long", dict(language="en", clip_timestamps=[20.0, 45.5, 100.0])),
        ("long_hallucination", "long", dict(language="en", hallucination_silence_threshold=0.5)),
    ]
    out = {"model": "tiny30s-mlx", "audio": {}, "cases": []}
    for name, a in audios.items():
        out["audio"][name] = {"samples": int(a.size), "sha256": hashlib.sha256(a.astype("<f4").tobytes()).hexdigest()}
    out["audio"]["jfk"]["source"] = "jfk.flac via loadAudio"
    out["audio"]["long"]["source"] = "10 x (jfk samples, then 16000 zeros)"
    for name, audio, opts in cases:
        margins["greedy"].clear()
        margins["language"].clear()
        options = dict(temperature=0.0, word_timestamps=True, fp16=False, verbose=None, **opts)
        result = whisper.transcribe(model, audios[audio], **options)
        segs = result["segments"]
        loops = sum(len([t for t in s["tokens"] if t < 50257]) for s in segs)
        print(f"{name}: {len(segs)} segments, {loops} text tokens, language {result['language']}, "
              f"min greedy margin {min(margins['greedy']):.4g}, "
              f"min language margin {min(margins['language'], default=float('nan')):.4g}")
        out["cases"].append({
            "name": name, "audio": audio,
            "options": {k: v for k, v in options.items() if k not in ("fp16", "verbose")},
            "min_greedy_margin": min(margins["greedy"]),
            "min_language_logprob_margin": min(margins["language"]) if margins["language"] else None,
            "result": clean(result),
        })
    write_fixture("whisper/transcribe.json", out)


if __name__ == "__main__":
    main()
