# shellcheck shell=bash
# Sourced by ./cohx: which of the JVM's JIT compilers a command gets (docs/STARTUP.md).
#
# cohx_jit_options ARGS...: sets the array COHX_JIT_OPTS to -XX:TieredStopAtLevel=1 (the quick
# compiler C1 alone) for commands known to end before the optimizing compiler C2 pays for
# itself, or to nothing (the JVM's full tiered JIT). COHX_JIT=quick or full forces either one;
# auto (the default) decides:
#   - help and version requests: quick;
#   - cohx pack whose every dataset has an --input and whose estimated work is at most
#     COHX_QUICK_JIT_MAX (128, in MiB of uncompressed input weighted by sequences per record,
#     see cohx_pack_work): quick. C2's compiles cost more than its faster code saved in such
#     runs: measured on the 2-core build machine, quick used 0.4 s of CPU against 0.6-0.8 for a
#     2,312-record pack of p, 1.2 s against 1.7 for the same records with p,n,pn,np,aux (work
#     43), and 2.8 s against 5.2 for 74,000 records with p,n,pn,np (work 105). Larger packs were
#     not measured and keep the full JIT, as do datasets downloaded from the Hub (large);
#   - everything else (train, demo, serve, generate, ...: long runs): full.

COHX_QUICK_JIT_MAX=${COHX_QUICK_JIT_MAX:-128}

# The estimated work of `cohx pack ARGS` (without the word pack) in weighted MiB, or nothing when
# it cannot be told (a dataset without --input is downloaded; an input path that is not there).
# Input bytes count as they are for .jsonl/.json and five times for .gz (the HH-RLHF files pack
# 4.4 bytes into one); the weight is sequences per record over four (p,n,pn,np), aux counting as
# 48 (every type once per phrase pair: 12 for dialogue, the largest).
cohx_pack_work() {
  local datasets=dialogue,webgpt,summary types=p,n,pn,np,aux inputs=() named="" arg value d bytes t n=0
  while [ $# -gt 0 ]; do
    arg=$1; shift
    case $arg in
      --*=*) value=${arg#*=}; arg=${arg%%=*} ;;
      --dataset|--include-feedback|--input) [ $# -gt 0 ] || return 0; value=$1; shift ;;
      *) continue ;;
    esac
    case $arg in
      --dataset) datasets=$value ;;
      --include-feedback) types=$value ;;
      --input) inputs+=("${value#*=}"); d=${value%%=*}; named="$named ${d%%.*} " ;;
    esac
  done
  for d in ${datasets//,/ }; do
    case $named in *" $d "*) ;; *) return 0 ;; esac
  done
  [ ${#inputs[@]} -gt 0 ] || return 0
  bytes=$(find -L "${inputs[@]}" -type f \( -name '*.jsonl' -o -name '*.json' -o -name '*.gz' \) -printf '%s %f\n' 2>/dev/null |
    awk '{ total += ($2 ~ /\.gz$/ ? 5 : 1) * $1 } END { printf "%d", total }') || return 0
  for t in ${types//,/ }; do
    case $t in aux) n=$((n + 48)) ;; *) n=$((n + 1)) ;; esac
  done
  echo $(( bytes * n / 4 / 1048576 ))
}

# shellcheck disable=SC2034 # COHX_JIT_OPTS is read by ./cohx
cohx_jit_options() { # the command line of cohx
  local work
  COHX_JIT_OPTS=()
  case ${COHX_JIT:-auto} in
    quick) COHX_JIT_OPTS=(-XX:TieredStopAtLevel=1); return 0 ;;
    full) return 0 ;;
    auto) ;;
    *) echo "cohx: COHX_JIT='$COHX_JIT' is not auto, quick or full; using auto" >&2 ;;
  esac
  case ${1:-} in
    ''|-h|--help|-V|--version|help) COHX_JIT_OPTS=(-XX:TieredStopAtLevel=1); return 0 ;;
  esac
  case ${!#} in
    -h|--help) COHX_JIT_OPTS=(-XX:TieredStopAtLevel=1); return 0 ;;
  esac
  if [ "$1" = pack ]; then
    shift
    work=$(cohx_pack_work "$@")
    if [ -n "$work" ] && [ "$work" -le "$COHX_QUICK_JIT_MAX" ]; then
      COHX_JIT_OPTS=(-XX:TieredStopAtLevel=1)
    fi
  fi
  return 0
}
