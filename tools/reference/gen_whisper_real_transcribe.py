"""openai-whisper's transcribe() on the real openai/whisper-base weights, for
packages/whisper/test/real-transcribe.test.ts: jfk.flac and the espeak-ng clips of
test/fixtures/whisper/speech, decoded by our loadAudio (tools/reference/whisper_audio.mts, so both
sides see the same samples), language "en", word timestamps, openai's defaults otherwise.

The HF folder is the one tools/weights/whisper-base.ts writes (run it first); its safetensors are
renamed to openai's state-dict keys and run in float32 with openai's published base alignment heads.
Writes test/fixtures/whisper/real_transcribe.json.

    python3 tools/reference/gen_whisper_real_transcribe.py [.cache/weights/openai-whisper-base] [jfk.flac]
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import whisper
from safetensors.numpy import load_file
from whisper import _ALIGNMENT_HEADS
from whisper.model import ModelDimensions, Whisper

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HF = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".cache", "weights", "openai-whisper-base")
JFK = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "..", "shared", "data", "audio", "jfk.flac")
SPEECH = os.path.join(ROOT, "test", "fixtures", "whisper", "speech")
OUT = os.path.join(ROOT, "test", "fixtures", "whisper", "real_transcribe.json")
RENAMES = [
    ("encoder.embed_positions.weight", "encoder.positional_embedding"),
    ("decoder.embed_positions.weight", "decoder.positional_embedding"),
    ("decoder.embed_tokens", "decoder.token_embedding"), (".layers.", ".blocks."),
    ("self_attn_layer_norm", "attn_ln"), ("encoder_attn_layer_norm", "cross_attn_ln"),
    ("self_attn.", "attn."), ("encoder_attn.", "cross_attn."), ("q_proj", "query"), ("k_proj", "key"),
    ("v_proj", "value"), ("out_proj", "out"), ("fc1", "mlp.0"), ("fc2", "mlp.2"),
    ("final_layer_norm", "mlp_ln"), ("encoder.layer_norm", "encoder.ln_post"), ("decoder.layer_norm", "decoder.ln"),
]


def load_model():
    with open(os.path.join(HF, "config.json")) as f:
        c = json.load(f)
    dims = ModelDimensions(
        n_mels=c["num_mel_bins"], n_audio_ctx=c["max_source_positions"], n_audio_state=c["d_model"],
        n_audio_head=c["encoder_attention_heads"], n_audio_layer=c["encoder_layers"], n_vocab=c["vocab_size"],
        n_text_ctx=c["max_target_positions"], n_text_state=c["d_model"], n_text_head=c["decoder_attention_heads"],
        n_text_layer=c["decoder_layers"])
    state = {}
    for k, v in load_file(os.path.join(HF, "model.safetensors")).items():
        if k == "proj_out.weight":
            continue
        k = k.replace("model.", "", 1)
        for a, b in RENAMES:
            k = k.replace(a, b)
        state[k] = torch.from_numpy(v.astype(np.float32))
    model = Whisper(dims)
    model.load_state_dict(state)
    model.set_alignment_heads(_ALIGNMENT_HEADS["base"])
    return model.float().eval()


def samples(path):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "s.f32")
        subprocess.run(["npx", "tsx", os.path.join(ROOT, "tools", "reference", "whisper_audio.mts"), path, out], check=True, cwd=ROOT)
        return np.fromfile(out, dtype=np.float32)


def main():
    model = load_model()
    clips = [("jfk", JFK)] + [(f[:-5], os.path.join(SPEECH, f)) for f in sorted(os.listdir(SPEECH)) if f.endswith(".flac")]
    results = {}
    for name, path in clips:
        r = whisper.transcribe(model, samples(path), language="en", word_timestamps=True, fp16=False)
        results[name] = {
            "text": r["text"],
            "segments": [{k: s[k] for k in ("seek", "start", "end", "text", "tokens", "temperature", "avg_logprob", "words")} for s in r["segments"]],
        }
        print(name, r["text"])
    with open(OUT, "w") as f:
        json.dump({"model": "openai/whisper-base (PyPI CTranslate2 copy, float16 values in float32)", "results": results}, f)


if __name__ == "__main__":
    main()
