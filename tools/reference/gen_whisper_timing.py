"""openai-whisper's word timing (whisper/timing.py) on small inputs, for packages/whisper/test/timing.test.ts.

Records median_filter and dtw_cpu on small random matrices (with ties), merge_punctuations cases, and
find_alignment / add_word_timestamps on the committed tiny random checkpoint (tiny-mlx: 16 audio
positions, so 32 mel frames) for fixed text tokens and a fixed random mel (stored).

    pip install openai-whisper && python3 tools/reference/gen_whisper_timing.py
"""
import copy

import numpy as np
import torch
from whisper.timing import WordTiming, add_word_timestamps, dtw_cpu, find_alignment, median_filter, merge_punctuations

from common import ref_array, write_fixture
from whisper_openai import load_openai, tokenizer_for

rng = np.random.default_rng(11)
torch.manual_seed(0)


def median_cases():
    cases = []
    for name, x, width in [
        ("3d", rng.standard_normal((2, 3, 12)).astype(np.float32), 7),
        ("1d", rng.standard_normal(9).astype(np.float32), 3),
        ("2d_reflect_wide", rng.standard_normal((3, 4)).astype(np.float32), 7),  # pad 3 < 4
        ("too_short", rng.standard_normal((2, 3)).astype(np.float32), 7),  # returned as is
        ("ties", rng.integers(0, 3, (4, 10)).astype(np.float32), 5),
        ("width1", rng.standard_normal((2, 5)).astype(np.float32), 1),
    ]:
        y = median_filter(torch.from_numpy(x), width).numpy()
        cases.append({"name": name, "width": width, "x": ref_array(x), "expected": ref_array(y)})
    return cases


def dtw_cases():
    cases = []
    for name, x in [
        ("random", rng.standard_normal((6, 10))),
        ("tall", rng.standard_normal((9, 4))),
        ("ties01", rng.integers(0, 2, (5, 8)).astype(np.float64)),
        ("ties012", rng.integers(0, 3, (7, 7)).astype(np.float64)),
        ("zeros", np.zeros((3, 4))),
        ("one", np.array([[0.5]])),
        ("row", rng.standard_normal((1, 5))),
        ("column", rng.standard_normal((5, 1))),
    ]:
        path = dtw_cpu(x.copy())
        cases.append({"name": name, "x": ref_array(x.astype(np.float64)), "text_indices": path[0].tolist(),
                      "time_indices": path[1].tolist()})
    return cases


def timing_dict(t):
    return {"word": t.word, "tokens": list(map(int, t.tokens)), "start": float(t.start), "end": float(t.end),
            "probability": float(t.probability)}


def merge_cases():
    cases = []
    words = [" \"", "Hello", ",", " (", "world", ")", " it", "'s", " -", " me", ".", "\"", " ¿", "Qué", "?"]
    for name, ws, pre, app in [
        ("default", words, "\"'“¿([{-", "\"'.。,，!！?？:：”)]}、"),
        ("custom", words, "(", ".,"),
        ("none", words, "", ""),
        ("trailing_space", ["a ", ".", " b", " ,", "c"], "\"'“¿([{-", "\"'.。,，!！?？:：”)]}、"),
        ("single", [" ("], "(", ")"),
        ("empty", [], "(", ")"),
    ]:
        alignment = [WordTiming(w, [i, 100 + i], i * 0.1, i * 0.1 + 0.05, 0.5) for i, w in enumerate(ws)]
        before = [timing_dict(t) for t in alignment]
        merge_punctuations(alignment, pre, app)
        cases.append({"name": name, "prepended": pre, "appended": app, "alignment": before,
                      "expected": [timing_dict(t) for t in alignment]})
    return cases


def hash_mel(n_mels, frames):
    """A deterministic pseudo-random mel [n_mels, frames] the TS test rebuilds exactly: element i of the
    frames-major (channels-last) layout is ((i * 2654435761) mod 2^32) / 2^31 - 1, rounded to float32."""
    i = np.arange(frames * n_mels, dtype=np.uint64)
    v = ((i * np.uint64(2654435761)) % np.uint64(2**32)).astype(np.float64) / 2**31 - 1
    return v.astype(np.float32).reshape(frames, n_mels).T.copy()


def run_awt(model, tok, mel_t, cases):
    out = []
    for name, segments, num_frames, last, *punct in cases:
        before = copy.deepcopy(segments)
        kw = dict(prepend_punctuations=punct[0], append_punctuations=punct[1]) if punct else {}
        with torch.no_grad():
            add_word_timestamps(segments=segments, model=model, tokenizer=tok, mel=mel_t, num_frames=num_frames,
                                last_speech_timestamp=last, **kw)
        new_last = last
        for s in segments:
            if s["words"]:
                new_last = s["end"]
        out.append({"name": name, **{k.replace("_punctuations", ""): v for k, v in kw.items()}, "num_frames": num_frames, "last_speech_timestamp": last, "segments": before,
                    "expected": [{"start": float(s["start"]), "end": float(s["end"]),
                                  "words": [{k: (v if k == "word" else float(v)) for k, v in w.items()} for w in s["words"]]}
                                 for s in segments],
                    "new_last_speech_timestamp": float(new_last)})
    return out


def main():
    model, heads = load_openai("tiny-mlx")
    d = model.dims
    frames = 2 * d.n_audio_ctx
    mel = rng.standard_normal((d.n_mels, frames)).astype(np.float32)
    mel_t = torch.from_numpy(mel)

    fixture = {"median_filter": median_cases(), "dtw": dtw_cases(), "merge_punctuations": merge_cases(),
               "model": "tiny-mlx", "alignment_heads": heads, "mel": ref_array(mel)}

    texts = [
        ("en", " And so, my fellow Americans: ask not!", frames),
        ("en", " \"Hello,\" he said (quietly). Bye.", 20),
        ("en", " It's 5 o'clock.", 6),  # 3 frames: the median filter leaves them as they are
        ("zh", "你好，世界。", frames),
    ]
    alignments = []
    for language, text, num_frames in texts:
        tok = tokenizer_for(model, language)
        tokens = tok.encode(text)
        with torch.no_grad():
            words = find_alignment(model, tok, tokens, mel_t, num_frames)
        alignments.append({"language": language, "text": text, "text_tokens": tokens, "num_frames": num_frames,
                           "words": [timing_dict(w) for w in words]})
    fixture["find_alignment"] = alignments

    tok = tokenizer_for(model, "en")
    ts = lambda t: tok.timestamp_begin + round(t / 0.02)
    enc = tok.encode
    awt_cases = [
        ("one_segment", [dict(seek=0, start=0.0, end=0.3, tokens=[ts(0.0), *enc(" And so, my fellow Americans"), ts(0.3)])], frames, 0.0),
        ("two_segments_offset", [
            dict(seek=1500, start=15.0, end=15.14, tokens=[ts(0.0), *enc(" Ask not what your country"), ts(0.14)]),
            dict(seek=1500, start=15.14, end=15.3, tokens=[ts(0.14), *enc(" can do. For you!"), ts(0.3)]),
        ], frames, 13.2),
        ("late_segment_start", [dict(seek=200, start=2.9, end=2.95, tokens=[ts(0.9), *enc(" The quick brown fox jumps."), ts(0.95), tok.eot])], 30, 1.0),
        ("early_segment_end", [dict(seek=0, start=0.0, end=0.02, tokens=[*enc(" Hello there, general Kenobi. Yes.")])], frames, 0.0),
        ("no_text", [dict(seek=0, start=0.0, end=0.2, tokens=[ts(0.0), ts(0.2)])], frames, 0.5),
    ]
    awt = run_awt(model, tok, mel_t, awt_cases)
    fixture["add_word_timestamps"] = awt

    # 30-second windows (tiny30s-mlx: same weights, 1500 audio positions) so that the heuristics in
    # seconds (0.5 s margins, pauses) come into play; the mel is hash_mel (not stored).
    model30, _ = load_openai("tiny30s-mlx")
    mel30 = torch.from_numpy(hash_mel(model30.dims.n_mels, 2 * model30.dims.n_audio_ctx))
    tok = tokenizer_for(model30, "en")
    fixture["add_word_timestamps_30s"] = {"model": "tiny30s-mlx", "cases": run_awt(model30, tok, mel30, [
        ("whole_window", [dict(seek=0, start=0.0, end=30.0, tokens=[ts(0.0), *enc(" And so, my fellow Americans. Ask not."), ts(30.0)])], 3000, 0.0),
        ("pause_and_segment_bounds", [
            dict(seek=0, start=5.0, end=12.0, tokens=[ts(5.0), *enc(" Ask not what your country"), ts(12.0)]),
            dict(seek=0, start=12.0, end=16.0, tokens=[ts(12.0), *enc(" can do. For you!"), ts(16.0)]),
        ], 2000, 1.0),
        ("offset_window", [
            dict(seek=1000, start=10.0, end=11.0, tokens=[ts(0.0), *enc(" The quick brown fox."), ts(1.0)]),
            dict(seek=1000, start=11.0, end=30.0, tokens=[ts(1.0), *enc(" It jumps! Over the dog?"), ts(20.0)]),
        ], 2400, 9.9),
        ("late_speech", [dict(seek=0, start=20.0, end=21.0, tokens=[ts(20.0), *enc(" Hello there, general Kenobi."), ts(21.0)])], 3000, 0.0),
        # a sentence-end mark longer than twice the median word (its end is cut)
        ("long_sentence_end", [dict(seek=0, start=10.0, end=15.0, tokens=[ts(10.0), *enc(" Hi. What? Wait. Ok."), ts(15.0)])], 3000, 0.0),
        ("long_sentence_end_unmerged", [dict(seek=0, start=10.0, end=15.0, tokens=[ts(10.0), *enc(" Hi. What? Wait. Ok."), ts(15.0)])], 3000, 0.0, "", ""),
        # after a pause, a long second word: the first two words split at a boundary
        ("pause_long_second_word", [dict(seek=0, start=2.0, end=7.0, tokens=[ts(2.0), *enc(" We went home today"), ts(7.0)])], 1200, 0.0),
    ])}
    write_fixture("whisper/timing.json", fixture)


if __name__ == "__main__":
    main()
