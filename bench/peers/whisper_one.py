"""One transcription by a peer in a process of its own, for bench/whisper_transcribe.ts's per-system rows (as
bench/_whisper_one.ts does for ours): loads the model, transcribes the clip with word timestamps
(language en, temperature 0, greedy or beam search), prints one JSON line with load and transcribe
seconds, the process's peak RSS (ru_maxrss), the text and the words.

    python3 bench/peers/whisper_one.py --system faster-whisper --model DIR --audio FILE
        [--compute int8|float32] [--beam 5] [--threads 2] [--iters 1]
    python3 bench/peers/whisper_one.py --system whisper.cpp --model FILE.bin --audio FILE [--beam 5]
"""
import argparse
import json
import resource
import time
import wave

import numpy as np


def load_wav(path):
    with wave.open(path) as w:
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768.0


def faster_whisper(args, audio):
    import ctranslate2
    from faster_whisper import WhisperModel

    t0 = time.perf_counter()
    m = WhisperModel(args.model, device="cpu", compute_type=args.compute, cpu_threads=args.threads, num_workers=1)
    load = time.perf_counter() - t0

    def go():
        segs, _ = m.transcribe(audio, language="en", beam_size=args.beam, temperature=0.0, word_timestamps=True,
                               vad_filter=False)
        segs = list(segs)
        words = [[w.word, w.start, w.end] for s in segs for w in (s.words or [])]
        return "".join(s.text for s in segs), words, sum(len(s.tokens) for s in segs)
    return f"faster-whisper {ctranslate2.__version__} {args.compute}", load, go


def whisper_cpp(args, audio):
    import _pywhispercpp as pw

    t0 = time.perf_counter()
    cparams = pw.whisper_context_default_params()
    cparams.use_gpu = False
    cparams.dtw_token_timestamps = True
    cparams.dtw_aheads_preset = pw.WHISPER_AHEADS_BASE
    ctx = pw.whisper_init_from_file_with_params(args.model, cparams)
    load = time.perf_counter() - t0
    strategy = pw.WHISPER_SAMPLING_BEAM_SEARCH if args.beam > 1 else pw.WHISPER_SAMPLING_GREEDY
    params = pw.whisper_full_default_params(strategy)
    if args.beam > 1:
        params.beam_search = {"beam_size": args.beam, "patience": -1.0}
    params.n_threads = args.threads
    params.language = "en"
    params.temperature = 0.0
    params.temperature_inc = 0.0
    params.token_timestamps = True
    params.print_progress = False
    params.print_realtime = False
    params.print_timestamps = False

    def go():
        pw.whisper_full(ctx, params, audio, len(audio))
        n = pw.whisper_full_n_segments(ctx)
        parts = [pw.whisper_full_get_segment_text(ctx, s) for s in range(n)]
        text = "".join(p.decode("utf-8", "replace") if isinstance(p, bytes) else p for p in parts)
        tokens = sum(pw.whisper_full_n_tokens(ctx, s) for s in range(n))
        return text, [], tokens
    return "whisper.cpp (pywhispercpp)", load, go


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--system", choices=["faster-whisper", "whisper.cpp"], required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--audio", required=True)
    p.add_argument("--compute", default="float32")
    p.add_argument("--beam", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--iters", type=int, default=1)
    args = p.parse_args()
    audio = load_wav(args.audio)
    name, load, go = (faster_whisper if args.system == "faster-whisper" else whisper_cpp)(args, audio)
    times = []
    for _ in range(args.iters):
        t0 = time.perf_counter()
        text, words, tokens = go()
        times.append(time.perf_counter() - t0)
    times.sort()
    print(json.dumps(dict(system=name, beam=args.beam, loadS=load, transcribeS=times[len(times) // 2],
                          maxRssMiB=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, tokens=tokens,
                          text=text, words=words)))


if __name__ == "__main__":
    main()
