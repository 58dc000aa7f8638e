"""A tiny random-weight LLaVA-NeXT (LlavaNextForConditionalGeneration) with llava-hf/llava-v1.6-mistral-7b-hf's
processor settings at a tiny tower's size, and its reference outputs from transformers.

The tower is 112 x 112 instead of 336 x 336 (64 patches per tile instead of 576) and the grid pinpoints are the real
ones divided by 3 ([[112, 224], [224, 112], [224, 224], [336, 112], [112, 336]]), so the same tilings are chosen for
the same aspect ratios at a fraction of the fixture size. The number of image tokens of the real 336-pixel config is
recorded too, for many image sizes (processor.json, tokens_336).

Writes test/fixtures/vlm/llava_next/:
  config.json, model.safetensors (float16), preprocessor_config.json, processor_config.json, tokenizer files,
  chat_template.jinja
  processor.safetensors + processor.json: per test image, the processor's tiles before rescale/normalize
                        (uint8, [tiles, 3, 112, 112]; exact, PIL resizes uint8) and the best-fit resolution
  reference.safetensors + reference.json: per case the tiles (uint8) and pixel values of the base tile, the image
                        features after the projector, unpadding and image newlines, the last prompt logits, 20 steps'
                        logits; prompt ids, image sizes, feature counts and 20 greedy tokens

    python3 tools/reference/gen_vlm_next.py   (after gen_vlm.py, whose test images it uses)
"""
import json
import os
import shutil

import numpy as np
import torch
import transformers
from PIL import Image
from safetensors.numpy import save_file
from safetensors.torch import load_file, save_file as save_torch

from gen_vlm import IMAGES, OUT, STEPS, LAST, VOCAB, make_tokenizer, randomize, unnormalized

PATH = os.path.join(OUT, "llava_next")
REAL_PINPOINTS = [[336, 672], [672, 336], [672, 672], [1008, 336], [336, 1008]]
PINPOINTS = [[h // 3, w // 3] for h, w in REAL_PINPOINTS]
TEMPLATE = ("{% for message in messages %}{% if message['role'] == 'system' %}{{ '<<SYS>>\n' + message['content'][0]['text'] + '\n<</SYS>>\n\n' }}"
            "{% elif message['role'] == 'user' %}{{ '[INST] ' }}{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}"
            "{{ '<image>\n' }}{% endfor %}{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{{ content['text'] }}"
            "{% endfor %}{{' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' ' + message['content'][0]['text'] + '</s> '}}{% endif %}"
            "{% endfor %}")


def image_processor(side, pinpoints):
    # llava-hf/llava-v1.6-mistral-7b-hf's preprocessor_config.json (side 336 there)
    return transformers.LlavaNextImageProcessorPil(
        crop_size={"height": side, "width": side}, do_center_crop=True, do_convert_rgb=True, do_normalize=True, do_pad=True,
        do_rescale=True, do_resize=True, image_grid_pinpoints=pinpoints, image_mean=[0.48145466, 0.4578275, 0.40821073],
        image_std=[0.26862954, 0.26130258, 0.27577711], resample=3, rescale_factor=1 / 255, size={"shortest_edge": side})


def parts():
    tok_obj = make_tokenizer(["<unk>", "<s>", "</s>", "<image>", "[INST]", "[/INST]"], bos="<s>")
    ids = {t: tok_obj.token_to_id(t) for t in ["<unk>", "<s>", "</s>", "<image>"]}
    vision = transformers.CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=3, num_attention_heads=4,
                                           image_size=112, patch_size=14, projection_dim=32, hidden_act="quick_gelu",
                                           layer_norm_eps=1e-5)
    text = transformers.MistralConfig(vocab_size=VOCAB, hidden_size=64, intermediate_size=128, num_attention_heads=4,
                                      num_key_value_heads=2, num_hidden_layers=2, max_position_embeddings=4096, rms_norm_eps=1e-5,
                                      sliding_window=None, pad_token_id=ids["<unk>"], bos_token_id=ids["<s>"],
                                      eos_token_id=ids["</s>"], tie_word_embeddings=False, rope_theta=1e6)
    config = transformers.LlavaNextConfig(vision_config=vision, text_config=text, image_token_index=ids["<image>"],
                                          projector_hidden_act="gelu", vision_feature_select_strategy="default",
                                          vision_feature_layer=-2, image_grid_pinpoints=PINPOINTS, image_seq_length=64,
                                          pad_token_id=ids["<unk>"])
    tok = transformers.PreTrainedTokenizerFast(tokenizer_object=tok_obj, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                               pad_token="<unk>", extra_special_tokens={"image_token": "<image>"})
    processor = transformers.LlavaNextProcessor(image_processor=image_processor(112, PINPOINTS), tokenizer=tok, patch_size=14,
                                                vision_feature_select_strategy="default", num_additional_image_tokens=1,
                                                chat_template=TEMPLATE)
    return config, processor


PROMPTS = {"one": ("[INST] <image>\nWhat is in this image? [/INST]", ["wide.png"]),
           "two": ("[INST] <image>\n<image>\nCompare these two images. [/INST]", ["big.png", "tall.png"])}


def reference_case(model, processor, text, images):
    inputs = processor(images=images, text=text, return_tensors="pt")
    with torch.no_grad():
        feats = model.model.get_image_features(inputs["pixel_values"], inputs["image_sizes"], return_dict=True).pooler_output
        lens = [int(f.shape[0]) for f in feats]
        logits = model(**inputs).logits[0, -LAST:].float().numpy()
        out = model.generate(**inputs, max_new_tokens=STEPS, min_new_tokens=STEPS, do_sample=False, output_logits=True,
                             return_dict_in_generate=True, eos_token_id=None)
    n = inputs["input_ids"].shape[1]
    steps = torch.stack([s[0] for s in out.logits]).float().numpy()
    top2 = np.sort(steps, axis=-1)[:, -2:]
    return (inputs, torch.cat(list(feats)).float().numpy(), lens, logits, steps, out.sequences[0, n:].tolist(),
            float((top2[:, 1] - top2[:, 0]).min()))


def main():
    images = {f: Image.open(os.path.join(IMAGES, f)) for f in ["wide.png", "tall.png", "big.png", "rgba.png", "gray.png"]}
    config, processor = parts()
    shutil.rmtree(PATH, ignore_errors=True)
    torch.manual_seed(13)
    model = transformers.LlavaNextForConditionalGeneration._from_config(config, attn_implementation="eager").eval()
    randomize(model, 13, False)
    model.save_pretrained(PATH, safe_serialization=True)
    processor.save_pretrained(PATH)
    processor.image_processor.to_json_file(os.path.join(PATH, "preprocessor_config.json"))
    state = load_file(os.path.join(PATH, "model.safetensors"))
    save_torch({k: v.half() for k, v in state.items()}, os.path.join(PATH, "model.safetensors"), metadata={"format": "pt"})

    ip = processor.image_processor
    from transformers.image_processing_utils import select_best_resolution
    arrays, meta = {}, {}
    for name, img in images.items():
        arrays[f"{name}.u8"] = unnormalized(ip, [img])[0]
        arrays[f"{name}.pixel_values"] = np.asarray(ip([img], return_tensors="np")["pixel_values"][0, :1], dtype=np.float32)
        meta[name] = {"size": list(img.size), "mode": img.mode, "best": list(select_best_resolution((img.height, img.width), PINPOINTS)),
                      "tokens": processor._get_num_multimodal_tokens(image_sizes=[(img.height, img.width)])["num_image_tokens"][0]}
    # The real 336-pixel config: image tokens per image size, as its processor counts them.
    real = transformers.LlavaNextProcessor(image_processor=image_processor(336, REAL_PINPOINTS), tokenizer=processor.tokenizer,
                                           patch_size=14, vision_feature_select_strategy="default", num_additional_image_tokens=1)
    sizes = [(1, 1), (45, 91), (91, 45), (120, 200), (336, 336), (337, 335), (500, 500), (523, 701), (480, 640), (640, 480),
             (720, 1280), (1280, 720), (1000, 300), (300, 1000), (2000, 100), (100, 2000), (1024, 1024), (3000, 2000), (799, 1201)]
    tokens_336 = [{"height": h, "width": w, "tokens": real._get_num_multimodal_tokens(image_sizes=[(h, w)])["num_image_tokens"][0],
                   "best": list(select_best_resolution((h, w), REAL_PINPOINTS))} for h, w in sizes]
    save_file(arrays, os.path.join(PATH, "processor.safetensors"))
    with open(os.path.join(PATH, "processor.json"), "w") as f:
        json.dump({"images": meta, "pinpoints": PINPOINTS, "real_pinpoints": REAL_PINPOINTS, "tokens_336": tokens_336,
                   "transformers": transformers.__version__, "pillow": Image.__version__}, f, indent=1)

    arrays, cases = {}, {}
    for case, (text, files) in PROMPTS.items():
        inputs, feats, lens, logits, steps, tokens, margin = reference_case(model, processor, text, [images[f] for f in files])
        arrays[f"{case}.tiles_u8"] = np.concatenate([unnormalized(ip, [images[f]])[0] for f in files])
        arrays[f"{case}.image_features"] = feats
        arrays[f"{case}.last_logits"] = logits
        arrays[f"{case}.step_logits"] = steps
        cases[case] = {"prompt_text": text, "images": files, "prompt": inputs["input_ids"][0].tolist(), "tokens": tokens,
                       "image_sizes": inputs["image_sizes"].tolist(), "feature_lens": lens, "min_margin": margin}
        print(f"llava_next/{case}: {inputs['input_ids'].shape[1]} prompt tokens, features {lens}, tokens {tokens}, margin {margin:.4f}")
    save_file(arrays, os.path.join(PATH, "reference.safetensors"))
    with open(os.path.join(PATH, "reference.json"), "w") as f:
        json.dump({"model_type": config.model_type, "cases": cases, "transformers": transformers.__version__,
                   "torch": torch.__version__}, f, indent=1)
    size = sum(os.path.getsize(os.path.join(PATH, x)) for x in os.listdir(PATH))
    print(f"llava_next: {size // 1024} KiB")


if __name__ == "__main__":
    main()
