# llama-cpp-python on a GGUF for bench/lm.ts: one round of prefill (the prompt in one batch) and
# greedy decode (one eval per token, as its generate loop does; the argmax of its logits with NumPy,
# since its sample() costs more than the step at this vocabulary), printed as one JSON line.
# Run: python3 bench/peers/llama_cpp_peer.py <model.gguf> <threads> <prefillTokens> <decodeTokens>
import json
import sys
import time

import numpy as np
from llama_cpp import Llama

path, threads, prefill, decode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
m = Llama(model_path=path, n_threads=threads, n_threads_batch=threads, n_ctx=1024, n_batch=512, n_ubatch=512, verbose=False)
prompt = [1000 + (i * 7919) % 50000 for i in range(prefill)]
t0 = time.perf_counter()
m.eval(prompt)
prefill_s = time.perf_counter() - t0
m.reset()
m.eval([2, 100, 200])
tok = int(np.argmax(m.scores[m.n_tokens - 1]))
t0 = time.perf_counter()
for _ in range(decode):
    m.eval([tok])
    tok = int(np.argmax(m.scores[m.n_tokens - 1]))
decode_s = time.perf_counter() - t0
import llama_cpp
print(json.dumps({"version": llama_cpp.__version__, "prefill": prefill / prefill_s, "decode": decode / decode_s}))
