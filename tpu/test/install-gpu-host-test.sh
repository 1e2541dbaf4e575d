# shellcheck shell=bash
# Tests of tpu/install-gpu-host against the stand-ins of tpu/test/bin (nvidia-smi, apt-get,
# apt-cache, curl, gpg) and the stand-in cohx launcher (run by tpu/test/run).
# shellcheck disable=SC2154 # rc and out are set by run() in lib.sh
# shellcheck disable=SC2016 # the small scripts written here expand their own variables

# Python without site-packages, so a JAX installed on the machine running the tests cannot change
# what they see; the tests put their own JAX plugin folder on PYTHONPATH where they want one.
gpu_setup() {
  mkdir -p "$T/bin"
  # pip lives in site-packages, so `-m pip` gets the whole python.
  printf '#!/bin/sh\n[ "$1 $2" = "-m pip" ] && exec python3 "$@"\nexec python3 -S "$@"\n' > "$T/bin/python-nosite"
  chmod +x "$T/bin/python-nosite"
  export COHX_PYTHON=$T/bin/python-nosite
  unset PYTHONPATH
}

fake_jax_plugin() { # MAJOR: a JAX CUDA plugin package as pip lays it out, under $T/py
  mkdir -p "$T/py/jax_plugins/xla_cuda$1"
  : > "$T/py/jax_plugins/xla_cuda$1/__init__.py"
  : > "$T/py/jax_plugins/xla_cuda$1/xla_cuda_plugin.so"
  export PYTHONPATH=$T/py
}

test_gpu_help() {
  run gpu --help
  assert_ok
  assert_out "Usage: tpu/install-gpu-host"
  run gpu --bogus
  assert_failed
  assert_out "unknown argument '--bogus'"
  run gpu --cuda 11
  assert_failed
  assert_out "--cuda '11': use 12 or 13"
}

test_gpu_without_nvidia_smi_says_to_install_the_driver() {
  gpu_setup
  COHX_NVIDIA_SMI=no-such-nvidia-smi run gpu
  assert_failed
  assert_out "nvidia-smi not found: install the NVIDIA driver"
  [ ! -e "$HOME/cohx-calls" ] || fail "cohx ran without a driver"
}

test_gpu_with_a_broken_driver_says_so() {
  gpu_setup
  STUB_NVIDIA_FAIL=1 run gpu
  assert_failed
  assert_out "nvidia-smi failed, so the driver is not usable"
  assert_out "couldn't communicate with the NVIDIA driver"
}

test_gpu_cuda13_driver_installs_jdk_and_cuda13_plugin_then_again_harmlessly() {
  gpu_setup
  STUB_CUDA_VERSION=13.0 run gpu
  assert_ok
  assert_out "driver supports CUDA 13.0"
  assert_eq 1 "$(calls_matching '^apt-get install -y -q temurin-25-jdk$')" "JDK 25 installed from the configured apt source"
  assert_eq "cohx plugins install cuda13 | index= count= coordinator=
cohx plugins list | index= count= coordinator=
cohx plugins doctor cuda13 | index= count= coordinator=" "$(cat "$HOME/cohx-calls")"
  assert_out "done: cohx runs on this GPU host (plugin cuda13)"
  run gpu
  assert_ok
  assert_out "JDK found: $COHX_JVM_DIR/temurin-25-jdk"
  assert_eq 1 "$(calls_matching '^apt-get install')" "the second run installs nothing with apt"
  assert_eq 2 "$(grep -c 'plugins doctor' "$HOME/cohx-calls")" "the doctor runs each time"
}

test_gpu_cuda12_driver_gets_cuda12() {
  gpu_setup
  STUB_CUDA_VERSION=12.4 run gpu
  assert_ok
  assert_file_has "$HOME/cohx-calls" "cohx plugins install cuda12"
  STUB_CUDA_VERSION=12.4 run gpu --cuda 13
  assert_failed
  assert_out "--cuda 13 needs a driver for CUDA 13 or newer; this one supports CUDA 12.4"
  STUB_CUDA_VERSION=13.1 run gpu --cuda 12
  assert_ok
  assert_eq 2 "$(grep -c 'plugins install cuda12' "$HOME/cohx-calls")" "--cuda 12 on a CUDA 13 driver"
}

test_gpu_old_driver_is_refused() {
  gpu_setup
  STUB_CUDA_VERSION=11.8 run gpu
  assert_failed
  assert_out "the driver supports CUDA 11.8; cohx's CUDA plugins need 12 or newer"
  [ ! -e "$HOME/cohx-calls" ] || fail "cohx ran on a driver that is too old"
}

test_gpu_uses_an_installed_jax_plugin() {
  gpu_setup
  fake_jax_plugin 12
  run gpu
  assert_ok
  assert_out "JAX's CUDA plugin is installed ($T/py/jax_plugins/xla_cuda12/xla_cuda_plugin.so); cohx uses it"
  assert_eq 0 "$(grep -c 'plugins install' "$HOME/cohx-calls")" "no plugin download next to JAX's"
  assert_file_has "$HOME/cohx-calls" "cohx plugins doctor cuda12"
  assert_out "done: cohx runs on this GPU host (plugin cuda12)"
  run gpu --force-plugin
  assert_ok
  assert_file_has "$HOME/cohx-calls" "cohx plugins install cuda13"
  # A JAX CUDA 13 plugin does not count on a CUDA 12 driver.
  rm -rf "$T/py"
  fake_jax_plugin 13
  STUB_CUDA_VERSION=12.2 run gpu
  assert_ok
  assert_file_has "$HOME/cohx-calls" "cohx plugins install cuda12"
}

test_gpu_jdk_from_the_distribution_or_the_adoptium_repository() {
  gpu_setup
  STUB_APT_AVAILABLE=openjdk-25-jdk run gpu
  assert_ok
  assert_eq 1 "$(calls_matching '^apt-get install -y -q openjdk-25-jdk$')" "the distribution's JDK 25 comes first"
  rm -rf "${COHX_JVM_DIR:?}"/*
  reset_calls
  printf 'ID=ubuntu\nVERSION_CODENAME=jammy\n' > "$T/os-release"
  COHX_OS_RELEASE=$T/os-release COHX_APT_ETC=$T/etc-apt STUB_APT_AVAILABLE="" run gpu
  assert_ok
  assert_out "adding the Adoptium (Temurin) apt repository"
  assert_file_has "$T/etc-apt/sources.list.d/adoptium.list" "deb [signed-by=$T/etc-apt/keyrings/adoptium.gpg] "
  assert_file_has "$T/etc-apt/sources.list.d/adoptium.list" "/deb jammy main"
  assert_file_has "$T/etc-apt/keyrings/adoptium.gpg" "dearmored:"
  assert_eq 2 "$(calls_matching '^apt-get update')" "apt-get update before and after adding the repository"
  assert_eq 1 "$(calls_matching '^apt-get install -y -q temurin-25-jdk$')" "Temurin 25 from the new repository"
}

test_gpu_apt_failure_is_reported() {
  gpu_setup
  STUB_APT_FAIL=1 run gpu
  assert_failed
  assert_out "apt-get update failed"
  assert_out "no usable JDK"
  [ ! -e "$HOME/cohx-calls" ] || fail "cohx ran without a JDK"
}

test_gpu_failing_doctor_fails_the_install() {
  gpu_setup
  STANDIN_COHX_FAIL='doctor' run gpu
  assert_failed
  assert_out "'cohx plugins doctor cuda13' failed (message above): the plugin does not run here yet"
  STANDIN_COHX_FAIL='plugins install' run gpu
  assert_failed
  assert_out "'cohx plugins install cuda13' failed"
}

test_gpu_dry_run_installs_nothing() {
  gpu_setup
  run gpu --dry-run
  assert_ok
  assert_out "+ apt-get install -y temurin-25-jdk"
  assert_out "+ $T/root/cohx plugins install cuda13"
  assert_out "+ $T/root/cohx plugins doctor cuda13"
  assert_eq 0 "$(calls_matching '^apt-get')" "--dry-run ran apt-get"
  [ ! -e "$HOME/cohx-calls" ] || fail "--dry-run ran cohx"
}

test_gpu_without_pip_installs_it_or_says_so() {
  gpu_setup
  printf '#!/bin/sh\n[ "$1 $2" = "-m pip" ] && { echo "No module named pip" >&2; exit 1; }\nexec python3 -S "$@"\n' > "$T/bin/python-nopip"
  chmod +x "$T/bin/python-nopip"
  COHX_PYTHON=$T/bin/python-nopip run gpu
  assert_failed
  assert_eq 1 "$(calls_matching '^apt-get install -y -q python3-pip$')" "python3-pip installed with apt"
  assert_out "installed python3-pip, but '$T/bin/python-nopip -m pip' still does not work; set COHX_PYTHON"
  [ ! -e "$HOME/cohx-calls" ] || fail "cohx ran without pip: $(cat "$HOME/cohx-calls")"
}
