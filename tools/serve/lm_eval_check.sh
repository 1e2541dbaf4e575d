#!/usr/bin/env bash
# Runs lm-evaluation-harness's local-completions model against a running `cohx serve` on three
# tiny local tasks (multiple choice = loglikelihood with echo/logprobs, generation with a stop
# string, and rolling log-likelihood). lm-eval finds the server's /tokenizer_info and /tokenize,
# so no tokenizer is downloaded. Not run by CI.
#   usage: tools/serve/lm_eval_check.sh [BASE_URL] [SEQ_LENGTH]
#   needs: python3 -m pip install 'lm-eval[api]'   (a venv: LM_EVAL=/path/to/venv/bin/lm_eval)
set -euo pipefail
base=${1:-http://127.0.0.1:5007}
seq=${2:-2048}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
"${LM_EVAL:-lm_eval}" --model local-completions \
  --model_args "base_url=$base/v1/completions,model=cohx,num_concurrent=4,max_retries=1,tokenized_requests=True,max_length=$seq" \
  --include_path tools/serve/lm_eval_tasks \
  --tasks cohx_tiny_choice,cohx_tiny_gen,cohx_tiny_rolling \
  --output_path "${OUT:-/tmp/cohx-lm-eval}"
