"""Tiled VAE decode / encode references: diffusers' AutoencoderKL.enable_tiling() on the tiny SD 1.5 fixture VAE.

The fixture VAE has sample_size 16 and two blocks (scale 2), so diffusers tiles latents in 8x8 tiles
(stride 6, blended over 4 image pixels) and images in 16x16 tiles (stride 12, blended over 2 latent
pixels). The inputs are several tiles wide, not square, with partial edge tiles. Also the untiled
results, so the test can check that tiling changes something (else it could not catch a no-op).
Run: python tools/reference/gen_diffusion_vae_tiling.py (needs the sd15 fixture of gen_diffusion_models.py).
"""
import os

import torch
from diffusers import AutoencoderKL

from common import FIXTURES, ref_array, write_fixture


@torch.no_grad()
def main():
    vae = AutoencoderKL.from_pretrained(os.path.join(FIXTURES, "diffusion", "sd15", "vae")).eval()
    g = torch.Generator().manual_seed(3)
    z = torch.randn(2, 4, 20, 14, generator=g)
    img = torch.rand(1, 3, 40, 30, generator=g) * 2 - 1
    plain_dec = vae.decode(z).sample
    plain_mean = vae.encode(img).latent_dist.mean
    vae.enable_tiling()
    assert (vae.tile_sample_min_size, vae.tile_latent_min_size, vae.tile_overlap_factor) == (16, 8, 0.25)
    dist = vae.encode(img).latent_dist
    write_fixture("diffusion/vae_tiling.json", {
        "tiling": {"sample_tile": vae.tile_sample_min_size, "latent_tile": vae.tile_latent_min_size,
                   "overlap": vae.tile_overlap_factor},
        "decode": {"latents": ref_array(z), "sample": ref_array(vae.decode(z).sample), "untiled": ref_array(plain_dec)},
        "encode": {"image": ref_array(img), "mean": ref_array(dist.mean), "logvar": ref_array(dist.logvar),
                   "untiled_mean": ref_array(plain_mean)},
    })


if __name__ == "__main__":
    main()
