"""MLX-quantized versions of the tiny LLaVA and Gemma 3 (gen_vlm.py), made by mlx-vlm's own convert, and their
dequantized reference from transformers.

mlx-vlm converts Hub checkpoints in transformers 4.x's layout (vision_tower.vision_model.*), so the fixture's
weights are renamed to it first; Gemma 3's text_config gets mm_tokens_per_image (mlx-vlm reads it there). Then
mlx_vlm.convert quantizes: LLaVA to 4 bits (groups of 64), Gemma 3 with the mixed_4_8 recipe (4 bits, 8 bits for
some layers: per-layer entries in config.json's quantization block); the vision towers stay in float, as mlx-vlm
leaves them. Gemma 3's folder then holds a separately quantized lm_head (mlx-vlm's Gemma 3 unties it).

The reference: transformers on the fixture with every quantized weight replaced by mx.dequantize of it (Gemma 3 with
untied embeddings, its lm_head the dequantized 4-bit one), from the processor's pixel values.

Writes test/fixtures/vlm/llava_mlx4/ and gemma3_mlx4/: mlx-vlm's output folder plus reference.json
(prompt ids, 20 greedy tokens) and reference.safetensors (20 steps' logits).

    pip install mlx mlx-vlm   (mlx-cpu runs it on Linux)
    python3 tools/reference/gen_vlm_mlx.py   (after gen_vlm.py)
"""
import json
import os
import shutil
import tempfile

import mlx.core as mx
import numpy as np
import torch
import transformers
from PIL import Image
from safetensors.numpy import load_file, save_file

from gen_vlm import IMAGES, OUT, reference_case

RECIPES = {"llava": None, "gemma3": "mixed_4_8"}


def hf4_copy(src, dst):
    """The fixture in transformers 4.x's layout, as mlx-vlm's convert expects."""
    shutil.copytree(src, dst)
    w = load_file(os.path.join(src, "model.safetensors"))
    w = {("vision_tower.vision_model." + k[len("vision_tower."):] if k.startswith("vision_tower.") else k): v for k, v in w.items()}
    save_file(w, os.path.join(dst, "model.safetensors"), metadata={"format": "pt"})
    c = json.load(open(os.path.join(dst, "config.json")))
    if "mm_tokens_per_image" in c:
        c["text_config"]["mm_tokens_per_image"] = c["mm_tokens_per_image"]
    json.dump(c, open(os.path.join(dst, "config.json"), "w"), indent=2)
    for f in ["reference.json", "reference.safetensors"]:
        os.remove(os.path.join(dst, f))


def dequantized(folder):
    """Float32 weights of the quantized folder's quantized layers, keyed by the layer's weight name."""
    q = json.load(open(os.path.join(folder, "config.json")))["quantization"]
    w = {}
    for f in os.listdir(folder):
        if f.endswith(".safetensors"):
            w.update(mx.load(os.path.join(folder, f)))
    out = {}
    for k in w:
        if not k.endswith(".scales"):
            continue
        layer = k[: -len(".scales")]
        p = q.get(layer, q)
        # in float32: scales and biases are float16, and a float16 result would round every weight
        d = mx.dequantize(w[layer + ".weight"], w[k].astype(mx.float32), w[layer + ".biases"].astype(mx.float32),
                          group_size=p["group_size"], bits=p["bits"])
        out[layer + ".weight"] = torch.from_numpy(np.array(d.astype(mx.float32)))
    return out


def main():
    for name, recipe in RECIPES.items():
        from mlx_vlm.convert import convert
        src = os.path.join(OUT, name)
        dst = os.path.join(OUT, f"{name}_mlx4")
        shutil.rmtree(dst, ignore_errors=True)
        with tempfile.TemporaryDirectory() as tmp:
            hf4 = os.path.join(tmp, name)
            hf4_copy(src, hf4)
            convert(hf4, dst, quantize=True, q_bits=4, q_group_size=64, quant_predicate=recipe)
        deq = dequantized(dst)
        config = transformers.AutoConfig.from_pretrained(src)
        gemma = name == "gemma3"
        if gemma:
            config.tie_word_embeddings = False
            config.text_config.tie_word_embeddings = False
        cls = transformers.Gemma3ForConditionalGeneration if gemma else transformers.LlavaForConditionalGeneration
        model = cls.from_pretrained(src, config=config, attn_implementation="eager", dtype=torch.float32).eval()
        state = model.state_dict()
        replaced = 0
        for k, v in deq.items():
            key = ("lm_head.weight" if k == "language_model.lm_head.weight" else k.replace("language_model.model.", "model.language_model."))
            assert key in state, key
            state[key] = v
            replaced += 1
        model.load_state_dict(state)
        # transformers' own class (importing mlx_vlm registers its processors with AutoProcessor)
        processor = (transformers.Gemma3Processor if gemma else transformers.LlavaProcessor).from_pretrained(src)
        ref = json.load(open(os.path.join(src, "reference.json")))
        arrays, cases = {}, {}
        for case, c in ref["cases"].items():
            images = [Image.open(os.path.join(IMAGES, f)) for f in c["images"]]
            inputs, feats, logits, steps, tokens, margin = reference_case(model, processor, c["prompt_text"], images)
            assert inputs["input_ids"][0].tolist() == c["prompt"]
            arrays[f"{case}.step_logits"] = steps
            cases[case] = {"prompt_text": c["prompt_text"], "images": c["images"], "prompt": c["prompt"], "tokens": tokens, "min_margin": margin}
            print(f"{name}_mlx4/{case}: {replaced} dequantized layers, tokens {tokens}, min margin {margin:.4f}")
        save_file(arrays, os.path.join(dst, "reference.safetensors"))
        with open(os.path.join(dst, "reference.json"), "w") as f:
            json.dump({"recipe": recipe or "4-bit", "cases": cases, "transformers": transformers.__version__, "mlx": mx.__version__}, f, indent=1)
        size = sum(os.path.getsize(os.path.join(dst, x)) for x in os.listdir(dst))
        print(f"{name}_mlx4: {size // 1024} KiB")


if __name__ == "__main__":
    main()
