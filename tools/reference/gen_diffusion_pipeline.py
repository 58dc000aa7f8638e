"""diffusers' StableDiffusion(XL)Pipeline and StableDiffusionImg2ImgPipeline end to end on the tiny random
pipelines of gen_diffusion_models.py (test/fixtures/diffusion/sd15, sdxl), for @tessera/diffusion's
pipeline test.

Each case swaps the sampler as a user does (`Cls.from_config(pipe.scheduler.config, **overrides)`, the
mapping of gen_diffusion_schedulers.py), passes the initial latents (seeded NumPy normals), and records
the final latents (output_type="latent") and the decoded image (output_type="np", and its uint8 bytes).
img2img cases patch diffusers' randn_tensor in the VAE (the encoder's sample) and in the img2img pipeline
(the noise added at the strength's timestep) to return recorded NumPy normals. Arrays are channels-last
(NHWC) as @tessera/diffusion uses them.

    pip install diffusers transformers torch scipy && python3 tools/reference/gen_diffusion_pipeline.py
"""
import os
import sys

import numpy as np
import torch
from diffusers import (StableDiffusionImg2ImgPipeline, StableDiffusionPipeline, StableDiffusionXLImg2ImgPipeline,
                       StableDiffusionXLPipeline)
from PIL import Image

sys.path.insert(0, os.path.dirname(__file__))
from common import FIXTURES, ref_array, write_fixture  # noqa: E402
from gen_diffusion_schedulers import SAMPLERS, SIGMAS  # noqa: E402

import diffusers.models.autoencoders.vae as vae_module  # noqa: E402
import diffusers.pipelines.stable_diffusion.pipeline_stable_diffusion_img2img as img2img_module  # noqa: E402
import diffusers.pipelines.stable_diffusion_xl.pipeline_stable_diffusion_xl_img2img as xl_img2img_module  # noqa: E402

PROMPT = "a photo of an astronaut riding a horse on Mars"
NEGATIVE = "blurry, low quality"
W, H = 32, 24
rng = np.random.default_rng(1202)


def nhwc(x):
    return np.ascontiguousarray(np.asarray(x, dtype=np.float32).transpose(0, 2, 3, 1))


def nchw(x):
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


BASE_CONFIGS = {}  # the folder's own scheduler class and config: from_config on a swapped scheduler's config keeps its options


def set_sampler(pipe, sampler, sigmas):
    base_cls, base = BASE_CONFIGS.setdefault(pipe.unet.config.cross_attention_dim, (type(pipe.scheduler), dict(pipe.scheduler.config)))
    if sampler is None:  # the folder's own scheduler class
        pipe.scheduler = base_cls.from_config(base)
        return
    cls, overrides = SAMPLERS[sampler]
    pipe.scheduler = cls.from_config(base, **overrides, **(SIGMAS.get(sigmas) or {}))


def latents_for(pipe, count):
    f = pipe.vae_scale_factor
    return rng.standard_normal((count, H // f, W // f, pipe.unet.config.in_channels)).astype(np.float32)


def txt2img(pipe, name, sampler, steps, guidance, negative, sigmas=None, count=1, clip_skip=None):
    set_sampler(pipe, sampler, sigmas)
    latents = latents_for(pipe, count)
    kw = dict(prompt=PROMPT, negative_prompt=negative, num_inference_steps=steps, guidance_scale=guidance,
              height=H, width=W, num_images_per_prompt=count, clip_skip=clip_skip)
    lat = pipe(**kw, latents=nchw(latents), output_type="latent").images
    img = pipe(**kw, latents=nchw(latents), output_type="np").images
    print(f"{name}: latents max {float(lat.abs().max()):.3f}, image mean {img.mean():.3f}")
    return {"name": name, "mode": "txt2img", "sampler": sampler, "sigmas": sigmas, "steps": steps, "guidance": guidance,
            "prompt": PROMPT, "negativePrompt": negative, "width": W, "height": H, "count": count, "clipSkip": clip_skip,
            "latents": ref_array(latents), "final": ref_array(nhwc(lat)), "image": ref_array(img),
            "bytes": (img * 255).round().astype(np.uint8).ravel().tolist()}


class Feed:
    def __init__(self):
        self.draws = []

    def __call__(self, shape, generator=None, device=None, dtype=None, layout=None):
        n = rng.standard_normal(tuple(shape)).astype(np.float32)
        self.draws.append(n)
        return torch.from_numpy(n).to(dtype or torch.float32)


def img2img(pipe, name, sampler, steps, guidance, strength, sigmas=None, module=img2img_module):
    set_sampler(pipe, sampler, sigmas)
    init = (np.add.outer(np.arange(H) * 9, np.arange(W) * 5)[..., None] + np.array([0, 80, 160])) % 256
    init = init.astype(np.uint8)
    out = {}
    for kind in ["latent", "np"]:
        enc, add = Feed(), Feed()
        vae_module.randn_tensor, module.randn_tensor = enc, add
        out[kind] = pipe(prompt=PROMPT, negative_prompt=NEGATIVE, image=Image.fromarray(init), strength=strength,
                         num_inference_steps=steps, guidance_scale=guidance, output_type=kind).images
        draws = (enc.draws, add.draws)
    assert len(draws[0]) == 1 and len(draws[1]) == 1
    # The two runs drew different numbers: keep the "np" run's and recompute its latents with them.
    enc_noise, add_noise = draws[0][0], draws[1][0]
    vae_module.randn_tensor = lambda *a, **k: torch.from_numpy(enc_noise)
    module.randn_tensor = lambda *a, **k: torch.from_numpy(add_noise)
    lat = pipe(prompt=PROMPT, negative_prompt=NEGATIVE, image=Image.fromarray(init), strength=strength,
               num_inference_steps=steps, guidance_scale=guidance, output_type="latent").images
    img = out["np"]
    print(f"{name}: latents max {float(lat.abs().max()):.3f}, image mean {img.mean():.3f}")
    return {"name": name, "mode": "img2img", "sampler": sampler, "sigmas": sigmas, "steps": steps, "guidance": guidance,
            "strength": strength, "prompt": PROMPT, "negativePrompt": NEGATIVE, "width": W, "height": H, "count": 1,
            "initImage": init.ravel().tolist(), "encodeNoise": ref_array(nhwc(enc_noise)), "addNoise": ref_array(nhwc(add_noise)),
            "final": ref_array(nhwc(lat)), "image": ref_array(img), "bytes": (img * 255).round().astype(np.uint8).ravel().tolist()}


def main():
    torch.set_num_threads(2)
    sd = StableDiffusionPipeline.from_pretrained(os.path.join(FIXTURES, "diffusion", "sd15"), torch_dtype=torch.float32)
    sd.set_progress_bar_config(disable=True)
    cases = [
        txt2img(sd, "sd15 euler, CFG with a negative prompt", "euler", 5, 7.5, NEGATIVE),
        txt2img(sd, "sd15 dpmpp_2m karras, empty negative prompt", "dpmpp_2m", 6, 5.0, None, sigmas="karras"),
        txt2img(sd, "sd15 ddim, no guidance", "ddim", 4, 1.0, None),
        txt2img(sd, "sd15 heun, 2 images", "heun", 3, 7.5, NEGATIVE, count=2),
        txt2img(sd, "sd15 lms", "lms", 5, 7.5, NEGATIVE),
    ]
    i2i = StableDiffusionImg2ImgPipeline(**sd.components)
    i2i.set_progress_bar_config(disable=True)
    cases.append(img2img(i2i, "sd15 img2img dpmpp_2m strength 0.6", "dpmpp_2m", 10, 7.5, 0.6))
    cases.append(img2img(i2i, "sd15 img2img euler strength 0.75", "euler", 8, 5.0, 0.75))
    xl = StableDiffusionXLPipeline.from_pretrained(os.path.join(FIXTURES, "diffusion", "sdxl"), torch_dtype=torch.float32)
    xl.set_progress_bar_config(disable=True)
    cases.append(txt2img(xl, "sdxl euler, zero negative embeddings", "euler", 4, 6.0, None))
    cases.append(txt2img(xl, "sdxl dpmpp_2m, negative prompt", "dpmpp_2m", 4, 6.0, NEGATIVE))
    # diffusers' clip_skip path reads text_encoder.text_model.final_layer_norm, which transformers 5's
    # CLIPTextModel keeps at its top level: alias it (unregistered, so no module cycle).
    object.__setattr__(sd.text_encoder, "text_model", sd.text_encoder)
    cases.append(txt2img(sd, "sd15 default scheduler (the folder's PNDM)", None, 6, 7.5, NEGATIVE))
    cases.append(txt2img(sd, "sd15 euler, clip_skip 1", "euler", 4, 7.5, NEGATIVE, clip_skip=1))
    xl_i2i = StableDiffusionXLImg2ImgPipeline(**xl.components)
    xl_i2i.set_progress_bar_config(disable=True)
    cases.append(img2img(xl_i2i, "sdxl img2img euler strength 0.5", "euler", 6, 6.0, 0.5, module=xl_img2img_module))
    write_fixture("diffusion/pipeline/txt2img_img2img.json", {"cases": cases})


if __name__ == "__main__":
    main()
