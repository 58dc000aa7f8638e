"""Fixtures for the GGUF and whisper.cpp ggml readers.

model.gguf (written by gguf-py's GGUFWriter): metadata of every value type, float tensors, and one
tensor per block-quantized type. Types gguf-py can quantize (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) are
quantized from random data; the k-quants, which gguf-py only dequantizes, get random block bytes
with sane scales. Expected values are gguf-py's `dequantize` output as float32 bit patterns
(Q8_K, which gguf-py lacks, by NumPy following ggml's dequantize_row_q8_K).

whisper-tiny-ggml.bin: a tiny model in whisper.cpp's legacy layout, written by our own code in
the order models/convert-pt-to-ggml.py writes it (hparams, mel filters, vocab, tensors).

    python3 tools/reference/gen_gguf.py
"""
import os

import numpy as np
from gguf import GGMLQuantizationType as Q
from gguf import GGUFValueType, GGUFWriter
from gguf.quants import dequantize, quantize

from common import FIXTURES, write_fixture
from whisper_shared import write_ggml_header, write_ggml_tensor

OUT = os.path.join(FIXTURES, "io")
rng = np.random.default_rng(11)
QK_K = 256


def f16_bytes(values):
    return np.asarray(values, np.float16).view(np.uint8).reshape(len(values), 2)


def random_kquant(qtype, n_blocks):
    """Random k-quant blocks with finite, moderate f16 scales at the offsets ggml uses."""
    size = {Q.Q2_K: 84, Q.Q3_K: 110, Q.Q4_K: 144, Q.Q5_K: 176, Q.Q6_K: 210}[qtype]
    b = rng.integers(0, 256, (n_blocks, size), dtype=np.uint8)
    d = rng.uniform(0.001, 0.05, n_blocks)
    dmin = rng.uniform(0.001, 0.05, n_blocks)
    if qtype == Q.Q2_K:  # scales[16] qs[64] d dmin
        b[:, 80:82], b[:, 82:84] = f16_bytes(d), f16_bytes(dmin)
    elif qtype == Q.Q3_K:  # hmask[32] qs[64] scales[12] d
        b[:, 108:110] = f16_bytes(d)
    elif qtype in (Q.Q4_K, Q.Q5_K):  # d dmin scales[12] ...
        b[:, 0:2], b[:, 2:4] = f16_bytes(d), f16_bytes(dmin)
    elif qtype == Q.Q6_K:  # ql[128] qh[64] scales[16] d
        b[:, 208:210] = f16_bytes(d)
    return b


def q8_k(n_blocks):
    """Q8_K blocks (d f32, qs int8[256], bsums int16[16]) and ggml's dequantization of them."""
    d = rng.uniform(0.001, 0.05, n_blocks).astype(np.float32)
    qs = rng.integers(-127, 128, (n_blocks, QK_K), dtype=np.int8)
    bsums = qs.reshape(n_blocks, 16, 16).astype(np.int16).sum(axis=-1, dtype=np.int16)
    raw = np.concatenate([d.view(np.uint8).reshape(n_blocks, 4), qs.view(np.uint8), bsums.view(np.uint8).reshape(n_blocks, 32)], axis=1)
    return raw, d[:, None] * qs.astype(np.float32)


def bits(a):
    return [int(x) for x in np.ascontiguousarray(a, np.float32).view(np.uint32).ravel()]


def gen_gguf():
    path = os.path.join(OUT, "model.gguf")
    w = GGUFWriter(path, arch="tessera-test")
    w.add_uint8("test.u8", 200)
    w.add_int8("test.i8", -100)
    w.add_uint16("test.u16", 60000)
    w.add_int16("test.i16", -30000)
    w.add_uint32("test.u32", 4000000000)
    w.add_int32("test.i32", -2000000000)
    w.add_float32("test.f32", 0.25)
    w.add_bool("test.bool", True)
    w.add_string("test.string", "héllo ✓")
    w.add_uint64("test.u64_small", 12345)
    w.add_uint64("test.u64_big", 2**63 + 5)
    w.add_int64("test.i64", -(2**60))
    w.add_float64("test.f64", 1.0 / 3.0)
    w.add_array("test.strings", ["a", "bc", ""])
    w.add_array("test.ints", [1, -2, 3])
    w.add_array("test.floats", [0.5, 1.5])
    w.add_array("test.nested", [[1, 2], [3]])
    w.add_key_value("test.u8s", [1, 2, 3], GGUFValueType.ARRAY, sub_type=GGUFValueType.UINT8)

    expected = {}
    x = rng.standard_normal((3, 5)).astype(np.float32)
    w.add_tensor("float.f32", x)
    expected["float.f32"] = {"type": "F32", "shape": [3, 5], "bits": bits(x)}
    h = rng.standard_normal((2, 4)).astype(np.float16)
    w.add_tensor("float.f16", h)
    expected["float.f16"] = {"type": "F16", "shape": [2, 4], "bits": bits(h)}
    bf = rng.standard_normal((2, 3)).astype(np.float32)
    bq = quantize(bf, Q.BF16)
    w.add_tensor("float.bf16", bq, raw_dtype=Q.BF16)
    expected["float.bf16"] = {"type": "BF16", "shape": [2, 3], "bits": bits(dequantize(bq, Q.BF16))}
    ints = np.arange(-4, 4, dtype=np.int32).reshape(2, 4)
    w.add_tensor("int.i32", ints)
    expected["int.i32"] = {"type": "I32", "shape": [2, 4], "values": ints.ravel().tolist()}

    for qtype in [Q.Q4_0, Q.Q4_1, Q.Q5_0, Q.Q5_1, Q.Q8_0]:
        data = rng.standard_normal((4, 64)).astype(np.float32)
        q = quantize(data, qtype)
        name = f"quant.{qtype.name}"
        w.add_tensor(name, q, raw_dtype=qtype)
        expected[name] = {"type": qtype.name, "shape": [4, 64], "bits": bits(dequantize(q, qtype))}
    for qtype in [Q.Q2_K, Q.Q3_K, Q.Q4_K, Q.Q5_K, Q.Q6_K]:
        q = random_kquant(qtype, 2).reshape(2, -1)
        name = f"quant.{qtype.name}"
        w.add_tensor(name, q, raw_dtype=qtype)
        expected[name] = {"type": qtype.name, "shape": [2, 256], "bits": bits(dequantize(q, qtype))}
    raw, ref = q8_k(1)
    w.add_tensor("quant.Q8_K", raw, raw_dtype=Q.Q8_K)
    expected["quant.Q8_K"] = {"type": "Q8_K", "shape": [1, 256], "bits": bits(ref)}
    # An IQ type we do not decode: its raw blocks still load, dequantizing it is an error.
    w.add_tensor("quant.IQ4_NL", rng.integers(0, 256, (1, 18), dtype=np.uint8), raw_dtype=Q.IQ4_NL)
    expected["quant.IQ4_NL"] = {"type": "IQ4_NL", "shape": [1, 32]}

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    metadata = {
        "general.architecture": "tessera-test", "test.u8": 200, "test.i8": -100, "test.u16": 60000, "test.i16": -30000,
        "test.u32": 4000000000, "test.i32": -2000000000, "test.f32": 0.25, "test.bool": True, "test.string": "héllo ✓",
        "test.u64_small": 12345, "test.u64_big": str(2**63 + 5), "test.i64": str(-(2**60)), "test.f64": 1.0 / 3.0,
        "test.strings": ["a", "bc", ""], "test.ints": [1, -2, 3], "test.floats": [0.5, 1.5], "test.nested": [[1, 2], [3]],
        "test.u8s": [1, 2, 3],
    }
    return {"metadata": metadata, "tensors": expected}


def gen_whisper_ggml():
    hp = dict(n_vocab=6, n_audio_ctx=4, n_audio_state=8, n_audio_head=2, n_audio_layer=1, n_text_ctx=3,
              n_text_state=8, n_text_head=2, n_text_layer=1, n_mels=4)
    ftype = 1 + 1000 * 2  # f16 weights, quantization version 2
    filters = rng.random((4, 9)).astype(np.float32)
    tokens = [b"!", b"hello", b"", b"\xe2\x9c", b" world", b"\xff"]
    q = quantize(rng.standard_normal((8, 32)).astype(np.float32), Q.Q8_0)
    tensors = [  # name, array, ggml type (0 f32, 1 f16, 8 q8_0)
        ("encoder.positional_embedding", rng.standard_normal((4, 8)).astype(np.float32), 0),
        ("encoder.conv1.weight", rng.standard_normal((8, 4, 3)).astype(np.float16), 1),
        ("encoder.conv1.bias", rng.standard_normal((8, 1)).astype(np.float32), 0),  # reshaped to [n, 1] as the converter does
        ("decoder.token_embedding.weight", rng.standard_normal((6, 8)).astype(np.float16), 1),
        ("decoder.ln.weight", rng.standard_normal(8).astype(np.float32), 0),
        ("decoder.blocks.0.mlp.0.weight", q, 8),
    ]
    path = os.path.join(OUT, "whisper-tiny-ggml.bin")
    with open(path, "wb") as f:
        write_ggml_header(f, hp, ftype, filters, tokens)
        for name, a, ttype in tensors:
            shape = a.shape if ttype != 8 else (a.shape[0], a.shape[1] // 34 * 32)
            write_ggml_tensor(f, name, shape, ttype, a)
    exp = {}
    for name, a, ttype in tensors:
        if ttype == 8:
            exp[name] = {"type": "Q8_0", "shape": [8, 32], "bits": bits(dequantize(a, Q.Q8_0))}
        else:
            exp[name] = {"type": ["F32", "F16"][ttype], "shape": list(a.shape), "bits": bits(a.astype(np.float32))}
    return {"hparams": dict(hp, ftype=1, qntvr=2), "filters": bits(filters), "filters_shape": list(filters.shape),
            "vocab": [t.hex() for t in tokens], "tensors": exp}


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    write_fixture("io/gguf.json", {"gguf": gen_gguf(), "whisper": gen_whisper_ggml()})
