#!/usr/bin/env sh
# The `lm` command (mlx-lm's flag names work too). From the repository, after `pnpm install`:
#   sh examples/lm-cli.sh [model]
# Installed as a dependency, the same command is `npx lm ...`.
# Default model: the tiny random llama fixture (gibberish text, but every path runs); pass a repo id,
# a model folder or a .gguf file.
set -e
cd "$(dirname "$0")/.."
MODEL="${1:-test/fixtures/lm/llama}"
LM="node packages/lm/dist/bin.js"

# A prompt's continuation (through the chat template when the model has one), speed on stderr.
$LM generate --model "$MODEL" --prompt "Explain quantum computing:" --max-tokens 40 --temp 0
# mlx-lm's spellings, the raw prompt, sampled.
$LM generate --model "$MODEL" -p "Once upon a time" -m 30 --temp 0.8 --top_p 0.9 --seed 1 --ignore-chat-template

# Chat with piped input: one message per line; the conversation (and its prompt cache) carries over.
printf 'Hello!\nWhat did I just say?\n' | $LM chat --model "$MODEL" --max-tokens 30 2>/dev/null || \
  echo "(chat needs a model with a chat template)"

# The server: start it, ask it one question with curl, stop it.
$LM serve --model "$MODEL" --port 8089 --model-id local &
PID=$!
trap 'kill $PID 2>/dev/null' EXIT
for i in 1 2 3 4 5 6 7 8 9 10; do curl -sf http://127.0.0.1:8089/v1/models >/dev/null && break; sleep 0.5; done
curl -s http://127.0.0.1:8089/v1/completions -H 'content-type: application/json' \
  -d '{"model":"local","prompt":"The capital of France is","max_tokens":12,"temperature":0}'
echo
