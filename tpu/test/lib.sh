# shellcheck shell=bash
# Helpers for the shell tests of tpu/, sourced by tpu/test/run into each test's subshell.
# Every test gets a scratch folder $T with: a scratch checkout $T/root (the real tpu/ scripts and
# scripts/jdk.sh, a stand-in cohx launcher), the stand-ins of tpu/test/bin first on PATH, HOME and
# the caches inside $T, and the stand-in world $STUB_DIR whose file "calls" lists every call made
# to gcloud, ssh, scp, apt-get and friends, one line each.

setup() {
  local f
  export STUB_DIR=$T/stub HOME=$T/home XDG_CACHE_HOME=$T/cache COHX_JVM_DIR=$T/jvm
  mkdir -p "$STUB_DIR" "$HOME" "$XDG_CACHE_HOME" "$COHX_JVM_DIR"
  : > "$STUB_DIR/calls"
  export PATH="$TEST_DIR/bin:$PATH"
  unset JAVA_HOME COHX_TPU_ENV_FILE
  for f in $(compgen -v COHX_TPU_ || true); do unset "$f"; done
  for f in tpu/cohx-tpu tpu/worker-install tpu/install-gpu-host tpu/lib/install-jdk.sh scripts/jdk.sh; do
    mkdir -p "$T/root/$(dirname "$f")"
    cp "$REPO/$f" "$T/root/$f"
  done
  mkdir -p "$T/root/native"
  echo "[tpu]" > "$T/root/native/plugins.lock"
  cp "$TEST_DIR/stand-in-cohx" "$T/root/cohx"
}

# Kills what a test's workers may still run (jobs started by launch), by the pids they recorded.
teardown() {
  local p pid
  for p in "$T"/stub/vms/*/worker-*/cohx-logs/cohx.pid; do
    [ -f "$p" ] || continue
    pid=$(cat "$p")
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  done
}

tpu() { "$T/root/tpu/cohx-tpu" "$@"; }
gpu() { "$T/root/tpu/install-gpu-host" "$@"; }

# run CMD...: runs it, keeping its exit status in $rc and its stdout+stderr in $out.
run() {
  rc=0
  out=$("$@" 2>&1) || rc=$?
  printf '%s\n' "$out" > "$T/last-output"
}

fail() { echo "ASSERTION FAILED: $*" >&2; exit 1; }
assert_eq() { [ "$1" = "$2" ] || fail "${3:-values differ}"$'\n'"  expected: $1"$'\n'"  actual:   $2"; }
assert_ok() { [ "$rc" = 0 ] || fail "expected success, got exit $rc; output:"$'\n'"$out"; }
assert_failed() { [ "$rc" != 0 ] || fail "expected a failure, got exit 0; output:"$'\n'"$out"; }
assert_out() { [[ $out == *"$1"* ]] || fail "output lacks: $1"$'\n'"output:"$'\n'"$out"; }
assert_not_out() { [[ $out != *"$1"* ]] || fail "output has: $1"$'\n'"output:"$'\n'"$out"; }
assert_file_has() { grep -qF -- "$2" "$1" || fail "$1 lacks: $2"$'\n'"$(cat "$1" 2>/dev/null)"; }

# The gcloud calls made since the last reset_calls, one a line.
gcloud_calls() { grep '^gcloud ' "$STUB_DIR/calls" || true; }
calls_matching() { grep -c -- "$1" "$STUB_DIR/calls" || true; }
reset_calls() { : > "$STUB_DIR/calls"; }
# assert_gcloud_calls LINE...: the gcloud calls were exactly these, in this order.
assert_gcloud_calls() {
  local want
  want=$(printf '%s\n' "$@")
  [ "$(gcloud_calls)" = "$want" ] || fail "gcloud calls differ"$'\n'"expected:"$'\n'"$want"$'\n'"actual:"$'\n'"$(gcloud_calls)"
}

# A TPU VM that exists already: stub_vm NAME WORKERS [STATE]
stub_vm() {
  local i
  mkdir -p "$STUB_DIR/vms/$1"
  echo "${3:-READY}" > "$STUB_DIR/vms/$1/state"
  echo v4-32 > "$STUB_DIR/vms/$1/accelerator"
  for ((i = 0; i < $2; i++)); do mkdir -p "$STUB_DIR/vms/$1/worker-$i"; done
}
worker_home() { printf '%s' "$STUB_DIR/vms/$1/worker-$2"; }

# wait_for FILE TEXT: waits (up to 20 s) until FILE contains TEXT; for jobs running in the background.
wait_for() {
  local i
  for ((i = 0; i < 200; i++)); do
    grep -qF -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "$1 never got: $2"$'\n'"$(cat "$1" 2>/dev/null)"
}
