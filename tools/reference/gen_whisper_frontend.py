"""Fixtures for @tessera/whisper's front end: audio decoding, log-mel features, tokenizer.

Needs: openai-whisper (with torch, CPU is fine), transformers, tiktoken, soundfile, and the ffmpeg CLI
(Debian's `ffmpeg` package) to make the small encoded test files.
    pip install openai-whisper transformers tiktoken soundfile && apt-get install -y ffmpeg
    python3 tools/reference/gen_whisper_frontend.py

Writes test/fixtures/whisper/: audio.json, mel.json, tokenizer.json, audio/* (small encoded files)
and hf_tokenizer/tokenizer.json (a Hugging Face tokenizer.json cut down to the test strings).
Decoders used for the expected values: soundfile (libsndfile) for the raw FLAC/WAV samples, the
ffmpeg CLI for everything at 16 kHz (as openai-whisper's load_audio).
"""
import base64
import hashlib
import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import soundfile as sf

sys.path.insert(0, os.path.dirname(__file__))
from common import FIXTURES, ROOT, write_fixture  # noqa: E402

# The shared data folder sits beside the checkout (../shared), or beside the worktrees' folder.
SHARED = next((d for d in [os.path.join(ROOT, "..", "shared", "data"), os.path.join(ROOT, "..", "..", "shared", "data")]
               if os.path.isdir(d)), "/work/shared/data")
JFK = os.path.join(SHARED, "audio", "jfk.flac")
OUT = os.path.join(FIXTURES, "whisper")
AUDIO = os.path.join(OUT, "audio")


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def ffmpeg_decode(path, sr=16000):
    """As openai-whisper's load_audio, but float32 output (no 16-bit rounding). With s16 output ffmpeg
    scales its downmix matrix to at most 1 (stereo: 0.5 L + 0.5 R); with float output it would not
    (0.707 L + 0.707 R) unless told so by -rematrix_maxval 1."""
    out = subprocess.run(["ffmpeg", "-nostdin", "-threads", "0", "-i", path, "-f", "f32le", "-ac", "1", "-ar", str(sr), "-rematrix_maxval", "1", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(out, np.float32)


def r6(x, digits=6):
    return [round(float(v), digits) for v in np.asarray(x).ravel()]


def sweep(seconds=2.0, sr=16000, f0=50.0, f1=7500.0, amp=0.5):
    """The test signal the TS test regenerates: a linear sine sweep (float64, then float32)."""
    t = np.arange(int(seconds * sr), dtype=np.float64) / sr
    return (amp * np.sin(2 * np.pi * (f0 * t + (f1 - f0) * t * t / (2 * seconds)))).astype(np.float32)


def tones(n, sr):
    """440 Hz + 1 kHz + 3.5 kHz: all below 7.7 kHz, so resampling to 16 kHz keeps them exactly."""
    t = np.arange(n, dtype=np.float64) / sr
    return 0.3 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 1000 * t + 0.5) + 0.1 * np.sin(2 * np.pi * 3500 * t + 1.0)


# ---------------------------------------------------------------- audio
def gen_audio():
    os.makedirs(AUDIO, exist_ok=True)
    cases = {}
    raw, sr = sf.read(JFK, dtype="float64", always_2d=True)
    idx = [0, 1000, 44100, 100000, 250000, raw.shape[0] - 1]
    at16 = ffmpeg_decode(JFK)
    cases["jfk_flac"] = {
        "decoder": "soundfile (libsndfile) for the raw samples, ffmpeg CLI (swr) for 16 kHz mono",
        "sample_rate": sr, "channels": raw.shape[1], "frames": raw.shape[0],
        "raw_indices": idx, "raw_values": [r6(raw[i]) for i in idx],
        "length_16k": int(at16.size), "every_1000_16k": r6(at16[::1000]), "rms_16k": float(np.sqrt(np.mean(at16.astype(np.float64) ** 2))),
    }
    # The 5 s excerpt the mel test reads: 16-bit 16 kHz mono FLAC (lossless, so exact on both sides).
    ffmpeg("-i", JFK, "-t", "5", "-ac", "1", "-ar", "16000", "-sample_fmt", "s16", os.path.join(AUDIO, "jfk_5s_16k.flac"))
    # 2 s of speech, encoded lossy: MP3 at 16 kHz (no resampling on either side), Ogg/Opus, Ogg/Vorbis, AAC in m4a.
    ffmpeg("-i", JFK, "-t", "2", "-ac", "1", "-ar", "16000", "-c:a", "libmp3lame", "-b:a", "32k", os.path.join(AUDIO, "speech_16k.mp3"))
    ffmpeg("-i", JFK, "-t", "2", "-ac", "1", "-ar", "48000", "-c:a", "libopus", "-b:a", "24k", os.path.join(AUDIO, "speech.opus"))
    ffmpeg("-i", JFK, "-t", "2", "-ac", "2", "-ar", "22050", "-c:a", "libvorbis", "-q:a", "0", os.path.join(AUDIO, "speech_stereo.ogg"))
    ffmpeg("-i", JFK, "-t", "1", "-ac", "1", "-ar", "16000", "-c:a", "aac", "-b:a", "24k", os.path.join(AUDIO, "speech.m4a"))
    for name in ["speech_16k.mp3", "speech.opus", "speech_stereo.ogg", "speech.m4a"]:
        d = ffmpeg_decode(os.path.join(AUDIO, name))
        cases[name] = {"decoder": "ffmpeg CLI", "length_16k": int(d.size), "every_100_16k": r6(d[::100]),
                       "rms_16k": float(np.sqrt(np.mean(d.astype(np.float64) ** 2)))}
    # WAV variants of the same tones (exact expectations computed in the test from the formula).
    n16 = 4000
    x16 = tones(n16, 16000)
    sf.write(os.path.join(AUDIO, "tones_16k_int16.wav"), x16, 16000, subtype="PCM_16")
    sf.write(os.path.join(AUDIO, "tones_16k_float32.wav"), x16.astype(np.float32), 16000, subtype="FLOAT")
    n44 = 11025
    x44 = tones(n44, 44100)
    stereo = np.stack([x44, 0.5 * x44], axis=1)  # mono mix = 0.75 * tones
    sf.write(os.path.join(AUDIO, "tones_44k_stereo_int16.wav"), stereo, 44100, subtype="PCM_16")
    sf.write(os.path.join(AUDIO, "tones_22k_int24.wav"), tones(5513, 22050), 22050, subtype="PCM_24")
    sf.write(os.path.join(AUDIO, "empty.wav"), np.zeros(0), 16000, subtype="PCM_16")
    for name in ["tones_16k_int16.wav", "tones_16k_float32.wav", "tones_44k_stereo_int16.wav", "tones_22k_int24.wav"]:
        d = ffmpeg_decode(os.path.join(AUDIO, name))
        raw, sr = sf.read(os.path.join(AUDIO, name), dtype="float64", always_2d=True)
        cases[name] = {"decoder": "soundfile for raw, ffmpeg CLI for 16 kHz", "sample_rate": sr, "channels": raw.shape[1],
                       "frames": raw.shape[0], "first_raw": r6(raw[:8, 0]), "length_16k": int(d.size), "every_100_16k": r6(d[::100])}
    write_fixture("whisper/audio.json", {"cases": cases})


# ---------------------------------------------------------------- mel
def gen_mel():
    import torch
    import whisper.audio as wa
    from transformers import WhisperFeatureExtractor

    jfk5, sr = sf.read(os.path.join(AUDIO, "jfk_5s_16k.flac"), dtype="float32")
    assert sr == 16000
    inputs = {"sweep_2s": sweep(), "jfk_5s": jfk5}
    cases = []
    for name, audio in inputs.items():
        n_audio_frames = audio.size // 160
        for n_mels in (80, 128):
            # As openai-whisper's transcribe(): pad with 30 s of zeros, take the first 3000 frames.
            ref = wa.log_mel_spectrogram(torch.from_numpy(audio), n_mels, padding=wa.N_SAMPLES)[:, : wa.N_FRAMES].numpy()
            fe = WhisperFeatureExtractor(feature_size=n_mels)
            padded = np.pad(audio, (0, wa.N_SAMPLES - audio.size))
            hf = fe._np_extract_fbank_features(padded[None].astype(np.float64), "cpu")[0]
            hf_diff = float(np.abs(hf - ref).max())
            assert hf_diff < 1e-4, (name, n_mels, hf_diff)
            frames = sorted(set(list(range(0, n_audio_frames + 3, 12)) + [n_audio_frames - 1, n_audio_frames, 1500, 2999]))
            # Unpadded (padding=0): openai-whisper's own output, n_audio_frames frames.
            unpadded = wa.log_mel_spectrogram(torch.from_numpy(audio), n_mels).numpy()
            uframes = list(range(0, unpadded.shape[1], 16)) + [unpadded.shape[1] - 1]
            cases.append({
                "input": name, "n_mels": n_mels, "shape": [wa.N_FRAMES, n_mels],
                "frames": frames, "values": [r6(ref[:, f], 5) for f in frames],
                "sum": float(ref.astype(np.float64).sum()), "abs_sum": float(np.abs(ref.astype(np.float64)).sum()),
                "max_diff_transformers_vs_openai": hf_diff,
                "unpadded_shape": [unpadded.shape[1], n_mels], "unpadded_frames": uframes,
                "unpadded_values": [r6(unpadded[:, f], 5) for f in uframes],
            })
            print(f"mel {name} {n_mels}: transformers vs openai-whisper max diff {hf_diff:.2e}")
    write_fixture("whisper/mel.json", {"sweep": {"seconds": 2.0, "sr": 16000, "f0": 50.0, "f1": 7500.0, "amp": 0.5}, "cases": cases})


# ---------------------------------------------------------------- tokenizer
STRINGS = [
    "Hello world!",
    " And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country.",
    "It's 3:45 p.m. - isn't it? They'll've done 12345 67.89 things.",
    "a  b\n\n c\t d   ",
    "Grüße aus München, ça va? Ñandú, façade, naïve.",
    "日本語のテキストです。東京へ行きましょう！",
    "我们一起去吃饭吧，好不好？",
    "한국어 문장입니다.",
    "Привет, мир! Как дела?",
    "مرحبا بالعالم",
    "नमस्ते दुनिया",
    "🙂🚀 emoji 👨‍👩‍👧 ✨ ♪♪ ♫ music ♪",
    "ℌ𝔢𝔩𝔩𝔬 𝓦𝓸𝓻𝓵𝓭",
    "[MUSIC] (laughs) <<quiet>> -- \"quoted\"",
]
SPECIAL_STRINGS = [
    "<|startoftranscript|><|en|><|transcribe|><|notimestamps|> Hello world.<|endoftext|>",
    "<|0.00|> Hi there.<|1.08|><|1.08|> Again<|30.00|>",
    "<|startofprev|> previous text<|startoftranscript|><|ja|><|translate|>",
]


def load_whisper_tokenizer_module():
    # whisper/tokenizer.py needs only tiktoken; load it alone so torch is not imported for it.
    import whisper

    path = os.path.join(os.path.dirname(whisper.__file__), "tokenizer.py")
    spec = importlib.util.spec_from_file_location("whisper_tokenizer", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def check_vocab_files(mod):
    import whisper

    assets = os.path.join(os.path.dirname(whisper.__file__), "assets")
    for name in ["gpt2.tiktoken", "multilingual.tiktoken", "mel_filters.npz"]:
        a = open(os.path.join(assets, name), "rb").read()
        b = open(os.path.join(SHARED, "whisper", name), "rb").read()
        assert hashlib.sha256(a).digest() == hashlib.sha256(b).digest(), f"{name} differs from openai-whisper's"


def tokenizer_info(tok):
    enc = tok.encoding
    return {
        "n_vocab": enc.n_vocab,
        "specials": {k: tok.special_tokens[k] for k in ["<|endoftext|>", "<|startoftranscript|>", "<|translate|>", "<|transcribe|>", "<|startoflm|>",
                                                          "<|startofprev|>", "<|nospeech|>", "<|notimestamps|>", "<|0.00|>", "<|30.00|>", "<|en|>"]},
        "sot_sequence": list(tok.sot_sequence),
        "sot_sequence_including_notimestamps": list(tok.sot_sequence_including_notimestamps),
        "non_speech_tokens": list(tok.non_speech_tokens),
        "all_language_codes": list(tok.all_language_codes),
        "all_language_tokens": list(tok.all_language_tokens),
        "encode": [enc.encode(s) for s in STRINGS],
        "encode_special": [enc.encode(s, allowed_special="all") for s in SPECIAL_STRINGS],
    }


def gen_tokenizer():
    mod = load_whisper_tokenizer_module()
    check_vocab_files(mod)
    configs = {
        "gpt2": dict(multilingual=False),
        "multilingual": dict(multilingual=True),
        "multilingual_ja_translate": dict(multilingual=True, language="Japanese", task="translate"),
        "large_v3_yue": dict(multilingual=True, num_languages=100, language="yue"),
    }
    out = {"strings": STRINGS, "special_strings": SPECIAL_STRINGS, "tokenizers": {}}
    for name, cfg in configs.items():
        tok = mod.get_tokenizer(**cfg)
        info = tokenizer_info(tok)
        info["config"] = cfg
        out["tokenizers"][name] = info
    ml = mod.get_tokenizer(True)
    ids = ml.encoding.encode(SPECIAL_STRINGS[1], allowed_special="all")
    out["decode"] = {"ids": ids, "decode": ml.decode(ids), "decode_with_timestamps": ml.decode_with_timestamps(ids)}
    # Word splitting: spaces (en) and unicode boundaries (ja, zh).
    splits = []
    for lang, text in [("en", " And so my fellow Americans, ask not what your country can do for you."), ("en", " Grüße! 🙂🚀 It's ok - 3.5%"),
                       ("ja", "日本語のテキストです。東京へ行きましょう！"), ("zh", "我们一起去吃饭吧，好不好？"), ("en", "ℌ𝔢𝔩𝔩𝔬 world")]:
        tok = mod.get_tokenizer(True, language=lang)
        ids = [tok.sot, *tok.encode(text), tok.timestamp_begin + 50, tok.eot]
        words, word_tokens = tok.split_to_word_tokens(ids)
        splits.append({"language": lang, "tokens": ids, "words": words, "word_tokens": word_tokens})
    out["split_to_word_tokens"] = splits
    out["language_aliases"] = {k: mod.TO_LANGUAGE_CODE[k] for k in ["english", "mandarin", "castilian", "burmese", "cantonese"]}
    write_fixture("whisper/tokenizer.json", out)
    gen_hf_tokenizer(mod)


def gen_hf_tokenizer(mod):
    """A tokenizer.json in the openai/whisper-* layout (ByteLevel BPE, vocab + merges, added_tokens for
    the specials up to <|notimestamps|>, as older exports have it), from multilingual.tiktoken through
    transformers' TikTokenConverter, then cut down to the tokens the test strings can reach."""
    import regex
    from tokenizers import Tokenizer
    from transformers.convert_slow_tokenizer import TikTokenConverter, bytes_to_unicode

    path = os.path.join(SHARED, "whisper", "multilingual.tiktoken")
    vocab, merges = TikTokenConverter(vocab_file=path).extract_vocab_merges_from_model(path)
    enc = mod.get_encoding("multilingual")
    pat = regex.compile(enc._pat_str)
    b2u = bytes_to_unicode()
    to_u = lambda b: "".join(b2u[x] for x in b)  # noqa: E731
    words = set()
    texts = STRINGS + [s for s in SPECIAL_STRINGS]
    for s in texts:
        for special in sorted(enc.special_tokens_set, key=len, reverse=True):
            s = s.replace(special, " ")
        words.update(to_u(w.encode("utf-8")) for w in pat.findall(s))
    keep = set(b2u.values())
    for w in words:
        for i in range(len(w)):
            for j in range(i + 1, len(w) + 1):
                if w[i:j] in vocab:
                    keep.add(w[i:j])
    sub_vocab = {t: i for t, i in vocab.items() if t in keep}
    sub_merges = [f"{a} {b}" for a, b in merges if a + b in keep and a in keep and b in keep]
    specials = sorted((t for t in enc.special_tokens_set if not t[2].isdigit()), key=enc.encode_single_token)
    added = [{"id": enc.encode_single_token(t), "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for t in specials]
    sub_vocab["<|endoftext|>"] = enc.eot_token  # vocab.json of the real checkpoints has it too
    doc = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "", "end_of_word_suffix": "",
                  "fuse_unk": False, "byte_fallback": False, "vocab": sub_vocab, "merges": sub_merges},
    }
    os.makedirs(os.path.join(OUT, "hf_tokenizer"), exist_ok=True)
    dest = os.path.join(OUT, "hf_tokenizer", "tokenizer.json")
    with open(dest, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))
    # The full converted tokenizer must tokenize the test strings exactly as tiktoken does...
    full = dict(doc, model=dict(doc["model"], vocab=dict(vocab, **{"<|endoftext|>": enc.eot_token}), merges=[f"{a} {b}" for a, b in merges]))
    hf = Tokenizer.from_str(json.dumps(full))
    for s in STRINGS:
        assert hf.encode(s, add_special_tokens=False).ids == enc.encode(s), s
    for s in SPECIAL_STRINGS:
        if "<|0." in s or "<|1." in s or "<|30." in s:
            continue  # timestamps are not added tokens in this (older) layout
        assert hf.encode(s, add_special_tokens=False).ids == enc.encode(s, allowed_special="all"), s
    # ... and so must the cut-down file for plain text (the tokenizers library renumbers added tokens
    # whose ids are not contiguous with the cut vocabulary, so specials are checked only above).
    cut = Tokenizer.from_file(dest)
    for s in STRINGS:
        assert cut.encode(s, add_special_tokens=False).ids == enc.encode(s), s
    print(f"wrote {os.path.relpath(dest, ROOT)} ({os.path.getsize(dest) // 1024} KiB), {len(sub_vocab)} tokens, {len(sub_merges)} merges")


if __name__ == "__main__":
    parts = sys.argv[1:] or ["audio", "mel", "tokenizer"]
    for part in parts:
        {"audio": gen_audio, "mel": gen_mel, "tokenizer": gen_tokenizer}[part]()
