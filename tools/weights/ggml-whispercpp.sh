#!/usr/bin/env bash
# By hand (CI has no whisper.cpp): converts the HF openai/whisper-base folder made by
# tools/weights/whisper-base.ts with whisper.cpp's own models/convert-h5-to-ggml.py (torch and
# transformers needed) and checks that tools/weights/ggml.ts writes the same file byte for byte.
#
#   WHISPER_CPP=/path/to/whisper.cpp tools/weights/ggml-whispercpp.sh
#
# WHISPER_CPP defaults to .cache/whisper.cpp (a clone of github.com/ggml-org/whisper.cpp; never
# committed). The script also needs openai/whisper's whisper/assets/mel_filters.npz: the copy in
# packages/whisper/assets is used.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cache="${TESSERA_WEIGHTS_CACHE:-$root/.cache/weights}"
wcpp="${WHISPER_CPP:-$root/.cache/whisper.cpp}"
script="$wcpp/models/convert-h5-to-ggml.py"
[ -f "$script" ] || { echo "no $script: clone https://github.com/ggml-org/whisper.cpp to $wcpp or set WHISPER_CPP" >&2; exit 1; }
cd "$root"
npx tsx tools/weights/whisper-base.ts --ggml >/dev/null
hf="$cache/openai-whisper-base"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
mkdir -p "$work/openai-whisper/whisper/assets" "$work/out"
cp packages/whisper/assets/mel_filters.npz "$work/openai-whisper/whisper/assets/"
python3 "$script" "$hf" "$work/openai-whisper" "$work/out" > "$work/log.txt" 2>&1 || { tail -20 "$work/log.txt"; exit 1; }
mkdir -p "$cache/whisper-base-ggml-whispercpp"
cp "$work/out/ggml-model.bin" "$cache/whisper-base-ggml-whispercpp/ggml-base.bin"
ours="$cache/whisper-base-ggml/ggml-base.bin"
sha256sum "$work/out/ggml-model.bin" "$ours"
if cmp "$work/out/ggml-model.bin" "$ours"; then echo "identical: whisper.cpp's convert-h5-to-ggml.py output == tools/weights/ggml.ts output"; else echo "DIFFERENT" >&2; exit 1; fi
