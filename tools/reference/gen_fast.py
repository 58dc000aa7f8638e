"""Fixtures for the fused fast ops: rope with Hugging Face's rope_init_fn frequency variants
(default, linear, llama3, yarn; transformers' modeling_rope_utils.py reproduced in NumPy float32,
as torch computes them), plus a few attention and normalization cases.

    python3 tools/reference/gen_fast.py   ->  test/fixtures/core/fast.json
"""
import math

import numpy as np

from common import case, ref_array, write_fixture

rng = np.random.default_rng(7)
f32 = np.float32


def default_inv_freq(base, dim):
    return (1.0 / (f32(base) ** (np.arange(0, dim, 2, dtype=np.int64).astype(f32) / f32(dim)))).astype(f32)


def linear_inv_freq(base, dim, s):
    return (default_inv_freq(base, dim) / f32(s["factor"])).astype(f32), 1.0


def llama3_inv_freq(base, dim, s):
    inv = default_inv_freq(base, dim)
    factor, low, high, old = s["factor"], s["low_freq_factor"], s["high_freq_factor"], s["original_max_position_embeddings"]
    low_wavelen, high_wavelen = old / low, old / high
    wavelen = (f32(2 * math.pi) / inv).astype(f32)
    inv_l = np.where(wavelen > low_wavelen, inv / f32(factor), inv).astype(f32)
    smooth = ((f32(old) / wavelen - f32(low)) / f32(high - low)).astype(f32)
    smoothed = ((1 - smooth) * inv_l / f32(factor) + smooth * inv_l).astype(f32)
    medium = ~(wavelen < high_wavelen) & ~(wavelen > low_wavelen)
    return np.where(medium, smoothed, inv_l).astype(f32), 1.0


def yarn_inv_freq(base, dim, s):
    factor = s["factor"]
    max_pos = s["original_max_position_embeddings"]

    def get_mscale(scale, mscale=1):
        return 1.0 if scale <= 1 else 0.1 * mscale * math.log(scale) + 1.0

    mscale, mscale_all_dim = s.get("mscale"), s.get("mscale_all_dim")
    attention_factor = s.get("attention_factor")
    if attention_factor is None:
        if mscale and mscale_all_dim:
            attention_factor = float(get_mscale(factor, mscale) / get_mscale(factor, mscale_all_dim))
        else:
            attention_factor = get_mscale(factor)
    beta_fast, beta_slow = s.get("beta_fast") or 32, s.get("beta_slow") or 1

    def correction_dim(rot):
        return (dim * math.log(max_pos / (rot * 2 * math.pi))) / (2 * math.log(base))

    low, high = correction_dim(beta_fast), correction_dim(beta_slow)
    if s.get("truncate", True):
        low, high = math.floor(low), math.ceil(high)
    low, high = max(low, 0), min(high, dim - 1)
    if low == high:
        high += 0.001
    pos_freqs = (f32(base) ** (np.arange(0, dim, 2, dtype=np.int64).astype(f32) / f32(dim))).astype(f32)
    extrapolation = (1.0 / pos_freqs).astype(f32)
    interpolation = (1.0 / (f32(factor) * pos_freqs)).astype(f32)
    ramp = np.clip((np.arange(dim // 2, dtype=f32) - f32(low)) / f32(high - low), 0, 1).astype(f32)
    extra_factor = (1 - ramp).astype(f32)
    inv = (interpolation * (1 - extra_factor) + extrapolation * extra_factor).astype(f32)
    return inv, attention_factor


def rope_ref(x, dims, inv_freq, offset=0, scale=1.0, mscale=1.0, traditional=False):
    L = x.shape[-2]
    pos = (np.arange(offset, offset + L).astype(f32) * f32(scale)).astype(f32)
    theta = (pos[:, None] * inv_freq[None, :]).astype(f32)
    cos = (np.cos(theta.astype(np.float64)).astype(f32) * f32(mscale)).astype(f32)
    sin = (np.sin(theta.astype(np.float64)).astype(f32) * f32(mscale)).astype(f32)
    x = x.astype(f32)
    rot, rest = x[..., :dims], x[..., dims:]
    if traditional:
        x0, x1 = rot[..., 0::2], rot[..., 1::2]
        y = np.stack([x0 * cos - x1 * sin, x0 * sin + x1 * cos], axis=-1).reshape(rot.shape)
    else:
        h = dims // 2
        x0, x1 = rot[..., :h], rot[..., h:]
        y = np.concatenate([x0 * cos - x1 * sin, x1 * cos + x0 * sin], axis=-1)
    return np.concatenate([y, rest], axis=-1).astype(f32)


def rope_cases():
    cases = []
    variants = [
        ("default", None, None),
        ("linear", {"type": "linear", "factor": 4.0}, linear_inv_freq),
        ("llama3", {"type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                    "original_max_position_embeddings": 8192}, llama3_inv_freq),
        ("llama3-short", {"type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                          "original_max_position_embeddings": 64}, llama3_inv_freq),
        ("yarn", {"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 4096}, yarn_inv_freq),
        ("yarn-mscale", {"type": "yarn", "factor": 40.0, "original_max_position_embeddings": 4096, "beta_fast": 32,
                         "beta_slow": 1, "mscale": 1.0, "mscale_all_dim": 0.707}, yarn_inv_freq),
        ("yarn-notrunc", {"type": "yarn", "factor": 16.0, "original_max_position_embeddings": 2048,
                          "truncate": False}, yarn_inv_freq),
    ]
    for name, scaling, fn in variants:
        for dims, D, base, offset, trad in [(16, 16, 10000.0, 0, False), (8, 12, 500000.0, 37, False), (16, 16, 10000.0, 5, True)]:
            if fn is None:
                inv, att = default_inv_freq(base, dims), 1.0
            else:
                inv, att = fn(base, dims, scaling)
            x = rng.standard_normal((1, 2, 4, D)).astype(f32)
            y = rope_ref(x, dims, inv, offset=offset, mscale=att, traditional=trad)
            attrs = {"dims": dims, "base": base, "offset": offset, "traditional": trad, "scaling": scaling,
                     "invFreq": [float(v) for v in inv], "attentionFactor": att}
            cases.append(case(f"rope {name} dims={dims} D={D} offset={offset} trad={trad}", "rope", [x], y, attrs,
                              rtol=1e-4, atol=1e-4))
    # MLX-style explicit periods and position scale.
    x = rng.standard_normal((1, 2, 6, 8)).astype(f32)
    freqs = (f32(10000.0) ** (np.arange(0, 8, 2).astype(f32) / f32(8)) * f32(1.5)).astype(f32)
    y = rope_ref(x, 8, (1.0 / freqs).astype(f32), offset=3, scale=0.5)
    cases.append(case("rope freqs scale=0.5 offset=3", "rope", [x, freqs], y, {"dims": 8, "offset": 3, "scale": 0.5},
                      rtol=1e-4, atol=1e-4))
    return cases


def softmax(s):
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - m)
    return e / e.sum(axis=-1, keepdims=True)


def attention_cases():
    cases = []
    for B, Hq, Hkv, L, S, D, mask in [(1, 4, 2, 5, 9, 16, "causal"), (2, 2, 1, 3, 3, 8, None), (1, 3, 3, 4, 6, 8, "additive")]:
        q = rng.standard_normal((B, Hq, L, D)).astype(f32)
        k = rng.standard_normal((B, Hkv, S, D)).astype(f32)
        v = rng.standard_normal((B, Hkv, S, D)).astype(f32)
        kk, vv = np.repeat(k, Hq // Hkv, axis=1), np.repeat(v, Hq // Hkv, axis=1)
        s = (q.astype(np.float64) @ kk.swapaxes(-1, -2)) / math.sqrt(D)
        inputs, attrs = [q, k, v], {"mask": mask}
        if mask == "causal":
            s = np.where(np.arange(S)[None, :] <= np.arange(L)[:, None] + S - L, s, -np.inf)
        elif mask == "additive":
            m = rng.standard_normal((L, S)).astype(f32)
            s = s + m
            inputs.append(m)
        w = softmax(s)
        cases.append(case(f"sdpa B={B} Hq={Hq} Hkv={Hkv} L={L} S={S} mask={mask}", "sdpa", inputs, w @ vv, attrs,
                          rtol=1e-4, atol=1e-5))
        cases.append(case(f"sdpa weights B={B} Hq={Hq} Hkv={Hkv} L={L} S={S} mask={mask}", "sdpaWeights", inputs, w,
                          attrs, rtol=1e-4, atol=1e-6))
    return cases


def norm_cases():
    cases = []
    x = (rng.standard_normal((3, 4, 24)) * 3 + 1).astype(f32)
    w = rng.standard_normal(24).astype(f32)
    b = rng.standard_normal(24).astype(f32)
    xd = x.astype(np.float64)
    rms = xd / np.sqrt((xd**2).mean(-1, keepdims=True) + 1e-5) * w
    cases.append(case("rmsNorm", "rmsNorm", [x, w], rms, {"eps": 1e-5}, rtol=1e-5, atol=1e-5))
    ln = (xd - xd.mean(-1, keepdims=True)) / np.sqrt(xd.var(-1, keepdims=True) + 1e-5) * w + b
    cases.append(case("layerNorm", "layerNorm", [x, w, b], ln, {"eps": 1e-5}, rtol=1e-5, atol=1e-5))
    g = 4
    xg = xd.reshape(3, -1, g, 24 // g)
    gn = ((xg - xg.mean((1, 3), keepdims=True)) / np.sqrt(xg.var((1, 3), keepdims=True) + 1e-6)).reshape(x.shape) * w + b
    cases.append(case("groupNorm groups=4", "groupNorm", [x, w, b], gn, {"eps": 1e-6, "groups": g}, rtol=1e-5, atol=1e-5))
    return cases


if __name__ == "__main__":
    write_fixture("core/fast.json", {"cases": rope_cases() + attention_cases() + norm_cases()})
