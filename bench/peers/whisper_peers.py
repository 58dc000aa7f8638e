"""Peers for bench/whisper.ts: whisper.cpp (pywhispercpp), faster-whisper (CTranslate2) and mlx-whisper
(on mlx-cpu), timed on the same clip, model sizes and thread count as ours.

    python3 bench/peers/whisper_peers.py prepare --work DIR [--sizes tiny,base] [--audio jfk.flac]
    python3 bench/peers/whisper_peers.py run --work DIR --out peers.json [--sizes tiny,base] [--threads 2]
        [--tokens 50] [--sample-len 32] [--iters 3] [--peers whisper.cpp,faster-whisper,mlx-whisper]
        [--real-ct2 DIR] [--real-mlx DIR] [--real-ggml FILE]

`prepare` writes, under DIR, a 60-s clip (clip.wav: jfk.flac four times with 4-s silences, 16 kHz mono)
and, for each size, random-weight models at openai-whisper's real dimensions made with each peer's own
tools: <size>-hf/ (transformers' save_pretrained, float16; our loader reads it too), <size>-ct2/
(ct2-transformers-converter of it, float32), <size>-mlx/ (mlx-community layout, float32) and
<size>-ggml.bin (whisper.cpp's convert-pt-to-ggml.py layout, 2-D weights float16, as its converter writes).

`run` times, per peer and size: the encoder on one 30-s window of log-mel [1, 80, 3000] (median of
--iters), the decoder per token (greedy, batch 1, after a 4-token prompt: time of --tokens more tokens,
divided by --tokens) and the real-time factor (transcribe time / 60 s) of the clip with word timestamps,
temperature 0, greedy, without timestamps, no previous-text conditioning and, with random weights, the
end-of-text token suppressed and --sample-len tokens per window, so every run decodes the same number
of tokens. Rows go to --out as JSON; a peer whose package is missing is skipped with one line.
Threads: every peer gets --threads (whisper.cpp n_threads, CTranslate2 intra_threads, OpenMP/BLAS
for MLX's CPU backend through the environment the caller sets).
"""
import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import time
import wave

import numpy as np

# openai-whisper's ModelDimensions of the published checkpoints.
SIZES = {
    "tiny": dict(n_mels=80, n_audio_ctx=1500, n_audio_state=384, n_audio_head=6, n_audio_layer=4, n_vocab=51865,
                 n_text_ctx=448, n_text_state=384, n_text_head=6, n_text_layer=4),
    "base": dict(n_mels=80, n_audio_ctx=1500, n_audio_state=512, n_audio_head=8, n_audio_layer=6, n_vocab=51865,
                 n_text_ctx=448, n_text_state=512, n_text_head=8, n_text_layer=6),
}
EOT, SOT, EN, TRANSCRIBE, NO_TIMESTAMPS = 50257, 50258, 50259, 50359, 50363
PROMPT = [SOT, EN, TRANSCRIBE, NO_TIMESTAMPS]
SAMPLE_RATE = 16000
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
# shared/ sits beside the checkout (or beside the folder of worktrees).
SHARED = next((d for d in [os.path.join(ROOT, "..", "shared", "data"), os.path.join(ROOT, "..", "..", "shared", "data")]
               if os.path.isdir(d)), "/work/shared/data")
CLIP_SECONDS = 60
# The random-weight init, openai names and ggml writer the reference generators use too.
sys.path.insert(0, os.path.join(ROOT, "tools", "reference"))
from whisper_shared import converter_tensor, openai_state, randomize_, write_ggml_header, write_ggml_tensor  # noqa: E402


def log(*a):
    print(*a, flush=True)


# ----------------------------------------------------------------------------------------- prepare


def load_audio(path):
    """16 kHz mono float32 samples through ffmpeg (as openai-whisper's load_audio)."""
    out = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "s16le", "-ac", "1", "-ar", "16000", "-"],
                         check=True, capture_output=True).stdout
    return np.frombuffer(out, np.int16).astype(np.float32) / 32768.0


def make_clip(path, audio):
    speech = load_audio(audio)
    parts, n = [], 0
    total = CLIP_SECONDS * SAMPLE_RATE
    while n < total:
        for piece in (speech, np.zeros(4 * SAMPLE_RATE, np.float32)):
            parts.append(piece[: total - n])
            n += len(parts[-1])
    samples = np.concatenate(parts)
    with wave.open(path, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(SAMPLE_RATE)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())


def random_hf_model(dims, seed):
    """transformers' WhisperForConditionalGeneration at `dims`, weights of order-one activations."""
    import torch
    from transformers import WhisperConfig, WhisperForConditionalGeneration

    torch.manual_seed(seed)
    d = dims
    cfg = WhisperConfig(
        vocab_size=d["n_vocab"], num_mel_bins=d["n_mels"], d_model=d["n_audio_state"],
        encoder_layers=d["n_audio_layer"], decoder_layers=d["n_text_layer"],
        encoder_attention_heads=d["n_audio_head"], decoder_attention_heads=d["n_text_head"],
        encoder_ffn_dim=4 * d["n_audio_state"], decoder_ffn_dim=4 * d["n_text_state"],
        max_source_positions=d["n_audio_ctx"], max_target_positions=d["n_text_ctx"],
        pad_token_id=EOT, bos_token_id=EOT, eos_token_id=EOT, decoder_start_token_id=SOT,
        suppress_tokens=[], begin_suppress_tokens=[],
    )
    return randomize_(WhisperForConditionalGeneration._from_config(cfg, attn_implementation="eager").eval())


def tiktoken_vocab():
    """The multilingual vocabulary's token bytes by id (whisper.cpp files carry them)."""
    path = os.path.join(SHARED, "whisper", "multilingual.tiktoken")
    tokens = []
    with open(path) as f:
        for line in f:
            if line.strip():
                tokens.append(base64.b64decode(line.split()[0]))
    return tokens


def write_tokenizer(folder):
    """tokenizer.json of the multilingual vocabulary (faster-whisper, the CT2 converter and our loader read
    it): openai-whisper's tiktoken encoding converted by transformers, its 1608 special tokens after it."""
    from tokenizers import AddedToken
    from transformers.convert_slow_tokenizer import TikTokenConverter
    from whisper.tokenizer import get_encoding

    enc = get_encoding("multilingual")
    tok = TikTokenConverter(vocab_file=os.path.join(SHARED, "whisper", "multilingual.tiktoken"), pattern=enc._pat_str).converted()
    specials = sorted(enc._special_tokens.items(), key=lambda kv: kv[1])
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s, _ in specials])
    for s, i in specials[:3] + specials[-1:]:
        assert tok.token_to_id(s) == i, (s, i, tok.token_to_id(s))
    tok.save(os.path.join(folder, "tokenizer.json"))


def write_ggml(path, dims, state):
    """whisper.cpp's models/convert-pt-to-ggml.py layout, float16 2-D weights (its default)."""
    filters = np.load(os.path.join(SHARED, "whisper", "mel_filters.npz"))[f"mel_{dims['n_mels']}"].astype(np.float32)
    with open(path, "wb") as f:
        write_ggml_header(f, dims, 1, filters, tiktoken_vocab())  # ftype 1: f16
        for name, data in state.items():
            data, t = converter_tensor(name, data)
            write_ggml_tensor(f, name, data.shape, t, data)


def write_mlx(path, dims, state):
    """mlx-community layout: config.json (openai's dims) + weights.npz, channels-last convolutions."""
    os.makedirs(path, exist_ok=True)
    w = {}
    for k, v in state.items():
        if k == "encoder.positional_embedding":
            continue
        k = k.replace(".mlp.0", ".mlp1").replace(".mlp.2", ".mlp2")
        w[k] = v.transpose(0, 2, 1) if "conv" in k and v.ndim == 3 else v
    np.savez(os.path.join(path, "weights.npz"), **w)
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump({**dims, "model_type": "whisper"}, f, indent=2)


def converter():
    exe = shutil.which("ct2-transformers-converter")
    if exe:
        return [exe]
    user = os.path.expanduser("~/.local/bin/ct2-transformers-converter")
    return [user] if os.path.exists(user) else [sys.executable, "-m", "ctranslate2.converters.transformers"]


def prepare(args):
    os.makedirs(args.work, exist_ok=True)
    clip = os.path.join(args.work, "clip.wav")
    if not os.path.exists(clip):
        make_clip(clip, args.audio)
        log(f"wrote {clip}")
    for i, size in enumerate(args.sizes):
        dims = SIZES[size]
        hf, ct2, mlx, ggml = (os.path.join(args.work, f"{size}-{x}") for x in ("hf", "ct2", "mlx", "ggml.bin"))
        done = os.path.join(args.work, f"{size}.done")
        if os.path.exists(done):
            continue
        model = random_hf_model(dims, seed=i)
        model.generation_config.alignment_heads = [[dims["n_text_layer"] - 1, h] for h in range(dims["n_text_head"])]
        model.half().save_pretrained(hf, safe_serialization=True)
        model.generation_config.save_pretrained(hf)
        write_tokenizer(hf)
        model.float()
        state = openai_state(model)
        write_ggml(ggml, dims, state)
        write_mlx(mlx, dims, state)
        try:
            subprocess.run([*converter(), "--model", hf, "--output_dir", ct2, "--quantization", "float32", "--force"],
                           check=True, capture_output=True, text=True)
            shutil.copy(os.path.join(hf, "tokenizer.json"), ct2)  # faster-whisper would fetch it from the Hub
        except (OSError, subprocess.CalledProcessError) as e:
            log(f"ct2-transformers-converter failed for {size} ({getattr(e, 'stderr', e)}); faster-whisper will be skipped")
        open(done, "w").close()
        log(f"wrote random-weight {size} models under {args.work}")


# --------------------------------------------------------------------------------------------- run


def median_time(fn, iters, warmup=1):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def clip_samples(args):
    with wave.open(os.path.join(args.work, "clip.wav")) as w:
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768.0


class Rows:
    def __init__(self):
        self.rows, self.info, self.skipped = [], {}, []

    def add(self, peer, size, what, value, unit, note=""):
        self.rows.append(dict(peer=peer, size=size, what=what, value=value, unit=unit, note=note))
        log(f"  {peer:28s} {size:5s} {what:10s} {value:10.4g} {unit} {note}")


def run_whisper_cpp(args, rows, size, model_path, random_weights):
    import _pywhispercpp as pw

    peer = "whisper.cpp (pywhispercpp)"
    rows.info[peer] = pw.whisper_print_system_info().strip()
    cparams = pw.whisper_context_default_params()
    cparams.use_gpu = False
    cparams.dtw_token_timestamps = False
    ctx = pw.whisper_init_from_file_with_params(model_path, cparams)
    if random_weights or args.micro:
        n_mels = pw.whisper_model_n_mels(ctx)
        mel = np.random.default_rng(0).standard_normal((n_mels, 3000)).astype(np.float32)
        pw.whisper_set_mel(ctx, mel.reshape(-1), 3000, n_mels)
        enc = median_time(lambda: pw.whisper_encode(ctx, 0, args.threads), args.iters)
        rows.add(peer, size, "encoder", enc * 1e3, "ms", "whisper_encode of one window (includes the cross-attention K/V)")

        def decode(n):
            for i, t in enumerate(PROMPT):
                pw.whisper_decode(ctx, t, 1, i, args.threads)
            t0 = time.perf_counter()
            tok = PROMPT[-1]
            for i in range(n):
                pw.whisper_decode(ctx, tok, 1, len(PROMPT) + i, args.threads)
                tok = 220 + i  # the token does not change the cost
            return time.perf_counter() - t0

        decode(4)
        per = sorted(decode(args.tokens) for _ in range(args.iters))[args.iters // 2] / args.tokens
        rows.add(peer, size, "decoder", per * 1e3, "ms/token", "whisper_decode of one token at a time")
    pw.whisper_free(ctx)

    # Transcribe: a fresh context with DTW word timestamps (openai's method) on the model's alignment heads.
    cparams = pw.whisper_context_default_params()
    cparams.use_gpu = False
    cparams.dtw_token_timestamps = True
    cparams.dtw_aheads_preset = pw.WHISPER_AHEADS_N_TOP_MOST if random_weights else {"tiny": pw.WHISPER_AHEADS_TINY, "base": pw.WHISPER_AHEADS_BASE}.get(size.removeprefix("real "), pw.WHISPER_AHEADS_N_TOP_MOST)
    cparams.dtw_n_top = 1
    ctx = pw.whisper_init_from_file_with_params(model_path, cparams)
    params = pw.whisper_full_default_params(pw.WHISPER_SAMPLING_GREEDY)
    params.n_threads = args.threads
    params.language = "en"
    params.temperature = 0.0
    params.temperature_inc = 0.0
    params.no_context = True
    params.token_timestamps = True
    params.print_progress = False
    params.print_realtime = False
    params.print_timestamps = False
    if random_weights:
        params.no_timestamps = True
        params.max_tokens = args.sample_len
    audio = clip_samples(args)

    def go():
        pw.whisper_full(ctx, params, audio, len(audio))
    t = median_time(go, max(1, args.iters // 2), warmup=0)
    n_tokens = sum(pw.whisper_full_n_tokens(ctx, s) for s in range(pw.whisper_full_n_segments(ctx)))
    rows.add(peer, size, "rtf", t / CLIP_SECONDS, "x", f"{t:.2f} s for {CLIP_SECONDS} s, {n_tokens} tokens decoded (stops at its own end-of-text)")
    pw.whisper_free(ctx)


def run_faster_whisper(args, rows, size, model_path, random_weights, compute_types):
    import ctranslate2
    from faster_whisper import WhisperModel

    peer = f"faster-whisper {ctranslate2.__version__}"
    rows.info[peer] = "CTranslate2 CPU ISA: " + str(getattr(ctranslate2, "get_supported_compute_types", lambda d: "?")("cpu"))
    audio = clip_samples(args)
    for ct in compute_types:
        name = f"{peer} {ct}"
        m = WhisperModel(model_path, device="cpu", compute_type=ct, cpu_threads=args.threads, num_workers=1)
        if random_weights or args.micro:
            mel = np.random.default_rng(0).standard_normal((1, 80, 3000)).astype(np.float32)
            enc = median_time(lambda: m.encode(mel), args.iters)
            rows.add(name, size, "encoder", enc * 1e3, "ms", "WhisperModel.encode of one window")
            feats = m.encode(mel)

            def gen(n):
                r = m.model.generate(feats, [PROMPT], beam_size=1, max_length=len(PROMPT) + n, suppress_tokens=[EOT],
                                     suppress_blank=False, return_scores=False)
                return len(r[0].sequences_ids[0])
            n1 = gen(args.tokens)
            t1 = median_time(lambda: gen(args.tokens), args.iters)
            n0 = gen(1)
            t0 = median_time(lambda: gen(1), args.iters)
            rows.add(name, size, "decoder", (t1 - t0) / max(1, n1 - n0) * 1e3, "ms/token",
                     f"(generate of {n1} tokens - of {n0}) / {n1 - n0}, from encoder output")
        kw = dict(language="en", beam_size=1, temperature=0.0, word_timestamps=True, condition_on_previous_text=False, vad_filter=False)
        if random_weights:
            kw.update(without_timestamps=True, no_speech_threshold=None, max_new_tokens=args.sample_len, suppress_tokens=[EOT],
                      suppress_blank=False)
        count = [0]

        def go():
            segs, _ = m.transcribe(audio, **kw)
            count[0] = sum(len(s.tokens) for s in segs)
        t = median_time(go, max(1, args.iters // 2), warmup=0)
        rows.add(name, size, "rtf", t / CLIP_SECONDS, "x", f"{t:.2f} s for {CLIP_SECONDS} s, {count[0]} tokens")
        del m


def run_mlx_whisper(args, rows, size, model_path, random_weights, bits):
    import mlx.core as mx
    import mlx.nn as nn
    import mlx_whisper
    from mlx_whisper.load_models import load_model

    mx.set_default_device(mx.cpu)
    peer = f"mlx-whisper (mlx {mx.__version__}, cpu)"
    rows.info[peer] = "mlx CPU backend; threads from OMP_NUM_THREADS / the BLAS environment"
    audio = clip_samples(args)
    for b in bits:
        name = peer + (f" {b}-bit" if b else " float32")
        model = load_model(model_path, dtype=mx.float32)
        if b:
            nn.quantize(model, group_size=64, bits=b)
        if random_weights or args.micro:
            mel = mx.array(np.random.default_rng(0).standard_normal((1, 3000, 80)).astype(np.float32))
            enc = median_time(lambda: mx.eval(model.embed_audio(mel)), 1, warmup=0)
            rows.add(name, size, "encoder", enc * 1e3, "ms", "embed_audio of one window")
            feats = model.embed_audio(mel)
            mx.eval(feats)

            def decode(n):
                logits, kv, _ = model.decoder(mx.array([PROMPT]), feats, kv_cache=None)
                tok = mx.argmax(logits[:, -1], axis=-1)
                mx.eval(tok, kv)
                t0 = time.perf_counter()
                for _ in range(n):
                    logits, kv, _ = model.decoder(tok[:, None], feats, kv_cache=kv)
                    tok = mx.argmax(logits[:, -1], axis=-1)
                    mx.eval(tok)
                return time.perf_counter() - t0
            decode(4)
            per = sorted(decode(args.tokens) for _ in range(args.iters))[args.iters // 2] / args.tokens
            rows.add(name, size, "decoder", per * 1e3, "ms/token", "incremental decoder call + argmax, one token at a time")
        if b:
            continue  # mlx_whisper.transcribe loads the folder itself (float32 here)
        if not args.mlx_rtf:
            line = f"{name} {size}: real-time factor not measured (slow on mlx's CPU backend; --mlx-rtf to run it)"
            log(line)
            rows.skipped.append(line)
            continue
        kw = dict(path_or_hf_repo=model_path, language="en", temperature=0.0, word_timestamps=True,
                  condition_on_previous_text=False, fp16=False, verbose=None)
        if random_weights:
            kw.update(without_timestamps=True, no_speech_threshold=None, sample_len=args.sample_len,
                      suppress_tokens=[EOT], suppress_blank=False)
        count = [0]

        def go():
            r = mlx_whisper.transcribe(audio, **kw)
            count[0] = sum(len(s["tokens"]) for s in r["segments"])
        t = median_time(go, max(1, args.iters // 2), warmup=1)
        rows.add(name, size, "rtf", t / CLIP_SECONDS, "x", f"{t:.2f} s for {CLIP_SECONDS} s, {count[0]} tokens")


PEERS = {
    "whisper.cpp": ("_pywhispercpp", "pywhispercpp"),
    "faster-whisper": ("faster_whisper", "faster-whisper"),
    "mlx-whisper": ("mlx_whisper", "mlx-whisper"),
}


def run(args):
    import importlib.util

    prepare(args)
    rows = Rows()
    for peer in args.peers:
        module, package = PEERS[peer]
        if importlib.util.find_spec(module) is None:
            line = f"{peer}: skipped, Python package {package} is not installed (pip install -r bench/peers/requirements.txt)"
            log(line)
            rows.skipped.append(line)
            continue
        models = [(s, True, {"whisper.cpp": os.path.join(args.work, f"{s}-ggml.bin"),
                             "faster-whisper": os.path.join(args.work, f"{s}-ct2"),
                             "mlx-whisper": os.path.join(args.work, f"{s}-mlx")}[peer]) for s in args.sizes]
        real = {"whisper.cpp": args.real_ggml, "faster-whisper": args.real_ct2, "mlx-whisper": args.real_mlx}[peer]
        if real:
            models.append(("real " + args.real_name, False, real))
        for size, random_weights, path in models:
            if not os.path.exists(path):
                line = f"{peer} {size}: skipped, {path} does not exist"
                log(line)
                rows.skipped.append(line)
                continue
            try:
                if peer == "whisper.cpp":
                    run_whisper_cpp(args, rows, size, path, random_weights)
                elif peer == "faster-whisper":
                    run_faster_whisper(args, rows, size, path, random_weights,
                                       ["int8", "float32"] if random_weights else ["int8", "float32"])
                else:
                    run_mlx_whisper(args, rows, size, path, random_weights, [None, 4] if random_weights else [None])
            except Exception as e:  # a broken peer must not take the others down
                line = f"{peer} {size}: failed: {type(e).__name__}: {e}"
                log(line)
                rows.skipped.append(line)
    with open(args.out, "w") as f:
        json.dump(dict(rows=rows.rows, info=rows.info, skipped=rows.skipped, threads=args.threads,
                       tokens=args.tokens, sample_len=args.sample_len), f, indent=1)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["prepare", "run"])
    p.add_argument("--work", required=True)
    p.add_argument("--sizes", default="tiny,base", type=lambda s: [x for x in s.split(",") if x])
    p.add_argument("--audio", default=os.path.join(SHARED, "audio", "jfk.flac"))
    p.add_argument("--out")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--tokens", type=int, default=50)
    p.add_argument("--sample-len", type=int, default=32)
    p.add_argument("--iters", type=int, default=3)
    p.add_argument("--peers", default=",".join(PEERS), type=lambda s: [x for x in s.split(",") if x])
    p.add_argument("--micro", action="store_true", help="also encoder/decoder timings on real weights")
    p.add_argument("--mlx-rtf", action="store_true", help="also transcribe with mlx-whisper (minutes on its CPU backend)")
    p.add_argument("--real-ct2")
    p.add_argument("--real-mlx")
    p.add_argument("--real-ggml")
    p.add_argument("--real-name", default="base")
    args = p.parse_args()
    bad = [s for s in args.sizes if s not in SIZES] + [x for x in args.peers if x not in PEERS]
    if bad:
        p.error(f"unknown size or peer: {', '.join(bad)}")
    if args.command == "prepare":
        prepare(args)
    else:
        if not args.out:
            p.error("run needs --out")
        run(args)


if __name__ == "__main__":
    main()
