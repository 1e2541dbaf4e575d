#!/usr/bin/env bash
# The CoH experiment with SmolLM2-135M-Instruct from its GGUF file: tools/eval/coh_experiment.sh
# with the GGUF file as the base model (config, weights, tokenizer and chat template all come from
# it; cohx train and cohx eval need no other model flag) and, unless PRETRAIN is given, a
# pretraining-text stream made from the train split itself: every train pair's chosen AND rejected
# dialogue as plain text, so the stream keeps the model close to the domain's language without
# carrying any preference (the CoH loss alone sees which answer was better). The held-out pairs
# never enter training. Everything lands in WORK/; results in WORK/results.
#
#   usage: tools/eval/smollm2_coh_experiment.sh WORK HH.jsonl[.gz] SMOLLM2.gguf [PRETRAIN.jsonl[.gz]]
#   e.g.:  tools/eval/smollm2_coh_experiment.sh runs/coh-smollm2 /data/hh-rlhf/harmless-base-test.jsonl.gz \
#              ~/.cache/cohx/test-data/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
#   a tiny run (~20 min on a busy 2-core machine): HELD_OUT=8 EVAL_LIMIT=8 STEPS=2 SEQ=256 BATCH=1 tools/eval/smollm2_coh_experiment.sh ...
#   knobs (environment): those of coh_experiment.sh (HELD_OUT 300, SEED 0, STEPS 200, SEQ 512, BATCH 4, LR 1e-5,
#     EVAL_LIMIT 0 = all held-out pairs, TRAIN_ARGS, COHX)
set -euo pipefail
if [ $# -lt 3 ] || [ $# -gt 4 ]; then
  sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
work=$1 hh=$2 gguf=$3 pretrain=${4:-}
for f in "$hh" "$gguf" ${pretrain:+"$pretrain"}; do
  [ -f "$f" ] || { echo "smollm2_coh_experiment.sh: $f: no such file" >&2; exit 2; }
done
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cohx=${COHX:-$root/cohx}
mkdir -p "$work"

if [ -z "$pretrain" ]; then
  # The same split coh_experiment.sh makes (same file, HELD_OUT and SEED: the split is deterministic).
  "$cohx" eval split --input "$hh" --held-out "${HELD_OUT:-300}" --seed "${SEED:-0}" --output-dir "$work/split"
  pretrain=$work/pretrain.jsonl
  python3 - "$work/split/train.jsonl" "$pretrain" <<'EOF'
import json, os, sys
src, dst = sys.argv[1], sys.argv[2]
tmp = dst + ".tmp"
n = 0
with open(src, encoding="utf-8") as f, open(tmp, "w", encoding="utf-8") as out:
    for line in f:
        if line.strip():
            pair = json.loads(line)
            for side in ("chosen", "rejected"):
                out.write(json.dumps({"text": pair[side].strip()}, ensure_ascii=False) + "\n")
                n += 1
    out.flush()
    os.fsync(out.fileno())
os.replace(tmp, dst)
print(f"== pretraining stream: {n} dialogues (chosen and rejected of every train pair) in {dst}", file=sys.stderr)
EOF
fi

exec "$here/coh_experiment.sh" "$work" "$hh" "$pretrain" -- --load-checkpoint "gguf::$gguf"
