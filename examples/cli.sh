#!/usr/bin/env sh
# The `whisper` command (openai-whisper's flags and spellings). From the repository, after `pnpm install`:
#   sh examples/cli.sh [audio...]
# Installed as a dependency, the same command is `npx whisper ...`.
set -e
cd "$(dirname "$0")/.."
AUDIO="${*:-test/fixtures/whisper/audio/jfk_5s_16k.flac}"
WHISPER="node packages/whisper/dist/bin.js"

# Subtitles with word timestamps, at most 42 characters a line and 2 lines a subtitle, into out/
$WHISPER $AUDIO --model tiny --language en --word_timestamps True \
  --output_format srt --output_dir out --max_line_width 42 --max_line_count 2

# Every format (txt, vtt, srt, tsv, json), words underlined as spoken, no segment printout
$WHISPER $AUDIO --model tiny --word_timestamps True --highlight_words True --verbose False -o out

ls out
