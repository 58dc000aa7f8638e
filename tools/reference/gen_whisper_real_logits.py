"""Reference logits of the real openai/whisper-base (transformers, float32) for
packages/whisper/test/real-weights.test.ts: teacher-forced tokens on jfk_5s_16k.flac.

The HF folder is the one tools/weights/whisper-base.ts writes (run it first). The mel is openai-whisper's
log_mel_spectrogram (torch.stft, mel_filters.npz) of the clip padded with 30 s of zeros, first 3000
frames, as openai's transcribe() computes it. Tokens: the SOT sequence (en, transcribe,
notimestamps) + the greedy transcript + EOT. Writes test/fixtures/whisper/real_logits.json.

    python3 tools/reference/gen_whisper_real_logits.py [.cache/weights/openai-whisper-base]
"""
import json
import os
import subprocess
import sys

import numpy as np
import torch
from transformers import WhisperForConditionalGeneration, WhisperTokenizerFast

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HF = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".cache", "weights", "openai-whisper-base")
CLIP = os.path.join(ROOT, "test", "fixtures", "whisper", "audio", "jfk_5s_16k.flac")
OUT = os.path.join(ROOT, "test", "fixtures", "whisper", "real_logits.json")
N_SAMPLES, N_FFT, HOP = 480000, 400, 160


def log_mel(audio, n_mels=80):
    with np.load(os.path.join(ROOT, "packages", "whisper", "assets", "mel_filters.npz")) as f:
        filters = torch.from_numpy(f[f"mel_{n_mels}"])
    x = torch.nn.functional.pad(torch.from_numpy(audio), (0, N_SAMPLES))
    stft = torch.stft(x, N_FFT, HOP, window=torch.hann_window(N_FFT), return_complex=True)
    mags = stft[..., :-1].abs() ** 2
    log_spec = torch.clamp(filters @ mags, min=1e-10).log10()
    log_spec = torch.maximum(log_spec, log_spec.max() - 8.0)
    return ((log_spec + 4.0) / 4.0)[:, :3000]


def main():
    raw = subprocess.run(["ffmpeg", "-loglevel", "error", "-i", CLIP, "-f", "f32le", "-ac", "1", "-"],
                         check=True, capture_output=True).stdout
    audio = np.frombuffer(raw, dtype=np.float32).copy()
    model = WhisperForConditionalGeneration.from_pretrained(HF, dtype=torch.float32).eval()
    tok = WhisperTokenizerFast.from_pretrained(HF)
    ids = lambda t: tok.convert_tokens_to_ids(t)
    prefix = [ids("<|startoftranscript|>"), ids("<|en|>"), ids("<|transcribe|>"), ids("<|notimestamps|>")]
    eot = ids("<|endoftext|>")
    mel = log_mel(audio)[None]
    with torch.no_grad():
        enc = model.model.encoder(mel).last_hidden_state
        tokens = list(prefix)
        while len(tokens) < 60:
            logits = model(encoder_outputs=(enc,), decoder_input_ids=torch.tensor([tokens])).logits[0, -1]
            nxt = int(logits.argmax())
            tokens.append(nxt)
            if nxt == eot:
                break
        logits = model(encoder_outputs=(enc,), decoder_input_ids=torch.tensor([tokens])).logits[0].numpy()
    rng = np.random.default_rng(0)
    probe = sorted(int(i) for i in rng.choice(logits.shape[1], 64, replace=False))
    positions = []
    for row in logits:
        top = np.argsort(-row)[:10]
        lse = float(np.log(np.exp(row - row.max()).sum()) + row.max())
        positions.append({
            "top": [int(i) for i in top], "topLogits": [round(float(row[i]), 5) for i in top],
            "probeLogits": [round(float(row[i]), 5) for i in probe], "logsumexp": round(lse, 5),
        })
    text = tok.decode(tokens[len(prefix):], skip_special_tokens=True)
    meta = {
        "about": "openai/whisper-base (faster-whisper float16 weights via tools/weights) in transformers float32; "
                 "tools/reference/gen_whisper_real_logits.py",
        "clip": "whisper/audio/jfk_5s_16k.flac", "tokens": tokens, "text": text, "probe": probe,
        "encoderMeanAbs": round(float(enc.abs().mean()), 6), "positions": positions,
    }
    with open(OUT, "w") as f:
        json.dump(meta, f)
        f.write("\n")
    print(repr(text), len(tokens), os.path.getsize(OUT))


if __name__ == "__main__":
    main()
