"""Silero VAD references (the PyPI package silero-vad 6.2.3, its TorchScript model silero_vad.jit):
per-chunk speech probabilities (512 samples at 16 kHz, as get_speech_timestamps computes them) and
get_speech_timestamps' own output with its defaults and with faster-whisper's, on our loadAudio's
samples (tools/reference/whisper_audio.mts) of test/fixtures/whisper/speech clips joined with long
silences. Writes test/fixtures/whisper/vad.json.

    pip install --no-deps silero-vad==6.2.3 && python3 tools/reference/gen_whisper_vad.py
"""
import json
import os
import subprocess
import tempfile

import numpy as np
import torch
from silero_vad import get_speech_timestamps, load_silero_vad

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SPEECH = os.path.join(ROOT, "test", "fixtures", "whisper", "speech")
RATE = 16000


def samples(path):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "a.f32")
        subprocess.run(["npx", "tsx", os.path.join(ROOT, "tools", "reference", "whisper_audio.mts"), path, out], check=True, cwd=ROOT)
        return np.fromfile(out, dtype=np.float32)


def main():
    torch.set_num_threads(1)
    model = load_silero_vad()
    garden, library = samples(os.path.join(SPEECH, "garden.flac")), samples(os.path.join(SPEECH, "library.flac"))
    # 1.5 s of silence, garden, 4 s of silence, library, 3 s of silence: the "silences" clip.
    z = lambda s: np.zeros(int(s * RATE), np.float32)
    layout = [["silence", 1.5], ["garden", None], ["silence", 4.0], ["library", None], ["silence", 3.0]]
    parts = [z(s) if name == "silence" else {"garden": garden, "library": library}[name] for name, s in layout]
    clip = np.concatenate(parts)
    audio = torch.from_numpy(clip)
    model.reset_states()
    probs = []
    for i in range(0, len(clip), 512):
        chunk = audio[i:i + 512]
        if len(chunk) < 512:
            chunk = torch.nn.functional.pad(chunk, (0, 512 - len(chunk)))
        probs.append(model(chunk, RATE).item())
    defaults = get_speech_timestamps(audio, model)
    faster_whisper = get_speech_timestamps(audio, model, threshold=0.5, min_speech_duration_ms=0,
                                           min_silence_duration_ms=2000, speech_pad_ms=400)
    out = {
        "layout": layout, "samples": len(clip), "probs": probs,
        "timestamps": {"defaults": defaults, "faster_whisper": faster_whisper},
    }
    with open(os.path.join(ROOT, "test", "fixtures", "whisper", "vad.json"), "w") as f:
        json.dump(out, f)
    print(len(probs), defaults, faster_whisper)


if __name__ == "__main__":
    main()
