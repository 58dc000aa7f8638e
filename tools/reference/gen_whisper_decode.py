"""openai-whisper's decode() (and transformers' generate()) on small random Whisper checkpoints.

Model "dec" (written to test/fixtures/whisper/decoding/dec-hf, transformers' save_pretrained in float16):
multilingual vocabulary (51865), 80 mels, d_model 8, 2 heads, 2+2 layers, n_audio_ctx 100 (mels of
200 frames, so timestamps step 0.3 s), n_text_ctx 64 (so sampling runs 32 steps and prompts hold 31
tokens). The <|endoftext|> embedding is scaled up (3.4 or 3.6, with the first seed from 3 that passes) so that sequences end within the sample length and
beam search collects finished candidates. Weights are rounded to float16; openai-whisper's Whisper
loads the same values in float32.

Input: openai-whisper's log_mel_spectrogram of test/fixtures/whisper/audio/jfk_5s_16k.flac (ffmpeg),
frames 0-199 and 200-399 as two windows (batch rows).

Every case records openai's DecodingResult fields; the script checks that every decision (greedy
argmax, beam ranking, timestamp-vs-text choice, language argmax) has a clear margin, so float32
rounding differences cannot flip a token. It also decodes the committed tiny model (n_text_ctx 24),
whose HF / MLX / ggml layouts must all give the same greedy tokens, and runs transformers' generate()
(greedy and num_beams=5) on dec-hf to compare with openai's decode.

    pip install openai-whisper torch transformers && python3 tools/reference/gen_whisper_decode.py
"""
import json
import os
import shutil
import sys

import numpy as np
import torch
import whisper
import whisper.decoding as wd
from transformers import WhisperForConditionalGeneration
from whisper.model import ModelDimensions, Whisper

sys.path.insert(0, os.path.dirname(__file__))
from common import FIXTURES, ref_array, write_fixture  # noqa: E402
from gen_whisper_model import dims_of, make_model, openai_state, save_hf  # noqa: E402

OUT = os.path.join(FIXTURES, "whisper", "decoding")
MODELS = os.path.join(FIXTURES, "whisper", "models")
EOT = 50257
MIN_MARGIN = 5e-4  # logits / log-probabilities: float32 differences here are ~1e-5

margins = []  # (case, kind, margin) of every decision made in the current case


class TooClose(Exception):
    pass


def record(kind, value):
    margins.append((kind, float(value)))


# Wrap openai's decision points to measure how close each decision was.
_greedy_update = wd.GreedyDecoder.update
_beam_update = wd.BeamSearchDecoder.update


def greedy_update(self, tokens, logits, sum_logprobs):
    if self.temperature == 0:
        live = tokens[:, -1] != self.eot
        top = logits[live].float().topk(2, dim=-1).values
        for a, b in top.tolist():
            record("greedy", a - b)
    return _greedy_update(self, tokens, logits, sum_logprobs)


def beam_update(self, tokens, logits, sum_logprobs):
    logprobs = torch.log_softmax(logits.float(), dim=-1)
    n_audio = tokens.shape[0] // self.beam_size
    for i in range(n_audio):
        scores = {}  # as openai's: candidates are distinct sequences (the first step's beams are all equal)
        for j in range(self.beam_size):
            idx = i * self.beam_size + j
            prefix = tokens[idx].tolist()
            lp, ids = logprobs[idx].topk(self.beam_size + 1)
            for l, t in zip(lp.tolist(), ids.tolist()):
                scores[tuple(prefix + [t])] = sum_logprobs[idx].item() + l
        # The one decision: which candidates come before the last one kept (openai walks them in
        # score order until beam_size unfinished ones are saved).
        order = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
        saved = 0
        for n, (seq, v) in enumerate(order):
            if seq[-1] != self.eot:
                saved += 1
                if saved == self.beam_size:
                    if n + 1 < len(order) and np.isfinite(order[n + 1][1]):
                        record("beam", v - order[n + 1][1])
                    break
    return _beam_update(self, tokens, logits, sum_logprobs)


def ts_apply(self, logits, tokens):
    """openai's ApplyTimestampRules.apply verbatim, plus recording the timestamp-vs-text margin."""
    if self.tokenizer.no_timestamps is not None:
        logits[:, self.tokenizer.no_timestamps] = -np.inf
    for k in range(tokens.shape[0]):
        sampled_tokens = tokens[k, self.sample_begin :]
        seq = [t for t in sampled_tokens.tolist()]
        last_was_timestamp = len(seq) >= 1 and seq[-1] >= self.tokenizer.timestamp_begin
        penultimate_was_timestamp = len(seq) < 2 or seq[-2] >= self.tokenizer.timestamp_begin
        if last_was_timestamp:
            if penultimate_was_timestamp:
                logits[k, self.tokenizer.timestamp_begin :] = -np.inf
            else:
                logits[k, : self.tokenizer.eot] = -np.inf
        timestamps = sampled_tokens[sampled_tokens.ge(self.tokenizer.timestamp_begin)]
        if timestamps.numel() > 0:
            if last_was_timestamp and not penultimate_was_timestamp:
                timestamp_last = timestamps[-1]
            else:
                timestamp_last = timestamps[-1] + 1
            logits[k, self.tokenizer.timestamp_begin : timestamp_last] = -np.inf
    if tokens.shape[1] == self.sample_begin:
        logits[:, : self.tokenizer.timestamp_begin] = -np.inf
        if self.max_initial_timestamp_index is not None:
            last_allowed = self.tokenizer.timestamp_begin + self.max_initial_timestamp_index
            logits[:, last_allowed + 1 :] = -np.inf
    logprobs = torch.nn.functional.log_softmax(logits.float(), dim=-1)
    for k in range(tokens.shape[0]):
        timestamp_logprob = logprobs[k, self.tokenizer.timestamp_begin :].logsumexp(dim=-1)
        max_text_token_logprob = logprobs[k, : self.tokenizer.timestamp_begin].max()
        if torch.isfinite(timestamp_logprob) and torch.isfinite(max_text_token_logprob) and tokens[k, -1] != self.tokenizer.eot:
            record("timestamp", timestamp_logprob - max_text_token_logprob)
        if timestamp_logprob > max_text_token_logprob:
            logits[k, : self.tokenizer.timestamp_begin] = -np.inf


_rank = wd.MaximumLikelihoodRanker.rank


def rank(self, tokens, sum_logprobs):
    for t, p in zip(tokens, sum_logprobs):
        lengths = [len(x) for x in t]
        scores = sorted(((lp / (n if self.length_penalty is None else ((5 + n) / 6) ** self.length_penalty))
                         for lp, n in zip(p, lengths)), reverse=True)
        if len(scores) > 1:
            record("rank", scores[0] - scores[1])
    return _rank(self, tokens, sum_logprobs)


wd.MaximumLikelihoodRanker.rank = rank
wd.GreedyDecoder.update = greedy_update
wd.BeamSearchDecoder.update = beam_update
wd.ApplyTimestampRules.apply = ts_apply


def openai_model(hf):
    m = Whisper(ModelDimensions(**dims_of(hf)))
    m.load_state_dict({k: torch.from_numpy(v) for k, v in openai_state(hf).items()})
    return m.eval()


def result_json(r):
    return {
        "tokens": [int(t) for t in r.tokens], "text": r.text, "avg_logprob": r.avg_logprob,
        "no_speech_prob": r.no_speech_prob, "compression_ratio": r.compression_ratio, "language": r.language,
        "language_probs": r.language_probs, "temperature": r.temperature,
    }


def run_case(model, mel, name, options):
    margins.clear()
    opts = whisper.DecodingOptions(fp16=False, **options)
    if (options.get("beam_size") or options.get("best_of") or 1) > 1 and mel.shape[0] > 1:
        # openai-whisper 20250625 no longer repeats the audio features per beam, so batched beam
        # search fails in its decoder (tokens [n_audio * beams] vs features [n_audio]): decode each
        # window alone; a batched decode must give the same per-row results.
        results = [whisper.decode(model, torch.from_numpy(m), opts) for m in mel]
    else:
        results = whisper.decode(model, torch.from_numpy(mel), opts)
    if not isinstance(results, list):
        results = [results]
    worst = min((m for k, m in margins if k != "timestamp"), default=np.inf)
    ts = [abs(m) for k, m in margins if k == "timestamp"]
    worst_ts = min(ts, default=np.inf)
    ok = worst >= MIN_MARGIN and worst_ts >= MIN_MARGIN
    print(f"{name:>16}: margin {worst:.4f} timestamp {worst_ts:.4f} {'ok' if ok else 'TOO CLOSE'} | "
          + " | ".join(f"{len(r.tokens)} tok {r.avg_logprob:.3f}" for r in results))
    if not ok:
        raise TooClose(f"case {name}: a decision is within {MIN_MARGIN} of a tie")
    return {"options": options, "batch": int(mel.shape[0]) if mel.ndim == 3 else None,
            "results": [result_json(r) for r in results],
            # JSON has no Infinity: null when the case made no such decision.
            "min_margin": worst if np.isfinite(worst) else None,
            "min_timestamp_margin": worst_ts if np.isfinite(worst_ts) else None}


def hf_generation_config(hf):
    g = hf.generation_config
    tok = whisper.tokenizer.get_tokenizer(True, num_languages=99)
    g.is_multilingual = True
    g.lang_to_id = {f"<|{c}|>": t for c, t in zip(tok.all_language_codes, tok.all_language_tokens)}
    g.task_to_id = {"transcribe": tok.transcribe, "translate": tok.translate}
    g.no_timestamps_token_id = tok.no_timestamps
    g.prev_sot_token_id = tok.sot_prev
    g.decoder_start_token_id = tok.sot
    g.eos_token_id = g.pad_token_id = tok.eot
    g.max_initial_timestamp_index = 3  # openai's round(1.0 / precision), precision 30 / 100
    g.begin_suppress_tokens = tok.encode(" ") + [tok.eot]
    g.suppress_tokens = sorted(set(tok.non_speech_tokens))
    g.forced_decoder_ids = None
    g.max_length = hf.config.max_target_positions


def hf_generate(hf, mel, **kw):
    with torch.no_grad():
        out = hf.generate(torch.from_numpy(mel), language="en", task="transcribe", **kw)
    seqs = out if isinstance(out, torch.Tensor) else out["sequences"]
    return [[int(t) for t in s] for s in seqs]


def main():
    # Seeds and end-of-text scales to try until every decision has a clear margin.
    for seed in range(3, 40):
        for scale in (3.4, 3.6):
            try:
                return generate(seed, scale)
            except TooClose as e:
                print(f"seed {seed} scale {scale}: {e}")
    raise SystemExit("no seed gave clear margins")


def generate(seed, eot_scale):
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    torch.manual_seed(seed)
    hf = make_model(51865, 80, 8, 2, 2, 100, 64)
    with torch.no_grad():
        w = hf.model.decoder.embed_tokens.weight
        w[EOT] = (w[EOT] * eot_scale).half().float()
    hf_generation_config(hf)
    save_hf(hf, os.path.join(OUT, "dec-hf"), [[1, 0], [1, 1]])
    model = openai_model(hf)

    audio = whisper.load_audio(os.path.join(FIXTURES, "whisper", "audio", "jfk_5s_16k.flac"))
    full = whisper.log_mel_spectrogram(audio).numpy()  # [80, 500]
    mels = np.stack([full[:, 0:200], full[:, 200:400]]).astype(np.float32)  # [2, 80, 200]
    one = mels[:1]
    tok = whisper.tokenizer.get_tokenizer(True, num_languages=99, language="en", task="transcribe")
    long_prompt = list(range(1000, 1040))  # 40 tokens: openai keeps the last n_text_ctx // 2 - 1 = 31

    cases = {}
    for name, mel, options in [
        ("greedy", mels, dict(language="en")),
        ("no_timestamps", mels, dict(language="en", without_timestamps=True)),
        ("no_initial_limit", one, dict(language="en", max_initial_timestamp=None)),
        ("beam5", mels, dict(language="en", beam_size=5)),
        ("beam5_patience2", one, dict(language="en", beam_size=5, patience=2.0)),
        ("beam3_length_penalty", one, dict(language="en", beam_size=3, length_penalty=0.6)),
        ("detect", mels, dict()),
        ("translate", one, dict(language="de", task="translate")),
        ("prompt", one, dict(language="en", prompt="And so my fellow Americans")),
        ("prompt_long", one, dict(language="en", prompt=long_prompt)),
        ("prefix", one, dict(language="en", prefix="ask not")),
        ("prefix_tokens_no_ts", one, dict(language="en", prefix=[1029, 407], without_timestamps=True)),
        ("suppress_custom", one, dict(language="en", suppress_tokens=[])),
        ("suppress_list", one, dict(language="en", suppress_tokens="-1,220")),
        ("no_suppress_blank", one, dict(language="en", suppress_blank=False)),
    ]:
        cases[name] = run_case(model, mel, name, options)
    # The suppress cases must suppress something the default case picks, or they test nothing.
    greedy_first = cases["greedy"]["results"][0]["tokens"]
    cases["suppress_picked"] = run_case(model, one, "suppress_picked",
                                        dict(language="en", suppress_tokens=[t for t in greedy_first if t < tok.eot][:2]))

    margins.clear()
    lang_tokens, lang_probs = whisper.detect_language(model, torch.from_numpy(mels), tok)
    detect = {"language_tokens": [int(t) for t in lang_tokens], "language_probs": lang_probs}
    for p in lang_probs:
        top = sorted(p.values(), reverse=True)
        print(f"language: top-2 prob ratio {top[0] / top[1]:.4f}")
        if np.log(top[0] / top[1]) < MIN_MARGIN:
            raise TooClose("language detection")

    # transformers' generate() on the same weights, the same mel.
    hf_cases = {}
    for name, kw in [("greedy", dict(return_timestamps=True)), ("no_timestamps", dict(return_timestamps=False)),
                     ("beam5", dict(return_timestamps=True, num_beams=5)), ("beam5_no_timestamps", dict(return_timestamps=False, num_beams=5))]:
        seqs = hf_generate(hf, mels, **kw)
        ours = cases["beam5" if name.startswith("beam5") and "no_" not in name else
                     "greedy" if name == "greedy" else "no_timestamps" if name == "no_timestamps" else "beam5"]
        hf_cases[name] = {"kwargs": kw, "sequences": seqs}
        for i, s in enumerate(seqs):
            print(f"transformers {name}[{i}]: {s}")
            print(f"      openai {name}[{i}]: {ours['results'][i]['tokens']}")

    # The committed tiny model (n_text_ctx 24): greedy, to compare the HF / MLX / ggml layouts.
    tiny_hf = WhisperForConditionalGeneration.from_pretrained(os.path.join(MODELS, "tiny-hf"), dtype=torch.float32)
    tiny = openai_model(tiny_hf.eval())
    tiny_mel = np.ascontiguousarray(full[None, :, 0:32])
    tiny_cases = {"greedy": run_case(tiny, tiny_mel, "tiny greedy", dict(language="en")),
                  "no_timestamps": run_case(tiny, tiny_mel, "tiny no_ts", dict(language="en", without_timestamps=True))}

    write_fixture("whisper/decoding/reference.json", {
        "mel": ref_array(mels), "tiny_mel": ref_array(tiny_mel), "cases": cases, "detect_language": detect,
        "transformers": hf_cases, "tiny": tiny_cases, "min_margin": MIN_MARGIN, "seed": seed, "eot_scale": eot_scale,
    })
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(OUT) for f in fs)
    print(f"fixtures: {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
