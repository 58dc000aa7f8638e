"""Tiny random LoRA / DoRA adapters for the tiny llama checkpoint (test/fixtures/lm/llama, from
gen_lm_models.py), made with peft, with transformers+peft's logits and greedy tokens.

Writes test/fixtures/lm/lora/:
  peft-lora/   adapter_config.json + adapter_model.safetensors (peft's save_pretrained): r 4,
               lora_alpha 8, every projection of both layers.
  mlx-lora/    adapter_config.json + adapters.safetensors in mlx-lm's layout (tuner/utils.py
               load_adapters, tuner/lora.py LoRALinear): num_layers 1 (the last layer only), keys
               self_attn.q_proj / self_attn.v_proj / mlp.down_proj, lora_a [in, r] and lora_b [r, out]
               (peft's A and B transposed), scale = lora_alpha / r. Its reference is a peft model with
               the same weights and layers_to_transform [1].
  peft-dora/, mlx-dora/  one DoRA adapter (q_proj, v_proj of both layers, magnitudes perturbed) in
               both layouts (mlx-lm's tuner/dora.py keeps the magnitude as `m`).
  reference.safetensors: <set>_prompt_logits [L, vocab], <set>_step_logits [20, vocab] for the sets
               lora, mlx_lora, dora, stacked (peft-lora and mlx-lora both active), lora_mlx4 (peft-lora
               on llama-mlx-4bit's dequantized weights).
  reference.json: prompt, the 20 greedy tokens of each, the base model's tokens, smallest margins.

    python3 tools/reference/gen_lm_lora.py
"""
import json
import os
import shutil

import numpy as np
import peft
import torch
import transformers
from safetensors.numpy import load_file, save_file

from common import FIXTURES

LM = os.path.join(FIXTURES, "lm")
OUT = os.path.join(LM, "lora")
STEPS = 20
ALL = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def base_model(weights_from=None):
    model = transformers.AutoModelForCausalLM.from_pretrained(os.path.join(LM, "llama"), torch_dtype=torch.float32,
                                                              attn_implementation="eager").eval()
    if weights_from is not None:
        sd = model.state_dict()
        with torch.no_grad():
            for k, v in weights_from.items():
                sd[k].copy_(torch.from_numpy(v))
    return model


def mlx4_dequantized():
    """llama-mlx-4bit's weights as q * scale + bias in float32 (as gen_lm_models.py's references)."""
    q = load_file(os.path.join(LM, "llama-mlx-4bit", "model.safetensors"))
    out = {}
    for k, v in q.items():
        if k.endswith(".scales") or k.endswith(".biases"):
            continue
        base = k[: -len(".weight")]
        if base + ".scales" not in q:
            out[k] = v.astype(np.float32)
            continue
        s, b = q[base + ".scales"].astype(np.float32), q[base + ".biases"].astype(np.float32)
        shifts = np.arange(0, 32, 4, dtype=np.uint32)
        vals = ((v[..., None] >> shifts) & 15).reshape(v.shape[0], -1).astype(np.float32)
        g = vals.reshape(v.shape[0], s.shape[1], -1)
        out[k] = (g * s[..., None] + b[..., None]).reshape(v.shape[0], -1)
    return out


def randomize_adapter(model, seed, dora=False):
    """peft starts B at zero (and DoRA's magnitude at the weight norm): random values that change the output."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_A" in name:
                p.copy_(torch.randn(p.shape, generator=g) / p.shape[1] ** 0.5)
            elif "lora_B" in name:
                p.copy_(0.5 * torch.randn(p.shape, generator=g) / p.shape[1] ** 0.5)
            elif "lora_magnitude_vector" in name:
                p.mul_(1 + 0.2 * torch.randn(p.shape, generator=g))
            else:
                continue
            p.copy_(p.half().float())  # values a float16 copy holds exactly


def reference(model, prompt):
    ids = torch.tensor([prompt])
    with torch.no_grad():
        logits = model(ids).logits[0].float().numpy()
        out = model.generate(ids, max_new_tokens=STEPS, min_new_tokens=STEPS, do_sample=False, output_logits=True,
                             return_dict_in_generate=True, pad_token_id=0, eos_token_id=None)
    tokens = out.sequences[0, len(prompt):].tolist()
    steps = torch.stack([s[0] for s in out.logits]).float().numpy()
    top2 = np.sort(steps, axis=-1)[:, -2:]
    return logits, steps, tokens, float((top2[:, 1] - top2[:, 0]).min())


def lora_tensors(model, name):
    """module path (model.layers.N....) -> (A [r, in], B [out, r], magnitude or None) of adapter `name`."""
    out = {}
    for path, m in model.named_modules():
        if isinstance(m, peft.tuners.lora.LoraLayer) and name in m.lora_A:
            key = path.replace("base_model.model.", "", 1)
            mag = m.lora_magnitude_vector[name].weight.detach().numpy() if name in getattr(m, "lora_magnitude_vector", {}) else None
            out[key] = (m.lora_A[name].weight.detach().numpy(), m.lora_B[name].weight.detach().numpy(), mag)
    return out


def write_mlx(path, tensors, scale, num_layers, keys, dora):
    os.makedirs(path)
    st = {}
    for key, (a, b, mag) in tensors.items():
        st[f"{key}.lora_a"] = np.ascontiguousarray(a.T)
        st[f"{key}.lora_b"] = np.ascontiguousarray(b.T)
        if mag is not None:
            st[f"{key}.m"] = mag
    save_file(st, os.path.join(path, "adapters.safetensors"))
    rank = next(iter(tensors.values()))[0].shape[0]
    cfg = {"model": "test/fixtures/lm/llama", "fine_tune_type": "dora" if dora else "lora", "num_layers": num_layers,
           "lora_parameters": {"rank": rank, "scale": scale, "dropout": 0.0, "keys": keys}}
    with open(os.path.join(path, "adapter_config.json"), "w") as f:
        json.dump(cfg, f, indent=2)


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    prompt = json.load(open(os.path.join(LM, "llama", "reference.json")))["prompt"]
    arrays, info = {}, {"prompt": prompt, "transformers": transformers.__version__, "peft": peft.__version__, "torch": torch.__version__}

    def record(name, model):
        logits, steps, tokens, margin = reference(model, prompt)
        arrays[f"{name}_prompt_logits"], arrays[f"{name}_step_logits"] = logits, steps
        info[name] = {"tokens": tokens, "min_margin": margin}
        print(name, tokens, f"margin {margin:.4f}")

    info["base_tokens"] = reference(base_model(), prompt)[2]

    # peft-lora: every projection of both layers.
    model = peft.get_peft_model(base_model(), peft.LoraConfig(r=4, lora_alpha=8, target_modules=ALL, lora_dropout=0.0))
    randomize_adapter(model, 27)  # a seed whose greedy steps (also on the 4-bit weights) have no near-ties
    model.save_pretrained(os.path.join(OUT, "peft-lora"))
    record("lora", model)
    lora = {k: v.detach().clone() for k, v in model.state_dict().items() if "lora_" in k}

    # mlx-lora: the last layer's q/v/down only, written in mlx-lm's layout.
    keys = ["self_attn.q_proj", "self_attn.v_proj", "mlp.down_proj"]
    mcfg = peft.LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "down_proj"], layers_to_transform=[1], lora_dropout=0.0)
    model = peft.get_peft_model(base_model(), mcfg, adapter_name="mlx")
    randomize_adapter(model, 2)
    write_mlx(os.path.join(OUT, "mlx-lora"), lora_tensors(model, "mlx"), 8 / 4, 1, keys, False)
    record("mlx_lora", model)

    # stacked: both adapters active at once (peft sums their low-rank paths).
    model.load_adapter(os.path.join(OUT, "peft-lora"), adapter_name="default")
    model.base_model.set_adapter(["default", "mlx"])
    record("stacked", model)

    # dora: q/v of both layers, in both layouts.
    model = peft.get_peft_model(base_model(), peft.LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], use_dora=True, lora_dropout=0.0))
    randomize_adapter(model, 3, dora=True)
    model.save_pretrained(os.path.join(OUT, "peft-dora"))
    write_mlx(os.path.join(OUT, "mlx-dora"), lora_tensors(model, "default"), 8 / 4, 2, ["self_attn.q_proj", "self_attn.v_proj"], True)
    record("dora", model)

    # peft-lora over llama-mlx-4bit's dequantized weights.
    model = peft.get_peft_model(base_model(mlx4_dequantized()), peft.LoraConfig(r=4, lora_alpha=8, target_modules=ALL, lora_dropout=0.0))
    with torch.no_grad():
        sd = model.state_dict()
        for k, v in lora.items():
            sd[k].copy_(v)
    record("lora_mlx4", model)

    save_file(arrays, os.path.join(OUT, "reference.safetensors"))
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(info, f, indent=1)
    for d in ("peft-lora", "peft-dora"):
        os.remove(os.path.join(OUT, d, "README.md"))  # peft's model card, not needed
        cfg_path = os.path.join(OUT, d, "adapter_config.json")
        cfg = json.load(open(cfg_path))
        cfg["base_model_name_or_path"] = "test/fixtures/lm/llama"  # not this machine's absolute path
        with open(cfg_path, "w") as f:
            json.dump(cfg, f, indent=2)
    size = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(OUT) for f in fs)
    print(f"lora: {size // 1024} KiB")


if __name__ == "__main__":
    main()
