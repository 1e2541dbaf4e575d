#!/usr/bin/env bash
# Tokenizer encode throughput: cohx (Java) and the Python reference libraries on the same corpus,
# same machine, same run; prints every JSON line and then the cohx/reference ratios.
# Usage: bench/tokenizers.sh [THREADS] [SECONDS] [CORPUS.jsonl[.gz]]  (default: the golden test corpus)
# Needs: the reference libraries
# (python3 -m pip install -r tools/reference/requirements.txt) and the test tokenizer files
# (run the models tests once, or tools/reference/tokenizer_golden.py, to fetch them).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
threads=${1:-$(nproc)}
seconds=${2:-3}
corpus=${3:-models/src/test/resources/tokenizer/corpus.jsonl.gz}
data=${XDG_CACHE_HOME:-$HOME/.cache}/cohx/test-data
sp=$data/mistral-v1/tokenizer.model
vocab=$data/gpt2/vocab.json
llama3=$data/llama3/tokenizer.json
qwen3=$data/qwen3/tokenizer.json
for f in "$sp" "$vocab" "$llama3" "$qwen3"; do
  [ -f "$f" ] || { echo "tokenizers.sh: $f missing; run the models tests once to fetch it" >&2; exit 1; }
done
out=$(mktemp)
llama2=$(mktemp --suffix=.json)  # Llama 2's tokenizer.json layout (Mistral v1 vocabulary), from the test resources
trap 'rm -f "$out" "$llama2"' EXIT
gunzip -c models/src/test/resources/tokenizer/llama2-style-tokenizer.json.gz > "$llama2"
json=("llama3-json=$llama3" "qwen3-json=$qwen3" "llama2-json=$llama2")
bench/run TokenizerBench "$corpus" "$threads" "$seconds" "sp=$sp" "gpt2=gpt2" "${json[@]}" | tee -a "$out"
python3 bench/tokenizer_bench.py "$corpus" "$threads" "$seconds" "$sp" "$vocab" "${json[@]}" | tee -a "$out"
python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
java = {(r["tokenizer"], r["mode"]): r["mb_per_s"] for r in rows if r["impl"] == "cohx-java"}
for r in rows:
    if r["impl"] != "cohx-java" and (r["tokenizer"], r["mode"]) in java:
        j = java[(r["tokenizer"], r["mode"])]
        print(json.dumps({"bench": "tokenizer_ratio", "tokenizer": r["tokenizer"], "mode": r["mode"],
                          "threads": r["threads"], "cohx_mb_per_s": j, "reference": r["impl"],
                          "reference_mb_per_s": r["mb_per_s"], "ratio": round(j / r["mb_per_s"], 2)}))
PY
