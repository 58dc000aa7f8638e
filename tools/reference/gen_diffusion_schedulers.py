"""diffusers' schedulers run through whole sampling loops with a fixed fake model.

For each case: a scheduler class made with `from_config(config, **overrides)` exactly as a pipeline
swaps samplers, `set_timesteps(steps)`, then the pipeline's loop

    x = latents * init_noise_sigma
    for t in timesteps: x = step(fake(scale_model_input(x, t), t), t, x)

with the fake "model" fake(x, t) = 0.9 * x + (0.1 + t / 2000) * w (w a fixed tensor), which
@tessera/diffusion's test computes identically. Samplers that draw noise (Euler ancestral, DPM++ 2M SDE,
LCM) get it from a patched `randn_tensor` that returns seeded NumPy normals; the draws are recorded
and the test feeds the same ones. img2img cases follow StableDiffusionImg2ImgPipeline: get_timesteps
(strength -> t_start), set_begin_index, add_noise(image_latents, noise, timesteps[:1]), then the loop.

Recorded: timesteps, sigmas (where the scheduler has them), init_noise_sigma, the noise draws and the
final latents. Latents are [1, 4, 4, 4] (the loop is elementwise, so the layout does not matter).

    pip install diffusers torch scipy && python3 tools/reference/gen_diffusion_schedulers.py
"""
import importlib
import os
import sys

import numpy as np
import torch
from diffusers import (DDIMScheduler, DPMSolverMultistepScheduler, EulerAncestralDiscreteScheduler,
                       EulerDiscreteScheduler, HeunDiscreteScheduler, LCMScheduler, LMSDiscreteScheduler, PNDMScheduler)

sys.path.insert(0, os.path.dirname(__file__))
from common import ref_array, write_fixture  # noqa: E402

SHAPE = (1, 4, 4, 4)

# scheduler_config.json of the diffusers pipelines the samplers run under.
SD15 = {"_class_name": "PNDMScheduler", "beta_end": 0.012, "beta_schedule": "scaled_linear", "beta_start": 0.00085,
        "clip_sample": False, "num_train_timesteps": 1000, "set_alpha_to_one": False, "skip_prk_steps": True,
        "steps_offset": 1, "trained_betas": None}
SD21V = {"_class_name": "DDIMScheduler", "beta_end": 0.012, "beta_schedule": "scaled_linear", "beta_start": 0.00085,
         "clip_sample": False, "num_train_timesteps": 1000, "prediction_type": "v_prediction",
         "set_alpha_to_one": False, "steps_offset": 1, "trained_betas": None}
SDXL = {"_class_name": "EulerDiscreteScheduler", "beta_end": 0.012, "beta_schedule": "scaled_linear",
        "beta_start": 0.00085, "clip_sample": False, "interpolation_type": "linear", "num_train_timesteps": 1000,
        "prediction_type": "epsilon", "sample_max_value": 1.0, "set_alpha_to_one": False, "skip_prk_steps": True,
        "steps_offset": 1, "timestep_spacing": "leading", "trained_betas": None, "use_karras_sigmas": False}
TURBO = {**SDXL, "timestep_spacing": "trailing"}
LINEAR = {"_class_name": "DDPMScheduler", "beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "linear",
          "num_train_timesteps": 1000}
COSINE = {**LINEAR, "beta_schedule": "squaredcos_cap_v2"}

# Our sampler name -> (diffusers class, overrides), as the TS side maps it.
SAMPLERS = {
    "ddim": (DDIMScheduler, {}),
    "euler": (EulerDiscreteScheduler, {}),
    "euler_a": (EulerAncestralDiscreteScheduler, {}),
    "heun": (HeunDiscreteScheduler, {}),
    "dpmpp_2m": (DPMSolverMultistepScheduler, {"algorithm_type": "dpmsolver++", "solver_order": 2}),
    "dpmpp_2m_sde": (DPMSolverMultistepScheduler, {"algorithm_type": "sde-dpmsolver++", "solver_order": 2}),
    "lms": (LMSDiscreteScheduler, {}),
    "lcm": (LCMScheduler, {}),
    "pndm": (PNDMScheduler, {"skip_prk_steps": True}),  # PLMS: what SD configs ask for, and all we implement
}
SIGMAS = {"karras": {"use_karras_sigmas": True}, "exponential": {"use_exponential_sigmas": True}}
NOISY_MODULES = ["scheduling_ddim", "scheduling_euler_ancestral_discrete", "scheduling_dpmsolver_multistep", "scheduling_lcm"]

rng = np.random.default_rng(20261202)
W = rng.standard_normal(SHAPE).astype(np.float32)
LATENTS = rng.standard_normal(SHAPE).astype(np.float32)
IMAGE_LATENTS = (0.5 * rng.standard_normal(SHAPE)).astype(np.float32)


def fake_model(x, t):
    return 0.9 * x + (0.1 + float(t) / 2000) * torch.from_numpy(W)


class NoiseFeed:
    """Stands in for diffusers' randn_tensor in the scheduler modules; records what it returns."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.draws = []

    def __call__(self, shape, generator=None, device=None, dtype=None, layout=None):
        n = self.rng.standard_normal(tuple(shape)).astype(np.float32)
        self.draws.append(n)
        return torch.from_numpy(n).to(dtype or torch.float32)


def make_scheduler(sampler, sigmas, config, extra):
    cls, overrides = SAMPLERS[sampler]
    return cls.from_config(config, **overrides, **(SIGMAS.get(sigmas) or {}), **extra)


def run(name, sampler, steps, config, sigmas=None, strength=None, extra=None, seed=0, eta=None):
    feed = NoiseFeed(seed)
    for m in NOISY_MODULES:
        importlib.import_module(f"diffusers.schedulers.{m}").randn_tensor = feed
    s = make_scheduler(sampler, sigmas, config, extra or {})
    s.set_timesteps(steps)
    all_timesteps = s.timesteps.clone()
    if strength is None:
        start = 0
        x = torch.from_numpy(LATENTS) * s.init_noise_sigma
    else:  # StableDiffusionImg2ImgPipeline.get_timesteps + prepare_latents
        init_timestep = min(int(steps * strength), steps)
        t_start = max(steps - init_timestep, 0)
        start = t_start * s.order
        if hasattr(s, "set_begin_index"):  # as the pipeline does (DDIM has none)
            s.set_begin_index(start)
        noise = feed((1,) + SHAPE[1:])
        x = s.add_noise(torch.from_numpy(IMAGE_LATENTS), noise, s.timesteps[start:start + 1])
    for t in s.timesteps[start:]:
        xin = s.scale_model_input(x, t)
        x = s.step(fake_model(xin, t), t, x, **({} if eta is None else {"eta": eta})).prev_sample
    sig = getattr(s, "sigmas", None)
    init_sigma = s.init_noise_sigma
    case = {
        "name": name, "sampler": sampler, "sigmas": sigmas, "steps": steps, "config": {**config, **(extra or {})},
        "strength": strength, "startIndex": start, "eta": eta,
        "timesteps": [float(t) for t in all_timesteps],
        "sigmaValues": None if sig is None else [float(v) for v in sig],
        "initNoiseSigma": float(init_sigma),
        "noise": [ref_array(n) for n in feed.draws],
        "final": ref_array(x.numpy()),
    }
    print(f"{name}: {len(all_timesteps)} calls, |final| max {float(x.abs().max()):.4f}")
    return case


def cases():
    out = []
    for sampler in SAMPLERS:
        out.append(run(f"sd15 {sampler}", sampler, 4 if sampler == "lcm" else 10, SD15))
    for sampler in ["euler", "heun", "dpmpp_2m", "dpmpp_2m_sde", "lms"]:
        out.append(run(f"sd15 {sampler} karras", sampler, 10, SD15, sigmas="karras"))
    out.append(run("sd15 euler exponential", "euler", 8, SD15, sigmas="exponential"))
    out.append(run("sd15 dpmpp_2m 20 steps", "dpmpp_2m", 20, SD15))
    out.append(run("sd15 dpmpp_2m karras 25 steps", "dpmpp_2m", 25, SD15, sigmas="karras"))
    for sampler in ["ddim", "euler", "euler_a", "heun", "dpmpp_2m", "dpmpp_2m_sde", "lms", "lcm"]:
        out.append(run(f"sd21 v-prediction {sampler}", sampler, 4 if sampler == "lcm" else 8, SD21V))
    for sampler in ["euler", "euler_a", "dpmpp_2m", "ddim", "heun"]:
        out.append(run(f"sdxl {sampler}", sampler, 7, SDXL))
    out.append(run("turbo euler_a 1 step", "euler_a", 1, TURBO))
    out.append(run("turbo euler 4 steps", "euler", 4, TURBO))
    out.append(run("ddim trailing", "ddim", 6, {**SD15, "timestep_spacing": "trailing"}))
    out.append(run("ddim linspace", "ddim", 6, {**SD15, "timestep_spacing": "linspace"}))
    out.append(run("dpmpp_2m trailing", "dpmpp_2m", 6, {**SD15, "timestep_spacing": "trailing"}))
    out.append(run("dpmpp_2m leading", "dpmpp_2m", 6, {**SD15, "timestep_spacing": "leading"}))
    out.append(run("lcm 6 steps, 50 original", "lcm", 6, SD15))
    out.append(run("euler linear betas", "euler", 6, LINEAR))
    out.append(run("ddim cosine betas", "ddim", 6, COSINE))
    out.append(run("ddim set_alpha_to_one", "ddim", 5, {**SD15, "set_alpha_to_one": True}))
    out.append(run("ddim eta 0.7", "ddim", 8, SD15, eta=0.7, seed=3))
    for sampler in ["ddim", "euler", "euler_a", "heun", "dpmpp_2m", "lms", "lcm"]:
        out.append(run(f"img2img {sampler} strength 0.6", sampler, 10, SD15, strength=0.6, seed=1))
    out.append(run("img2img dpmpp_2m karras strength 0.35", "dpmpp_2m", 12, SD15, sigmas="karras", strength=0.35, seed=2))
    out.append(run("sd15 pndm 1 step", "pndm", 1, SD15))
    out.append(run("sd21 v-prediction pndm", "pndm", 8, SD21V))
    out.append(run("pndm trailing", "pndm", 6, {**SD15, "timestep_spacing": "trailing"}))
    out.append(run("pndm linspace", "pndm", 7, {**SD15, "timestep_spacing": "linspace"}))
    out.append(run("img2img pndm strength 0.6", "pndm", 10, SD15, strength=0.6, seed=1))
    return out


if __name__ == "__main__":
    torch.set_num_threads(1)
    write_fixture("diffusion/schedulers/loops.json", {
        "model": "0.9 * x + (0.1 + t / 2000) * w", "w": ref_array(W), "latents": ref_array(LATENTS),
        "imageLatents": ref_array(IMAGE_LATENTS), "cases": cases(),
    })
