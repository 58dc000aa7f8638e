"""Speech clips with exact word times for the real-weights Whisper tests (run by hand; needs espeak-ng
and ffmpeg; CI uses the committed FLAC files).

Each sentence is spoken one word at a time by espeak-ng (en-us, 150 wpm); each word's audio is
trimmed to where it is audible (first/last sample above -40 dB of the clip's peak, i.e. 1% of
full amplitude), resampled to 16 kHz, and the words are joined with known silences. So a word's
start/end in the clip are known to the sample. Writes test/fixtures/whisper/speech/<name>.flac
(16 kHz mono 16-bit) and speech.json: { clips: [{ file, text, words: [{ word, start, end }] }] }.

    python3 tools/reference/gen_whisper_speech.py
"""
import json
import os
import subprocess
import tempfile

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "test", "fixtures", "whisper", "speech")
SR = 16000
LEAD = 0.5  # silence before the first word and after the last (s)

# (name, words, gap seconds between words): common words, so Whisper base gets them exactly.
SENTENCES = [
    ("garden", "My sister planted flowers in her garden.", 0.12),
    ("weather", "The weather is nice today, so we will walk to the park.", 0.15),
    ("phone", "Please call me back tomorrow morning.", 0.2),
    ("library", "She reads a book every night before going to sleep.", 0.1),
]


def speak(text):
    """espeak-ng -> float32 mono at 16 kHz (ffmpeg's resampler)."""
    with tempfile.TemporaryDirectory() as d:
        wav = os.path.join(d, "w.wav")
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", wav, text], check=True)
        raw = subprocess.run(["ffmpeg", "-loglevel", "error", "-i", wav, "-ac", "1", "-ar", str(SR), "-f", "f32le", "-"],
                             check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype=np.float32).copy()


def trim(x, threshold):
    idx = np.nonzero(np.abs(x) > threshold)[0]
    return x[idx[0]: idx[-1] + 1]


def render(words, gap):
    clips = [speak(w) for w in words]
    peak = max(float(np.abs(c).max()) for c in clips)
    clips = [trim(c, 0.01 * peak) for c in clips]
    parts, times, t = [np.zeros(int(LEAD * SR), np.float32)], [], int(LEAD * SR)
    for i, c in enumerate(clips):
        if i:
            parts.append(np.zeros(int(gap * SR), np.float32))
            t += int(gap * SR)
        parts.append(c)
        times.append((t / SR, (t + len(c)) / SR))
        t += len(c)
    parts.append(np.zeros(int(LEAD * SR), np.float32))
    audio = np.concatenate(parts)
    return audio * (0.5 / max(peak, 1e-9)), times


def write_flac(path, audio):
    pcm = np.clip(np.round(audio * 32767), -32768, 32767).astype("<i2").tobytes()
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "s16le", "-ar", str(SR), "-ac", "1", "-i", "-",
                    "-compression_level", "8", path], input=pcm, check=True)


def main():
    os.makedirs(OUT, exist_ok=True)
    clips = []
    for name, text, gap in SENTENCES:
        words = text.split()
        # espeak reads the bare word; the transcript keeps the punctuation.
        audio, times = render([w.strip(".,") for w in words], gap)
        write_flac(os.path.join(OUT, f"{name}.flac"), audio)
        clips.append({
            "file": f"{name}.flac", "text": text, "gapSeconds": gap, "durationSeconds": round(len(audio) / SR, 4),
            "words": [{"word": w, "start": round(s, 4), "end": round(e, 4)} for w, (s, e) in zip(words, times)],
        })
    meta = {
        "about": "espeak-ng (en-us, 150 wpm) words rendered one at a time, trimmed at -40 dB of peak, joined with "
                 "known silences; made by tools/reference/gen_whisper_speech.py. Times in seconds.",
        "espeak": subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True).stdout.strip(),
        "clips": clips,
    }
    with open(os.path.join(OUT, "speech.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print(json.dumps([(c["file"], c["durationSeconds"]) for c in clips]))


if __name__ == "__main__":
    main()
