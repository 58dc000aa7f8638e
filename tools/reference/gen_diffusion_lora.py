"""LoRAs for the tiny SD-1.5 pipeline (test/fixtures/diffusion/sd15), made with peft, saved as users have
them, and diffusers' results with `load_lora_weights`, for @tessera/diffusion's LoRA test.

- style_peft.safetensors: LoRA "style" (rank 4, lora_alpha 8: scale 2) on the UNet's attention, proj_in /
  proj_out (1x1 convolutions in SD 1.5), feed-forward, time_emb_proj and resnet conv1 (3x3: a conv LoRA),
  and on the text encoder's attention and MLP; saved by StableDiffusionPipeline.save_lora_weights
  (diffusers/PEFT keys, the LoraConfigs in the file's lora_adapter_metadata).
- style_kohya.safetensors: the same LoRA in kohya/A1111 keys (lora_unet_*, lora_te_text_model_*,
  .lora_down / .lora_up / .alpha), written by the mapping below (diffusers' convert_state_dict_to_kohya
  writes SDXL's lora_te1_ and alpha = rank only).
- detail_kohya.safetensors: LoRA "detail" (rank 2, alpha 1: scale 0.5) on the UNet's attention only.

References (float32): the text embeddings and one UNet call with "style" at weight 1, and a 4-step Euler
txt2img with given latents with style at 0.8 and detail at -0.6 (set_adapters), for each file format.

    pip install diffusers transformers peft torch && python3 tools/reference/gen_diffusion_lora.py
"""
import json
import os
import sys

import numpy as np
import torch
from diffusers import EulerDiscreteScheduler, StableDiffusionPipeline
from peft import LoraConfig, get_peft_model_state_dict, inject_adapter_in_model
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(__file__))
from common import FIXTURES, ref_array, write_fixture  # noqa: E402

OUT = os.path.join(FIXTURES, "diffusion", "lora")
PROMPT = "a watercolor painting of a fox"
NEGATIVE = "blurry"
W, H = 32, 24
F = 2  # the tiny VAE's scale factor (pipe.vae_scale_factor; checked in main)
rng = np.random.default_rng(1203)

UNET_STYLE = ["to_q", "to_k", "to_v", "to_out.0", "proj_in", "proj_out", "ff.net.2", "time_emb_proj", "conv1"]
TE_STYLE = ["q_proj", "k_proj", "v_proj", "out_proj", "fc1"]


def nhwc(x):
    return np.ascontiguousarray(np.asarray(x, dtype=np.float32).transpose(0, 2, 3, 1))


def nchw(x):
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def load():
    pipe = StableDiffusionPipeline.from_pretrained(os.path.join(FIXTURES, "diffusion", "sd15"), torch_dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    pipe.scheduler = EulerDiscreteScheduler.from_config(pipe.scheduler.config)
    return pipe


def randomize(model, adapter, std):
    # peft initializes lora_B to zeros (a no-op LoRA): give every factor random values instead.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if f".{adapter}." in name + "." and ("lora_A" in name or "lora_B" in name):
                p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)).astype(np.float32) * std))


def make_lora(pipe, adapter, unet_targets, te_targets, rank, alpha, std):
    cfg = LoraConfig(r=rank, lora_alpha=alpha, target_modules=unet_targets, init_lora_weights=False)
    pipe.unet.add_adapter(cfg, adapter_name=adapter)
    randomize(pipe.unet, adapter, std)
    layers = {"unet_lora_layers": get_peft_model_state_dict(pipe.unet, adapter_name=adapter),
              "unet_lora_adapter_metadata": cfg.to_dict()}
    if te_targets:
        te_cfg = LoraConfig(r=rank, lora_alpha=alpha, target_modules=te_targets, init_lora_weights=False)
        # transformers' add_adapter wants a newer peft than PyPI has: inject with peft itself.
        inject_adapter_in_model(te_cfg, pipe.text_encoder, adapter_name=adapter)
        randomize(pipe.text_encoder, adapter, std)
        layers["text_encoder_lora_layers"] = get_peft_model_state_dict(pipe.text_encoder, adapter_name=adapter)
        layers["text_encoder_lora_adapter_metadata"] = te_cfg.to_dict()
    return layers


def kohya(layers, alpha):
    """PEFT keys -> kohya/A1111's: lora_unet_<module path with _>, lora_te_text_model_<...> (SD 1.x)."""
    out = {}
    for part, prefix, inner in [("unet_lora_layers", "lora_unet_", ""), ("text_encoder_lora_layers", "lora_te_", "text_model_")]:
        for k, v in layers.get(part, {}).items():
            module, kind = k.rsplit(".lora_", 1)
            name = prefix + inner + module.replace(".", "_")
            out[f"{name}.lora_{'down' if kind.startswith('A') else 'up'}.weight"] = v.contiguous()
            if kind.startswith("A"):
                out[f"{name}.alpha"] = torch.tensor(float(alpha))
    return out


def latents():
    return rng.standard_normal((1, H // F, W // F, 4)).astype(np.float32)


def run(pipe, lat):
    return pipe(prompt=PROMPT, negative_prompt=NEGATIVE, num_inference_steps=4, guidance_scale=6.0, height=H, width=W,
                latents=nchw(lat), output_type="latent").images


def one_call(pipe, sample, t):
    ids = pipe.tokenizer([PROMPT, NEGATIVE], padding="max_length", max_length=77, truncation=True, return_tensors="pt").input_ids
    with torch.no_grad():
        emb = pipe.text_encoder(ids)[0]
        out = pipe.unet(nchw(sample), t, emb).sample
    return emb.numpy(), nhwc(out)


def main():
    torch.set_num_threads(2)
    os.makedirs(OUT, exist_ok=True)
    maker = load()
    style = make_lora(maker, "style", UNET_STYLE, TE_STYLE, rank=4, alpha=8, std=0.15)
    detail = make_lora(maker, "detail", ["to_q", "to_k", "to_v", "to_out.0"], None, rank=2, alpha=1, std=0.3)
    StableDiffusionPipeline.save_lora_weights(OUT, weight_name="style_peft.safetensors", **style)
    save_file(kohya(style, 8), os.path.join(OUT, "style_kohya.safetensors"))
    save_file(kohya(detail, 1), os.path.join(OUT, "detail_kohya.safetensors"))

    sample = rng.standard_normal((2, H // F, W // F, 4)).astype(np.float32)
    t = 700
    lat = latents()
    base = load()
    assert base.vae_scale_factor == F
    base_emb, base_out = one_call(base, sample, t)
    record = {"prompt": PROMPT, "negativePrompt": NEGATIVE, "width": W, "height": H, "steps": 4, "guidance": 6.0,
              "sampler": "euler", "timestep": t, "sample": ref_array(sample), "latents": ref_array(lat),
              "base": {"embeddings": ref_array(base_emb), "unet": ref_array(base_out), "final": ref_array(nhwc(run(base, lat)))}}
    for fmt in ["peft", "kohya"]:
        pipe = load()
        pipe.load_lora_weights(OUT, weight_name=f"style_{fmt}.safetensors", adapter_name="style")
        emb, out = one_call(pipe, sample, t)
        pipe.load_lora_weights(OUT, weight_name="detail_kohya.safetensors", adapter_name="detail")
        pipe.set_adapters(["style", "detail"], adapter_weights=[0.8, -0.6])
        final = nhwc(run(pipe, lat))
        record[fmt] = {"embeddings": ref_array(emb), "unet": ref_array(out), "final": ref_array(final)}
    for k in ["embeddings", "unet", "final"]:
        a, b = np.array(record["peft"][k]["data"]), np.array(record["kohya"][k]["data"])
        print(f"{k}: peft vs kohya max diff {np.abs(a - b).max():.2e}, vs base {np.abs(a - np.array(record['base'][k]['data'])).max():.3f}")
    write_fixture("diffusion/lora/reference.json", record)
    for f in sorted(os.listdir(OUT)):
        print(f, os.path.getsize(os.path.join(OUT, f)))


if __name__ == "__main__":
    main()
