"""Tiny random-weight Stable Diffusion pipelines (SD-1.5- and SDXL-shaped) and diffusers' outputs for them.

Writes under test/fixtures/diffusion/:
  clip-tokenizer/      vocab.json + merges.txt, OpenAI CLIP's real BPE (built from
                       /work/shared/data/clip/bpe_simple_vocab_16e6.txt.gz as openai's SimpleTokenizer does);
                       every tokenizer/ folder links its vocab.json and merges.txt here (committed once).
  sd15/                a diffusers StableDiffusionPipeline folder (save_pretrained, float16 weights):
                       CLIPTextModel (quick_gelu), UNet2DConditionModel (CrossAttnDownBlock2D + DownBlock2D,
                       conv proj_in), AutoencoderKL, PNDM scheduler config, tokenizer (pad <|endoftext|>).
  sdxl/                a StableDiffusionXLPipeline folder: text_encoder links sd15's, CLIPTextModelWithProjection
                       (gelu) as text_encoder_2, tokenizer_2 (pad "!"), a text_time UNet with linear projections and
                       transformer_layers_per_block (1, 2), its own VAE (scaling 0.13025).
  sd15.safetensors,    the same weights as one original-Stable-Diffusion checkpoint (model.diffusion_model.*,
  sdxl.safetensors     first_stage_model.*, cond_stage_model.transformer.* / conditioner.embedders.{0,1}.*
                       with OpenCLIP names), written by the inverse of diffusers' single-file conversion and
                       checked by converting it back with diffusers' own convert_ldm_* functions.
  reference_sd15.json, reference_sdxl.json: token ids, text-encoder outputs, encode_prompt outputs, UNet calls,
                       VAE decode / encode (latent mean) in float32 on the float16 weights. Torch layouts (NCHW).

    python3 tools/reference/gen_diffusion_models.py
"""
import gzip
import json
import os
import shutil

import numpy as np
import torch
from diffusers import (AutoencoderKL, EulerDiscreteScheduler, PNDMScheduler, StableDiffusionPipeline,
                       StableDiffusionXLPipeline, UNet2DConditionModel)
from diffusers.loaders.single_file_utils import (convert_ldm_clip_checkpoint, convert_ldm_unet_checkpoint,
                                                 convert_ldm_vae_checkpoint, convert_open_clip_checkpoint)
from safetensors.torch import save_file
from transformers import (CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer)

from common import FIXTURES, ref_array, write_fixture

OUT = os.path.join(FIXTURES, "diffusion")
BPE = "/work/shared/data/clip/bpe_simple_vocab_16e6.txt.gz"
torch.manual_seed(0)

PROMPTS = [
    "a photo of an astronaut riding a horse on Mars",
    "",
    # 90+ tokens: diffusers truncates to 77 (75 + BOS/EOS) and warns.
    "a very detailed painting of " + ", ".join(f"tree number {i}" for i in range(30)),
]


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def write_clip_vocab():
    """vocab.json / merges.txt exactly as openai's SimpleTokenizer builds its tables (HF's CLIP files)."""
    d = os.path.join(OUT, "clip-tokenizer")
    os.makedirs(d, exist_ok=True)
    lines = gzip.open(BPE).read().decode("utf-8").split("\n")
    merges = [tuple(m.split()) for m in lines[1:49152 - 256 - 2 + 1]]
    vocab = bytes_to_unicode()
    vocab = vocab + [v + "</w>" for v in vocab] + ["".join(m) for m in merges] + ["<|startoftext|>", "<|endoftext|>"]
    with open(os.path.join(d, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump({v: i for i, v in enumerate(vocab)}, f, ensure_ascii=False)
    with open(os.path.join(d, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "\n".join(" ".join(m) for m in merges) + "\n")
    return d


def write_tokenizer(folder, pad_token):
    """A tokenizer/ folder as SD repos have it: links to the shared vocab/merges + the two small configs."""
    if os.path.lexists(folder):
        shutil.rmtree(folder) if os.path.isdir(folder) and not os.path.islink(folder) else os.remove(folder)
    os.makedirs(folder)
    rel = os.path.relpath(os.path.join(OUT, "clip-tokenizer"), folder)
    for name in ("vocab.json", "merges.txt"):
        os.symlink(os.path.join(rel, name), os.path.join(folder, name))
    cfg = {"tokenizer_class": "CLIPTokenizer", "model_max_length": 77, "bos_token": "<|startoftext|>",
           "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>", "pad_token": pad_token,
           "do_lower_case": True, "clean_up_tokenization_spaces": True}
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    special = {k: cfg[k] for k in ("bos_token", "eos_token", "unk_token", "pad_token")}
    with open(os.path.join(folder, "special_tokens_map.json"), "w") as f:
        json.dump(special, f, indent=2)


def randomize_(model):
    """Order-one weights rounded to float16 (norm weights around 1, biases small), so outputs are not ~0."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                v = (1.0 if name.endswith("weight") else 0.0) + 0.2 * torch.randn_like(p)
            elif "embedding.weight" in name and p.ndim == 2 and "linear" not in name:
                v = torch.randn_like(p)
            elif name.endswith("bias"):
                v = 0.2 * torch.randn_like(p)
            else:
                fan_in = int(np.prod(p.shape[1:]))
                v = torch.randn_like(p) * 1.0 / fan_in ** 0.5
            p.copy_(v.half().float())
    return model.eval()


def clip_config(hidden, layers, act, proj=None):
    return CLIPTextConfig(vocab_size=49408, hidden_size=hidden, intermediate_size=4 * hidden, num_hidden_layers=layers,
                          num_attention_heads=2, max_position_embeddings=77, hidden_act=act,
                          projection_dim=proj or hidden, bos_token_id=49406, eos_token_id=49407, pad_token_id=49407)


def vae_model(channels, scaling):
    return randomize_(AutoencoderKL(
        in_channels=3, out_channels=3, down_block_types=["DownEncoderBlock2D"] * len(channels),
        up_block_types=["UpDecoderBlock2D"] * len(channels), block_out_channels=channels, layers_per_block=1,
        latent_channels=4, norm_num_groups=8, sample_size=16, scaling_factor=scaling))


def save_pipeline(pipe, folder, tokenizers):
    if os.path.isdir(folder):
        shutil.rmtree(folder)
    pipe.save_pretrained(folder, safe_serialization=True)
    for name, pad in tokenizers:
        write_tokenizer(os.path.join(folder, name), pad)
    size = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(folder) for f in fs
               if not os.path.islink(os.path.join(r, f)))
    print(f"{os.path.relpath(folder, FIXTURES)}: {size // 1024} KiB")


# ---- original Stable Diffusion key names (the inverse of diffusers' single_file_utils conversions) ----

def unet_to_ldm(sd, cfg):
    lpb = cfg["layers_per_block"]
    out = {}
    fixed = {"time_embedding.linear_1": "time_embed.0", "time_embedding.linear_2": "time_embed.2",
             "add_embedding.linear_1": "label_emb.0.0", "add_embedding.linear_2": "label_emb.0.2",
             "conv_in": "input_blocks.0.0", "conv_norm_out": "out.0", "conv_out": "out.2"}
    resnet = [("norm1", "in_layers.0"), ("conv1", "in_layers.2"), ("time_emb_proj", "emb_layers.1"),
              ("norm2", "out_layers.0"), ("conv2", "out_layers.3"), ("conv_shortcut", "skip_connection")]

    def res(rest):
        for a, b in resnet:
            if rest.startswith(a + "."):
                return b + rest[len(a):]
        raise KeyError(rest)

    for k, v in sd.items():
        parts = k.split(".")
        head = ".".join(parts[:-1])
        if head in fixed:
            nk = fixed[head] + "." + parts[-1]
        elif parts[0] == "down_blocks":
            b, kind, j, rest = int(parts[1]), parts[2], int(parts[3]), ".".join(parts[4:])
            if kind == "resnets":
                nk = f"input_blocks.{1 + b * (lpb + 1) + j}.0.{res(rest)}"
            elif kind == "attentions":
                nk = f"input_blocks.{1 + b * (lpb + 1) + j}.1.{rest}"
            else:  # downsamplers.0.conv
                nk = f"input_blocks.{1 + b * (lpb + 1) + lpb}.0.op.{parts[-1]}"
        elif parts[0] == "mid_block":
            kind, j, rest = parts[1], int(parts[2]), ".".join(parts[3:])
            nk = f"middle_block.{2 * j}.{res(rest)}" if kind == "resnets" else f"middle_block.1.{rest}"
        elif parts[0] == "up_blocks":
            b, kind, j, rest = int(parts[1]), parts[2], int(parts[3]), ".".join(parts[4:])
            i = b * (lpb + 1) + j
            if kind == "resnets":
                nk = f"output_blocks.{i}.0.{res(rest)}"
            elif kind == "attentions":
                nk = f"output_blocks.{i}.1.{rest}"
            else:  # upsamplers.0.conv: after the resnet (and the attention, if the block has them)
                last = b * (lpb + 1) + lpb
                has_attn = any(x.startswith(f"up_blocks.{b}.attentions.") for x in sd)
                nk = f"output_blocks.{last}.{2 if has_attn else 1}.conv.{parts[-1]}"
        else:
            raise KeyError(k)
        out["model.diffusion_model." + nk] = v
    return out


def vae_to_ldm(sd, cfg):
    n = len(cfg["up_block_types"])
    out = {}
    for k, v in sd.items():
        nk = (k.replace("conv_norm_out", "norm_out").replace("conv_shortcut", "nin_shortcut")
              .replace("mid_block.resnets.0", "mid.block_1").replace("mid_block.resnets.1", "mid.block_2"))
        if "mid_block.attentions.0" in nk:
            nk = (nk.replace("mid_block.attentions.0", "mid.attn_1").replace("group_norm", "norm")
                  .replace("to_q", "q").replace("to_k", "k").replace("to_v", "v").replace("to_out.0", "proj_out"))
            if v.ndim == 2:  # the original attention is made of 1x1 convolutions
                v = v[:, :, None, None]
        parts = nk.split(".")
        if parts[1] == "down_blocks":
            i = parts[2]
            nk = (f"encoder.down.{i}.block.{'.'.join(parts[4:])}" if parts[3] == "resnets"
                  else f"encoder.down.{i}.downsample.{parts[-2]}.{parts[-1]}")
        elif parts[1] == "up_blocks":
            i = n - 1 - int(parts[2])
            nk = (f"decoder.up.{i}.block.{'.'.join(parts[4:])}" if parts[3] == "resnets"
                  else f"decoder.up.{i}.upsample.{parts[-2]}.{parts[-1]}")
        out["first_stage_model." + nk] = v
    return out


def hf_clip_keys(sd):
    """transformers 5 saves CLIP without the "text_model." prefix; checkpoints in the wild have it."""
    return {(k if k.startswith(("text_model.", "text_projection")) else "text_model." + k): v
            for k, v in sd.items() if not k.endswith("position_ids")}


def openclip_from_hf(sd, prefix):
    """CLIPTextModelWithProjection -> OpenCLIP names (fused in_proj, text_projection as [width, dim])."""
    sd = hf_clip_keys(sd)
    out = {}
    layers = sorted({int(k.split(".")[3]) for k in sd if k.startswith("text_model.encoder.layers.")})
    for i in layers:
        p = f"text_model.encoder.layers.{i}."
        r = f"{prefix}transformer.resblocks.{i}."
        out[r + "attn.in_proj_weight"] = torch.cat([sd[p + f"self_attn.{x}_proj.weight"] for x in "qkv"])
        out[r + "attn.in_proj_bias"] = torch.cat([sd[p + f"self_attn.{x}_proj.bias"] for x in "qkv"])
        for a, b in [("self_attn.out_proj", "attn.out_proj"), ("layer_norm1", "ln_1"), ("layer_norm2", "ln_2"),
                     ("mlp.fc1", "mlp.c_fc"), ("mlp.fc2", "mlp.c_proj")]:
            for w in ("weight", "bias"):
                out[r + f"{b}.{w}"] = sd[p + f"{a}.{w}"]
    out[prefix + "token_embedding.weight"] = sd["text_model.embeddings.token_embedding.weight"]
    out[prefix + "positional_embedding"] = sd["text_model.embeddings.position_embedding.weight"]
    out[prefix + "ln_final.weight"] = sd["text_model.final_layer_norm.weight"]
    out[prefix + "ln_final.bias"] = sd["text_model.final_layer_norm.bias"]
    out[prefix + "text_projection"] = sd["text_projection.weight"].T.contiguous()
    return out


def check_same(name, a, b):
    assert set(a) == set(b), f"{name}: keys differ: {sorted(set(a) ^ set(b))[:10]}"
    for k in a:
        assert torch.equal(a[k].float(), b[k].float()), f"{name}: {k} differs"


def write_single_file(pipe, path, xl):
    unet, vae = pipe.unet.state_dict(), pipe.vae.state_dict()
    ckpt = {**unet_to_ldm(unet, pipe.unet.config), **vae_to_ldm(vae, pipe.vae.config)}
    te = hf_clip_keys(pipe.text_encoder.state_dict())
    te_prefix = "conditioner.embedders.0.transformer." if xl else "cond_stage_model.transformer."
    ckpt.update({te_prefix + k: v for k, v in te.items()})
    if xl:
        ckpt.update(openclip_from_hf(pipe.text_encoder_2.state_dict(), "conditioner.embedders.1.model."))
    ckpt = {k: v.half().contiguous() for k, v in ckpt.items()}
    # diffusers' own converters must give back exactly the pipeline's weights.
    check_same("unet", convert_ldm_unet_checkpoint(ckpt, dict(pipe.unet.config)), unet)
    check_same("vae", convert_ldm_vae_checkpoint(ckpt, dict(pipe.vae.config)), vae)
    check_same("text_encoder", convert_ldm_clip_checkpoint(ckpt), te)
    if xl:
        back = convert_open_clip_checkpoint(pipe.text_encoder_2, ckpt, prefix="conditioner.embedders.1.model.")
        check_same("text_encoder_2", back, hf_clip_keys(pipe.text_encoder_2.state_dict()))
    save_file(ckpt, path)
    print(f"{os.path.relpath(path, FIXTURES)}: {os.path.getsize(path) // 1024} KiB")


# ---- references ----

def t(x):
    return ref_array(x.detach().float().numpy())


def text_refs(pipe, xl):
    out = []
    tokenizers = [pipe.tokenizer] + ([pipe.tokenizer_2] if xl else [])
    encoders = [pipe.text_encoder] + ([pipe.text_encoder_2] if xl else [])
    for prompt in PROMPTS:
        case = {"prompt": prompt, "encoders": []}
        for tok, enc in zip(tokenizers, encoders):
            ids = tok(prompt, padding="max_length", max_length=tok.model_max_length, truncation=True,
                      return_tensors="pt").input_ids
            full = tok(prompt, padding="longest", return_tensors="pt").input_ids
            o = enc(ids, output_hidden_states=True)
            e = {"input_ids": ids[0].tolist(), "untruncated_length": int(full.shape[1]),
                 "last_hidden_state": t(o.last_hidden_state), "penultimate": t(o.hidden_states[-2])}
            if hasattr(o, "text_embeds"):
                e["text_embeds"] = t(o.text_embeds)
            else:
                e["pooler_output"] = t(o.pooler_output)
            case["encoders"].append(e)
        if xl:
            pe, _, pooled, _ = pipe.encode_prompt(prompt, device="cpu", num_images_per_prompt=1,
                                                  do_classifier_free_guidance=False)
            case["prompt_embeds"], case["pooled_prompt_embeds"] = t(pe), t(pooled)
        else:
            pe, _ = pipe.encode_prompt(prompt, device="cpu", num_images_per_prompt=1, do_classifier_free_guidance=False)
            case["prompt_embeds"] = t(pe)
            # encode_prompt(clip_skip=1) itself: the second-to-last layer's output through the final norm
            # (diffusers 0.42 reaches it as text_encoder.text_model, which transformers 5 no longer has).
            ids = pipe.tokenizer(prompt, padding="max_length", max_length=77, truncation=True, return_tensors="pt").input_ids
            hidden = pipe.text_encoder(ids, output_hidden_states=True).hidden_states[-2]
            case["prompt_embeds_clip_skip_1"] = t(pipe.text_encoder.final_layer_norm(hidden))
        out.append(case)
    return out


def unet_refs(pipe, xl, embeds, pooled):
    cases = []
    g = torch.Generator().manual_seed(1)
    for shape, timestep in [((2, 4, 8, 8), 981), ((1, 4, 7, 5), 37.5)]:
        x = torch.randn(shape, generator=g)
        ctx = embeds[: shape[0]]
        kw = {}
        c = {"latents": t(x), "timestep": timestep, "encoder_hidden_states": t(ctx)}
        if xl:
            time_ids = torch.tensor([[16.0, 16.0, 0.0, 0.0, 16.0, 16.0], [32.0, 24.0, 4.0, 2.0, 16.0, 16.0]])[: shape[0]]
            kw["added_cond_kwargs"] = {"text_embeds": pooled[: shape[0]], "time_ids": time_ids}
            c["text_embeds"], c["time_ids"] = t(pooled[: shape[0]]), t(time_ids)
        c["sample"] = t(pipe.unet(x, timestep, encoder_hidden_states=ctx, **kw).sample)
        cases.append(c)
    return cases


def vae_refs(vae):
    g = torch.Generator().manual_seed(2)
    z = torch.randn(1, 4, 8, 8, generator=g)
    img = torch.rand(1, 3, 16, 12, generator=g) * 2 - 1
    dist = vae.encode(img).latent_dist
    return {"decode": {"latents": t(z), "sample": t(vae.decode(z).sample)},
            "encode": {"image": t(img), "mean": t(dist.mean), "logvar": t(dist.logvar)},
            "scaling_factor": vae.config.scaling_factor}


@torch.no_grad()
def main():
    write_clip_vocab()
    tmp_tok = os.path.join(OUT, "_tok")
    write_tokenizer(tmp_tok, "<|endoftext|>")
    tokenizer = CLIPTokenizer.from_pretrained(tmp_tok)
    shutil.rmtree(tmp_tok)

    # SD 1.5 shape.
    te = randomize_(CLIPTextModel(clip_config(8, 2, "quick_gelu")))
    unet = randomize_(UNet2DConditionModel(
        sample_size=8, in_channels=4, out_channels=4, block_out_channels=(16, 32), layers_per_block=2,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=8, attention_head_dim=4, norm_num_groups=8))
    sched = PNDMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", skip_prk_steps=True,
                          set_alpha_to_one=False, steps_offset=1)
    pipe = StableDiffusionPipeline(vae=vae_model([16, 32], 0.18215), text_encoder=te, tokenizer=tokenizer, unet=unet,
                                   scheduler=sched, safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False).to(torch.float16)
    sd15 = os.path.join(OUT, "sd15")
    save_pipeline(pipe, sd15, [("tokenizer", "<|endoftext|>")])
    pipe = StableDiffusionPipeline.from_pretrained(sd15, torch_dtype=torch.float32, safety_checker=None)
    write_single_file(pipe, os.path.join(OUT, "sd15.safetensors"), xl=False)
    text = text_refs(pipe, xl=False)
    embeds = torch.cat([pipe.encode_prompt(p, "cpu", 1, False)[0] for p in PROMPTS[:2]])
    write_fixture("diffusion/reference_sd15.json", {
        "text": text, "unet": unet_refs(pipe, False, embeds, None), "vae": vae_refs(pipe.vae)})

    # SDXL shape: text_encoder is sd15's (linked), a second encoder with projection, text_time UNet.
    te2 = randomize_(CLIPTextModelWithProjection(clip_config(8, 3, "gelu", proj=12)))
    unet = randomize_(UNet2DConditionModel(
        sample_size=8, in_channels=4, out_channels=4, block_out_channels=(16, 32), layers_per_block=1,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        transformer_layers_per_block=(1, 2), attention_head_dim=(2, 4), use_linear_projection=True,
        addition_embed_type="text_time", addition_time_embed_dim=8, projection_class_embeddings_input_dim=6 * 8 + 12,
        cross_attention_dim=16, norm_num_groups=8))
    sched = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                   steps_offset=1, timestep_spacing="leading")
    tokenizer_2 = CLIPTokenizer.from_pretrained(os.path.join(sd15, "tokenizer"), pad_token="!")
    xl = StableDiffusionXLPipeline(vae=vae_model([16, 16, 32], 0.13025), text_encoder=pipe.text_encoder.to(torch.float16),
                                   text_encoder_2=te2, tokenizer=tokenizer, tokenizer_2=tokenizer_2, unet=unet,
                                   scheduler=sched).to(torch.float16)
    sdxl = os.path.join(OUT, "sdxl")
    save_pipeline(xl, sdxl, [("tokenizer", "<|endoftext|>"), ("tokenizer_2", "!")])
    shutil.rmtree(os.path.join(sdxl, "text_encoder"))
    os.symlink(os.path.join("..", "sd15", "text_encoder"), os.path.join(sdxl, "text_encoder"))
    xl = StableDiffusionXLPipeline.from_pretrained(sdxl, torch_dtype=torch.float32)
    write_single_file(xl, os.path.join(OUT, "sdxl.safetensors"), xl=True)
    text = text_refs(xl, xl=True)
    pairs = [xl.encode_prompt(p, device="cpu", num_images_per_prompt=1, do_classifier_free_guidance=False)
             for p in PROMPTS[:2]]
    embeds = torch.cat([p[0] for p in pairs])
    pooled = torch.cat([p[2] for p in pairs])
    write_fixture("diffusion/reference_sdxl.json", {
        "text": text, "unet": unet_refs(xl, True, embeds, pooled), "vae": vae_refs(xl.vae)})


if __name__ == "__main__":
    main()
