#!/usr/bin/env sh
# The `sd` command (mlx-examples' and stable-diffusion.cpp's flags). From the repository, after `pnpm install`:
#   sh examples/sd.sh [model]
# Installed as a dependency, the same command is `npx sd ...`.
# Default model: the tiny random SD-1.5 fixture (noise-like images, but every step runs); pass a repo id
# (stable-diffusion-v1-5/stable-diffusion-v1-5), a diffusers folder or a single-file .safetensors.
set -e
cd "$(dirname "$0")/.."
MODEL="${1:-test/fixtures/diffusion/sd15}"
SD="node packages/diffusion/dist/bin.js"
SIZE=512x512
[ "$MODEL" = "test/fixtures/diffusion/sd15" ] && SIZE=32x24
mkdir -p out

# txt2img, mlx-examples' spellings
$SD txt2img "a sunset over mountains" --model "$MODEL" --steps 20 --seed 7 --size $SIZE --cfg 7.5 \
  --negative_prompt "blurry" --n_images 2 --output out/sunset.png

# img2img, stable-diffusion.cpp's spellings
$SD -M img2img -i out/sunset_1.png -p "make it look like a painting" -m "$MODEL" --strength 0.7 \
  --sampling-method "DPM++ 2M Karras" -s 8 -o out/painting.png

# With LoRAs (kohya/A1111 or diffusers files; a name is looked up in --lora-dir). The fixture LoRAs fit
# the tiny SD-1.5 model only: with another model, point --lora-dir at your own.
[ "$MODEL" = "test/fixtures/diffusion/sd15" ] && $SD txt2img "a watercolor fox" -m "$MODEL" --size $SIZE -s 3 \
  --lora-dir test/fixtures/diffusion/lora --lora style_kohya:0.8 --lora detail_kohya:-0.5 -o out/fox-lora.png

# Again from the PNG's own parameters, with another seed
$SD --from out/painting.png -m "$MODEL" -i out/sunset_1.png --seed 9 -o out/painting-9.png
ls out
