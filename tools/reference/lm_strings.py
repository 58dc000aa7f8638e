"""The varied strings the tokenizer and detokenizer fixtures are recorded on (deterministic)."""
import random

BASE = [
    "",
    " ",
    "  ",
    "\n",
    "\n\n\n",
    "\t",
    "Hello world",
    "Hello, world!",
    " Hello world",
    "Hello  world",
    "Hello   world   ",
    "The quick brown fox jumps over the lazy dog.",
    "I'm sure they'll say it's fine, isn't it? We've done what we'd do.",
    "HELLO World hello WORLD",
    "naïve café façade résumé coöperate",
    "Straße ß ẞ İstanbul ǅ",
    "日本語のテキストです。",
    "中文文本，还有标点符号！",
    "한국어 텍스트입니다.",
    "Русский текст, и ещё немного.",
    "Ελληνικά γράμματα",
    "العربية نص",
    "עברית טקסט",
    "हिन्दी पाठ",
    "ภาษาไทย",
    "😀",
    "😀😃😄😁",
    "👨‍👩‍👧‍👦 family",
    "🇫🇷🇯🇵 flags",
    "Emoji in text 🎉 here 🚀!",
    "e\u0301 combining acute vs é",
    "ﬁ ligature and Ａ fullwidth",
    "zero\u200bwidth space",
    "\u00a0non-breaking\u00a0space",
    "mixed\r\nline\rendings\n",
    "tabs\tand\t\tspaces  \t mixed",
    "    indented line",
    "def foo(x):\n    return x * 2\n",
    "for (let i = 0; i < n; i++) {\n\tconsole.log(i);\n}",
    "#include <stdio.h>\nint main(void) { printf(\"%d\\n\", 42); return 0; }",
    "SELECT * FROM users WHERE id = 1;",
    "<div class=\"a\">text</div>",
    "{\"key\": [1, 2.5, -3e10], \"nested\": {\"a\": null, \"b\": true}}",
    "https://example.com/path?q=1&r=2#frag",
    "user@example.com",
    "1234567890",
    "3.14159 2.71828 1e-9 -42 +7",
    "12,345,678.90",
    "2024-01-15T10:30:00Z",
    "a" * 50,
    "ab" * 30,
    "!!!???...,,,;;;",
    "~`!@#$%^&*()_+-={}[]|\\:;\"'<>,.?/",
    "   leading and trailing   ",
    "word\n\n\nword",
    "\n\nstarts with newlines",
    "ends with newlines\n\n",
    "CamelCaseIdentifiers and snake_case_names and kebab-case-names",
    "x = y**2 + 3*z - 1/2",
    "$\\int_0^1 x^2 \\, dx = \\frac{1}{3}$",
    "© ® ™ € £ ¥ ° ± × ÷ µ",
    "½ ¼ ² ³ ⁴ ₁ ₂",
    "→ ← ↑ ↓ ⇒ ∀ ∃ ∈ ∑ √ ∞",
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore.",
    "The year 1999 and 2000 and 20000 and 123456789.",
    "don't DON'T Don't",
    "Mr. Smith's dog's bone",
    "\u3000ideographic space",
    "\ufeffBOM at start",
    "replacement \ufffd char",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math letters 𝐀𝐁𝐂",
    "Ｈｅｌｌｏ",
    "ｶﾀｶﾅ half-width",
    "한글 and English 混合 text",
    "A\u0308\u0301 stacked",
    "",
]

SPECIAL_SNIPPETS = [
    "<|begin_of_text|>Hello",
    "Hi<|eot_id|>there",
    "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
    "<bos>text",
    "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n",
    "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>",
    "<|endoftext|>",
    "<think>\nreasoning\n</think>\n\nanswer",
    "<tool_call>\n{\"name\": \"f\"}\n</tool_call>",
    "not special: <|im_start and <bos",
    "<pad><eos><unk>",
]

WORDS = ["the", "a", "tokenizer", "model", "é", "日本", "中文", "😀", "🎉", "x", "42", "3.5", "\n", "\t", "  ",
         "def", "(", ")", "{", "}", ";", "'s", "Hello", "WORLD", "naïve", "ß", "한국", "Привет", "!", "?", "…",
         "—", "\"", "'", "`", "#", "//", "/*", "*/", "->", "=>", "::", "<", ">", "&", "%", "$", "@", "\u200d", "🇯🇵"]


def generated(n, seed=1234):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        k = rng.randint(1, 14)
        parts = []
        for _ in range(k):
            w = rng.choice(WORDS)
            sep = rng.choice(["", " ", " ", " ", "  ", "\n", ""])
            parts.append(w + sep)
        out.append("".join(parts))
    return out


def random_unicode(n, seed=99):
    """Random code points from several blocks (no surrogates), short strings."""
    rng = random.Random(seed)
    ranges = [(0x20, 0x7E), (0xA0, 0x24F), (0x370, 0x3FF), (0x400, 0x4FF), (0x3040, 0x30FF), (0x4E00, 0x9FFF),
              (0xAC00, 0xD7A3), (0x1F300, 0x1F64F), (0x1F900, 0x1F9FF), (0x2000, 0x206F), (0x10000, 0x1007F)]
    out = []
    for _ in range(n):
        s = []
        for _ in range(rng.randint(1, 10)):
            lo, hi = rng.choice(ranges)
            s.append(chr(rng.randint(lo, hi)))
            if rng.random() < 0.3:
                s.append(" ")
        out.append("".join(s))
    return out


def all_strings():
    seen, out = set(), []
    for s in BASE + SPECIAL_SNIPPETS + generated(150) + random_unicode(80):
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out
