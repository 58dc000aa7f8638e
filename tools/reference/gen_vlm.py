"""Test images and tiny random-weight vision-language checkpoints made by transformers, with the
pixel values of transformers' (PIL) image processors and reference features, logits and greedy tokens.

Writes test/fixtures/vlm/:
  images/*.png          small generated test images: non-square, larger and smaller than the towers,
                        RGBA (varying alpha), grayscale, and exact-size ones for the no-resampling checks
  processors.safetensors + processors.json: for each image and each processor config (llava, gemma3),
                        the processor's output before rescale/normalize (uint8 values, exact: PIL resizes
                        uint8 images) and its pixel_values for the small gemma3 set
  llava/, gemma3/:      config.json, model.safetensors (float16, as save_pretrained writes them),
                        preprocessor_config.json, tokenizer.json, tokenizer_config.json, chat_template.jinja,
                        reference.safetensors (per case: resized uint8 images, image features after the
                        projector, the last prompt positions' logits, the 20 steps' logits) and
                        reference.json (prompt text, prompt ids, 20 greedy tokens, smallest top-2 margin)

    pip install torch transformers tokenizers safetensors pillow
    python3 tools/reference/gen_vlm.py
"""
import json
import os
import shutil

import numpy as np
import torch
import transformers
from PIL import Image, ImageDraw
from safetensors.numpy import save_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

from common import FIXTURES

OUT = os.path.join(FIXTURES, "vlm")
IMAGES = os.path.join(OUT, "images")
VOCAB = 512
STEPS = 20
LAST = 8  # prompt positions whose logits are kept

CORPUS = """What is in this image? Compare these two images. The picture shows a red square, a blue circle and
a green line on a grey background. A small dog runs in the park while the sun is shining. Describe the colours,
the shapes and where they are. Hello world! Numbers like 12345 appear, and words such as left, right, top, bottom.
""" * 4


def make_images():
    """Smooth gradients with a few shapes (so resampling differences are typical, not noise-bound)."""
    os.makedirs(IMAGES, exist_ok=True)
    specs = {
        "wide.png": (200, 120, "RGB"),       # non-square, smaller than 336, larger than 64
        "tall.png": (45, 91, "RGB"),         # non-square, smaller than both towers (upsampling)
        "big.png": (701, 523, "RGB"),        # larger than both (downsampling)
        "rgba.png": (150, 100, "RGBA"),      # alpha composited over white by do_convert_rgb
        "gray.png": (80, 80, "L"),           # grayscale
        "exact336.png": (336, 336, "RGB"),   # LLaVA's size: no resampling
        "pad336.png": (336, 300, "RGB"),     # padded to 336 x 336 by LLaVA: no resampling
        "exact64.png": (64, 64, "RGB"),      # the tiny Gemma 3's size: no resampling
    }
    out = {}
    for i, (name, (w, h, mode)) in enumerate(specs.items()):
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        r = 255 * (0.5 + 0.5 * np.sin(xx / (7 + i) + yy / 13))
        g = 255 * (yy / max(h - 1, 1))
        b = 255 * (0.5 + 0.5 * np.cos((xx + 2 * yy) / (11 + i)))
        rgb = np.stack([r, g, b], -1).clip(0, 255).astype(np.uint8)
        img = Image.fromarray(rgb, "RGB")
        d = ImageDraw.Draw(img)
        d.rectangle([w // 5, h // 4, w // 2, h // 2], fill=(220, 30, 40))
        d.ellipse([w // 2, h // 2, w - 3, h - 3], fill=(30, 60, 200))
        d.line([0, h - 1, w - 1, 0], fill=(20, 200, 60), width=max(1, w // 40))
        if mode == "RGBA":
            alpha = (255 * (xx / (w - 1))).astype(np.uint8)
            img = Image.fromarray(np.concatenate([np.asarray(img), alpha[..., None]], -1), "RGBA")
        elif mode == "L":
            img = img.convert("L")
        img.save(os.path.join(IMAGES, name))
        out[name] = Image.open(os.path.join(IMAGES, name))
    return out


def make_tokenizer(specials, bos=None):
    tok = Tokenizer(models.BPE(byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator([CORPUS], trainer)
    if bos is not None:
        tok.post_processor = processors.TemplateProcessing(single=f"{bos} $A", special_tokens=[(bos, tok.token_to_id(bos))])
    assert tok.get_vocab_size() <= VOCAB
    return tok


def randomize(model, seed, gemma):
    """Weights large enough that greedy decoding has clear winners and the image changes the answer."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_((0.0 if gemma and "vision" not in name else 1.0) + 0.2 * torch.randn(p.shape, generator=g))
            elif p.ndim == 1 or "class_embedding" in name:
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            elif "embed_tokens" in name:
                p.copy_((0.05 if gemma else 1.0) * torch.randn(p.shape, generator=g))
            elif "position_embedding" in name:
                p.copy_(0.5 * torch.randn(p.shape, generator=g))
            elif "mm_input_projection" in name:
                p.copy_(torch.randn(p.shape, generator=g) / p.shape[0] ** 0.5)
            elif p.ndim == 4:
                p.copy_(torch.randn(p.shape, generator=g) / (p[0].numel()) ** 0.5)
            elif "o_proj" in name or "down_proj" in name:
                p.copy_(1.5 * torch.randn(p.shape, generator=g) / p.shape[-1] ** 0.5)
            else:
                p.copy_(torch.randn(p.shape, generator=g) / p.shape[-1] ** 0.5)
            p.copy_(p.half().float())


def unnormalized(image_processor, images):
    """The processor's uint8 result before rescale and normalize (exact: PIL resizes uint8)."""
    out = image_processor(images, do_rescale=False, do_normalize=False, do_convert_rgb=True, return_tensors="np")["pixel_values"]
    out = np.stack([np.asarray(x, dtype=np.float32) for x in out])
    assert np.array_equal(out, np.round(out)) and out.min() >= 0 and out.max() <= 255
    return out.astype(np.uint8)


def llava_parts(tokenizer_obj):
    ids = {t: tokenizer_obj.token_to_id(t) for t in ["<pad>", "</s>", "<s>", "<image>"]}
    vision = transformers.CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=3, num_attention_heads=4,
                                           image_size=336, patch_size=14, projection_dim=32, hidden_act="quick_gelu",
                                           layer_norm_eps=1e-5)
    text = transformers.LlamaConfig(vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_attention_heads=4,
                                    num_key_value_heads=2, num_hidden_layers=2, max_position_embeddings=2048,
                                    rms_norm_eps=1e-5, pad_token_id=ids["<pad>"], bos_token_id=ids["<s>"],
                                    eos_token_id=ids["</s>"], tie_word_embeddings=False)
    config = transformers.LlavaConfig(vision_config=vision, text_config=text, image_token_index=ids["<image>"],
                                      projector_hidden_act="gelu", vision_feature_select_strategy="default",
                                      vision_feature_layer=-2, image_seq_length=576, pad_token_id=ids["<pad>"])
    # llava-hf/llava-1.5-7b-hf's preprocessor_config.json
    ip = transformers.LlavaImageProcessorPil(
        crop_size={"height": 336, "width": 336}, do_center_crop=True, do_convert_rgb=True, do_normalize=True,
        do_pad=True, do_rescale=True, do_resize=True, image_mean=[0.48145466, 0.4578275, 0.40821073],
        image_std=[0.26862954, 0.26130258, 0.27577711], resample=3, rescale_factor=1 / 255, size={"shortest_edge": 336})
    template = ("{% for message in messages %}{% if message['role'] != 'system' %}{{ message['role'].upper() + ': '}}{% endif %}"
                "{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}{{ '<image>\n' }}{% endfor %}"
                "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{{ content['text'] + ' '}}{% endfor %}"
                "{% endfor %}{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}")
    tok = transformers.PreTrainedTokenizerFast(tokenizer_object=tokenizer_obj, bos_token="<s>", eos_token="</s>",
                                               pad_token="<pad>", extra_special_tokens={"image_token": "<image>"})
    processor = transformers.LlavaProcessor(image_processor=ip, tokenizer=tok, patch_size=14, num_additional_image_tokens=1,
                                            vision_feature_select_strategy="default", chat_template=template)
    prompts = {"one": ("USER: <image>\nWhat is in this image? ASSISTANT:", ["wide.png"]),
               "two": ("USER: <image>\n<image>\nCompare these two images. ASSISTANT:", ["big.png", "rgba.png"])}
    return config, processor, prompts, transformers.LlavaForConditionalGeneration


def gemma3_parts(tokenizer_obj):
    ids = {t: tokenizer_obj.token_to_id(t) for t in ["<pad>", "<eos>", "<bos>", "<start_of_image>", "<end_of_image>", "<image_soft_token>"]}
    vision = transformers.SiglipVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                                             image_size=64, patch_size=8, layer_norm_eps=1e-6, vision_use_head=False)
    text = transformers.Gemma3TextConfig(
        vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_attention_heads=4, num_key_value_heads=1, head_dim=16,
        num_hidden_layers=4, max_position_embeddings=1024, rms_norm_eps=1e-6, query_pre_attn_scalar=24, sliding_window=12,
        layer_types=["sliding_attention", "sliding_attention", "full_attention", "sliding_attention"],
        pad_token_id=ids["<pad>"], bos_token_id=ids["<bos>"], eos_token_id=ids["<eos>"])
    config = transformers.Gemma3Config(text_config=text, vision_config=vision, mm_tokens_per_image=16,
                                       boi_token_index=ids["<start_of_image>"], eoi_token_index=ids["<end_of_image>"],
                                       image_token_index=ids["<image_soft_token>"])
    # google/gemma-3-4b-it's preprocessor_config.json, at the tiny tower's 64 x 64 instead of 896 x 896
    ip = transformers.Gemma3ImageProcessorPil(
        do_convert_rgb=None, do_normalize=True, do_pan_and_scan=None, do_rescale=True, do_resize=True,
        image_mean=[0.5, 0.5, 0.5], image_std=[0.5, 0.5, 0.5], resample=2, rescale_factor=1 / 255,
        size={"height": 64, "width": 64})
    template = ("{{ bos_token }}{% for message in messages %}{% if message['role'] == 'assistant' %}{% set role = 'model' %}"
                "{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\n' }}"
                "{% if message['content'] is string %}{{ message['content'] | trim }}{% else %}{% for item in message['content'] %}"
                "{% if item['type'] == 'image' %}{{ '<start_of_image>' }}{% elif item['type'] == 'text' %}{{ item['text'] | trim }}"
                "{% endif %}{% endfor %}{% endif %}{{ '<end_of_turn>\n' }}{% endfor %}"
                "{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}")
    tok = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tokenizer_obj, bos_token="<bos>", eos_token="<eos>", pad_token="<pad>",
        extra_special_tokens={"boi_token": "<start_of_image>", "eoi_token": "<end_of_image>", "image_token": "<image_soft_token>"})
    processor = transformers.Gemma3Processor(image_processor=ip, tokenizer=tok, chat_template=template, image_seq_length=16)
    prompts = {"one": ("<start_of_turn>user\n<start_of_image>What is in this image?<end_of_turn>\n<start_of_turn>model\n", ["wide.png"]),
               "two": ("<start_of_turn>user\n<start_of_image><start_of_image>Compare these two images.<end_of_turn>\n<start_of_turn>model\n",
                       ["big.png", "gray.png"])}
    return config, processor, prompts, transformers.Gemma3ForConditionalGeneration


def reference_case(model, processor, text, images):
    inputs = processor(images=images, text=text, return_tensors="pt")
    with torch.no_grad():
        feats = model.model.get_image_features(inputs["pixel_values"], return_dict=True).pooler_output
        feats = torch.stack(list(feats)) if isinstance(feats, (list, tuple)) else feats
        logits = model(**inputs).logits[0, -LAST:].float().numpy()
        out = model.generate(**inputs, max_new_tokens=STEPS, min_new_tokens=STEPS, do_sample=False, output_logits=True,
                             return_dict_in_generate=True, eos_token_id=None)
    n = inputs["input_ids"].shape[1]
    steps = torch.stack([s[0] for s in out.logits]).float().numpy()
    top2 = np.sort(steps, axis=-1)[:, -2:]
    return inputs, feats.float().numpy(), logits, steps, out.sequences[0, n:].tolist(), float((top2[:, 1] - top2[:, 0]).min())


def write_set(name, parts, tokenizer_obj, images, seed):
    config, processor, prompts, model_cls = parts(tokenizer_obj)
    path = os.path.join(OUT, name)
    shutil.rmtree(path, ignore_errors=True)
    torch.manual_seed(seed)
    model = model_cls._from_config(config, attn_implementation="eager").eval()
    randomize(model, seed, name == "gemma3")
    model.save_pretrained(path, safe_serialization=True)
    processor.save_pretrained(path)
    # Hub checkpoints carry the image processor's settings in preprocessor_config.json (older layout) too.
    processor.image_processor.to_json_file(os.path.join(path, "preprocessor_config.json"))
    # save_pretrained writes float32 weights: keep them float16 (the reference runs on those values in float32).
    from safetensors.torch import load_file, save_file as save_torch
    state = load_file(os.path.join(path, "model.safetensors"))
    save_torch({k: v.half() for k, v in state.items()}, os.path.join(path, "model.safetensors"), metadata={"format": "pt"})
    arrays, cases = {}, {}
    for case, (text, files) in prompts.items():
        inputs, feats, logits, steps, tokens, margin = reference_case(model, processor, text, [images[f] for f in files])
        arrays[f"{case}.images_u8"] = unnormalized(processor.image_processor, [images[f] for f in files])
        arrays[f"{case}.pixel_values"] = inputs["pixel_values"].numpy().astype(np.float32)
        arrays[f"{case}.image_features"] = feats
        arrays[f"{case}.last_logits"] = logits
        arrays[f"{case}.step_logits"] = steps
        cases[case] = {"prompt_text": text, "images": files, "prompt": inputs["input_ids"][0].tolist(), "tokens": tokens,
                       "min_margin": margin}
        if "token_type_ids" in inputs:
            cases[case]["token_type_ids"] = inputs["token_type_ids"][0].tolist()
        print(f"{name}/{case}: {inputs['input_ids'].shape[1]} prompt tokens, tokens {tokens}, min margin {margin:.4f}")
    if name == "llava":
        # 336 x 336 float32 pixel values are big: the uint8 images reproduce them exactly.
        for case in prompts:
            del arrays[f"{case}.pixel_values"]
    save_file(arrays, os.path.join(path, "reference.safetensors"))
    with open(os.path.join(path, "reference.json"), "w") as f:
        json.dump({"model_type": config.model_type, "cases": cases, "transformers": transformers.__version__,
                   "torch": torch.__version__}, f, indent=1)
    size = sum(os.path.getsize(os.path.join(path, x)) for x in os.listdir(path))
    print(f"{name}: {size // 1024} KiB")
    return processor.image_processor


def write_processors(image_processors, images):
    arrays, meta = {}, {}
    for proc_name, ip in image_processors.items():
        for img_name, img in images.items():
            key = f"{proc_name}/{img_name}"
            arrays[f"{key}.u8"] = unnormalized(ip, [img])[0]
            pv = np.asarray(ip([img], do_convert_rgb=True, return_tensors="np")["pixel_values"][0], dtype=np.float32)
            if proc_name == "gemma3":
                arrays[f"{key}.pixel_values"] = pv
            meta[key] = {"size": list(img.size), "mode": img.mode}
    save_file(arrays, os.path.join(OUT, "processors.safetensors"))
    with open(os.path.join(OUT, "processors.json"), "w") as f:
        json.dump({"images": meta, "transformers": transformers.__version__, "pillow": Image.__version__}, f, indent=1)


def main():
    os.makedirs(OUT, exist_ok=True)
    images = make_images()
    llava_tok = make_tokenizer(["<pad>", "</s>", "<s>", "<image>"], bos="<s>")
    gemma_tok = make_tokenizer(["<pad>", "<eos>", "<bos>", "<start_of_turn>", "<end_of_turn>", "<start_of_image>",
                                "<end_of_image>", "<image_soft_token>"], bos="<bos>")
    procs = {"llava": write_set("llava", llava_parts, llava_tok, images, 1),
             "gemma3": write_set("gemma3", gemma3_parts, gemma_tok, images, 2)}
    write_processors(procs, images)


if __name__ == "__main__":
    main()
