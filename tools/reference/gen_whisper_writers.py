"""Fixtures for @tessera/whisper's writers: openai-whisper's get_writer output for fixed result dicts.

Needs: openai-whisper (only whisper/utils.py is loaded, so `pip install --no-deps openai-whisper` is enough:
utils.py uses the standard library alone, and importing the whole package would pull in torch).
    python3 tools/reference/gen_whisper_writers.py

Writes test/fixtures/whisper/writers.json: the input results (as openai's transcribe returns them), and for
every format and combination of the word options the text its writer writes; plus format_timestamp and
json float cases.
"""
import importlib.util
import itertools
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from common import write_fixture  # noqa: E402

import numpy as np  # noqa: E402


def load_utils():
    """whisper/utils.py on its own, without running whisper/__init__.py (torch, numba, tiktoken)."""
    spec = importlib.util.find_spec("whisper")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("openai-whisper is not installed: pip install --no-deps openai-whisper")
    path = os.path.join(spec.submodule_search_locations[0], "utils.py")
    utils_spec = importlib.util.spec_from_file_location("whisper_utils", path)
    module = importlib.util.module_from_spec(utils_spec)
    utils_spec.loader.exec_module(module)
    return module


utils = load_utils()


def seg(id_, seek, start, end, text, words, tokens=None, temperature=0.0, avg_logprob=-0.25,
        compression_ratio=1.3, no_speech_prob=0.01):
    s = {"id": id_, "seek": seek, "start": start, "end": end, "text": text,
         "tokens": tokens if tokens is not None else [50364 + id_, 440, 2068, 50464 + id_],
         "temperature": temperature, "avg_logprob": avg_logprob, "compression_ratio": compression_ratio,
         "no_speech_prob": no_speech_prob}
    if words is not None:
        s["words"] = [{"word": w, "start": a, "end": b, "probability": p} for (w, a, b, p) in words]
    return s


def result_with_words():
    # Word texts as Whisper makes them (leading spaces, merged punctuation); times with x.5 ms halves
    # (Python rounds them to even), a pause over 3 s, non-ASCII and astral text, a cleared segment,
    # and times past an hour.
    segments = [
        seg(0, 0, 0.0, 4.56, " And so my fellow Americans, ask not", [
            (" And", 0.0, 0.5, 0.91), (" so", 0.5, 0.8125, 0.88), (" my", 0.8125, 1.0625, 0.99),
            (" fellow", 1.0625, 1.52, 0.97), (" Americans,", 1.52, 2.6, 0.9372), (" ask", 3.14, 3.9, 0.5),
            (" not", 3.9, 4.56, 0.75)]),
        seg(1, 0, 4.56, 11.02, " what your country can do for you—café “naïve” 日本語 🎉.", [
            (" what", 8.0, 8.22, 0.8), (" your", 8.22, 8.5, 0.7), (" country", 8.5, 9.1, 0.96),
            (" can", 9.1, 9.3, 1.0), (" do", 9.3, 9.4, 0.66), (" for", 9.4, 9.6, 0.6),
            (" you—café", 9.6, 10.0, 0.42), (" “naïve”", 10.0, 10.3, 0.33), (" 日本語", 10.3, 10.7, 0.123456789),
            (" 🎉.", 10.7, 11.02, 1e-05)], temperature=0.2, avg_logprob=-0.6123456789012345,
            compression_ratio=2.123456789, no_speech_prob=1.5e-07),
        seg(2, 1102, 11.02, 11.02, "", [], tokens=[]),
        seg(3, 1102, 12.0, 19.1875, " Ask what\tyou can do --> for your country.", [
            (" Ask", 12.0, 12.4, 0.99), (" what", 12.4, 12.6, 0.98), (" you", 12.6, 12.8, 0.97),
            (" can", 12.8, 13.0, 0.96), (" do", 13.0, 13.1, 0.95), (" -->", 13.1, 13.2, 0.5),
            (" for", 13.5, 13.7, 0.94), (" your", 13.7, 14.0, 0.93), (" country.", 14.0, 19.1875, 0.92)]),
        seg(4, 360000, 3600.5, 3725.0625, " \"Quoted\" \\back\\slash and a very long unbroken word Supercalifragilisticexpialidocious",
            [(" \"Quoted\"", 3600.5, 3601.0, 0.8), (" \\back\\slash", 3601.0, 3602.0, 0.8), (" and", 3602.0, 3602.1, 0.8),
             (" a", 3602.1, 3602.2, 0.8), (" very", 3602.2, 3602.5, 0.8), (" long", 3602.5, 3603.0, 0.8),
             (" unbroken", 3603.0, 3604.0, 0.8), (" word", 3604.0, 3604.5, 0.8),
             (" Supercalifragilisticexpialidocious", 3720.0, 3725.0625, 0.8)], temperature=1.0),
    ]
    text = "".join(s["text"] for s in segments)
    return {"text": text, "segments": segments, "language": "en"}


def result_without_words():
    segments = [
        seg(0, 0, 0.0, 2.0625, "  Hello --> world.  ", None),
        seg(1, 0, 2.0625, 7.5, " Zweite\tZeile: Grüße.", None, no_speech_prob=0.0),
        seg(2, 3000, 3599.9996, 3600.0, " Last.", None),
    ]
    return {"text": "".join(s["text"] for s in segments), "segments": segments, "language": "de"}


def write(fmt, result, kwargs):
    with tempfile.TemporaryDirectory() as d:
        utils.get_writer(fmt, d)(result, "/some/dir/audio.file.mp3", **kwargs)
        with open(os.path.join(d, f"audio.file.{fmt}"), encoding="utf-8", newline="") as f:
            return f.read()


WORD_OPTIONS = {
    "highlight_words": [False, True],
    "max_line_width": [None, 12, 42],
    "max_line_count": [None, 1, 2],
    "max_words_per_line": [None, 3],
}


def outputs(result, with_word_options):
    out = []
    for fmt in ["txt", "tsv", "json"]:
        out.append({"format": fmt, "options": {}, "text": write(fmt, result, {})})
    combos = itertools.product(*WORD_OPTIONS.values()) if with_word_options else [(False, None, None, None)]
    for values in combos:
        kwargs = dict(zip(WORD_OPTIONS.keys(), values))
        for fmt in ["vtt", "srt"]:
            out.append({"format": fmt, "options": {k: v for k, v in kwargs.items() if v not in (None, False)},
                        "text": write(fmt, result, kwargs)})
    return out


def main():
    results = {"words": result_with_words(), "no_words": result_without_words(),
               "empty": {"text": "", "segments": [], "language": "en"}}
    cases = []
    for name, result in results.items():
        for o in outputs(result, name == "words"):
            cases.append({"result": name, **o})
    seconds = [0.0, 0.0005, 0.0015, 0.0025, 1.0625, 1.1875, 59.9996, 61.5, 3599.9994, 3599.9995, 3600.0,
               3661.001, 36000.25, 359999.999]
    timestamps = [{"seconds": s, "hours": h, "marker": m, "text": utils.format_timestamp(s, h, m)}
                  for s in seconds for h in (False, True) for m in (".", ",")]
    floats = [0.0, -0.0, 1.0, 0.1, 1e-05, 0.0001, 1.5e-07, 123456789.125, 1e15, 1e16, 1.2345e16, 1e22, 2.5e-300,
              -3.75, 1 / 3, 5e-324, 1.7976931348623157e308]
    write_fixture("whisper/writers.json", {
        "results": results,
        "cases": cases,
        "timestamps": timestamps,
        "floats": [{"value": v, "json": json.dumps(v)} for v in floats],
        # openai's cli(): temperatures = tuple(np.arange(temperature, 1.0 + 1e-6, increment))
        "temperatures": [{"start": t, "increment": inc, "values": [float(v) for v in np.arange(t, 1.0 + 1e-6, inc)]}
                         for t, inc in [(0.0, 0.2), (0.1, 0.2), (0.0, 0.1), (0.5, 0.25), (0.3, 0.3), (1.0, 0.2),
                                        (0.7, 0.05), (1.5, 0.2)]],
        "strings": [{"value": s, "json": json.dumps(s)} for s in
                    ["plain", "quote \" back \\ slash", "\t\n\r\b\f\x00\x1f\x7f", "é日本語🎉", "\u2028\ufeff"]],
    })


if __name__ == "__main__":
    main()
