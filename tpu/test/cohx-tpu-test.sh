# shellcheck shell=bash
# Tests of tpu/cohx-tpu against the stand-in gcloud/ssh/scp of tpu/test/bin (run by tpu/test/run).
# shellcheck disable=SC2154 # rc and out are set by run() in lib.sh
# shellcheck disable=SC2016 # commands in single quotes are meant for the workers' shells

Z=us-central2-b
base=(--name tpu1 --zone "$Z")
make=(--accelerator-type v4-8 --version tpu-ubuntu2204-base)

test_help_for_every_command() {
  local c main
  run tpu --help
  assert_ok
  main=$out
  for c in create delete list status ssh scp dist install launch logs stop restart-on-preemption; do
    [[ $main == *"  $c"* ]] || fail "the main help does not list $c"
    run tpu "$c" --help
    assert_ok
    assert_out "Usage: tpu/cohx-tpu $c"
  done
  run tpu help launch
  assert_ok
  assert_out "COHX_COORDINATOR_ADDRESS"
  run tpu frobnicate
  assert_failed
  assert_out "no command 'frobnicate'"
  run tpu
  assert_eq 2 "$rc" "no command at all is a usage error"
  run "$T/root/tpu/worker-install" --help
  assert_ok
  assert_out "Usage: tpu/worker-install"
  assert_eq "" "$(gcloud_calls)" "help makes no gcloud call"
}

test_create_issues_the_tpu_vm_create_command() {
  run tpu create "${base[@]}" "${make[@]}" --spot
  assert_ok
  assert_gcloud_calls \
    "gcloud compute tpus tpu-vm describe tpu1 --zone=$Z --format=value(state)" \
    "gcloud compute tpus tpu-vm create tpu1 --zone=$Z --accelerator-type=v4-8 --version=tpu-ubuntu2204-base --spot"
  [ -d "$STUB_DIR/vms/tpu1" ] || fail "the stand-in has no VM tpu1"
}

test_create_preemptible_with_project() {
  run tpu create "${base[@]}" "${make[@]}" --preemptible --project my-proj
  assert_ok
  assert_gcloud_calls \
    "gcloud compute tpus tpu-vm describe tpu1 --zone=$Z --project=my-proj --format=value(state)" \
    "gcloud compute tpus tpu-vm create tpu1 --zone=$Z --accelerator-type=v4-8 --version=tpu-ubuntu2204-base --preemptible --project=my-proj"
}

test_create_of_an_existing_vm_says_so_and_changes_nothing() {
  run tpu create "${base[@]}" "${make[@]}"
  assert_ok
  reset_calls
  run tpu create "${base[@]}" "${make[@]}"
  assert_ok
  assert_out "TPU VM tpu1 already exists in $Z (state READY); nothing to create."
  assert_gcloud_calls "gcloud compute tpus tpu-vm describe tpu1 --zone=$Z --format=value(state)"
}

test_create_needs_its_settings() {
  run tpu create "${base[@]}" --version tpu-ubuntu2204-base
  assert_failed
  assert_out "create needs --accelerator-type (or COHX_TPU_ACCELERATOR in tpu/cohx-tpu.env)"
  run tpu create --zone "$Z" "${make[@]}"
  assert_failed
  assert_out "create needs --name"
  assert_eq "" "$(gcloud_calls)" "nothing reaches gcloud without the settings"
}

test_create_failure_says_what_failed_and_how_to_retry() {
  export STUB_FAIL='tpu-vm create'
  run tpu create "${base[@]}" "${make[@]}"
  assert_eq 1 "$rc"
  assert_out "ERROR: (gcloud) simulated failure"
  assert_out "creating TPU VM tpu1 failed: gcloud exited with 1"
  assert_out "retry with: tpu/cohx-tpu 'create' '--name' 'tpu1' '--zone' '$Z' '--accelerator-type' 'v4-8'"
  assert_out "try another --zone, --spot, or --queued"
}

test_create_queued_resource() {
  run tpu create "${base[@]}" "${make[@]}" --queued --spot
  assert_ok
  assert_gcloud_calls \
    "gcloud compute tpus queued-resources describe tpu1 --zone=$Z --format=value(state.state)" \
    "gcloud compute tpus queued-resources create tpu1 --node-id=tpu1 --zone=$Z --accelerator-type=v4-8 --runtime-version=tpu-ubuntu2204-base --spot"
  reset_calls
  run tpu create "${base[@]}" "${make[@]}" --queued --spot --wait --poll 0
  assert_ok
  assert_out "queued resource tpu1 already exists in $Z (state ACTIVE)"
  assert_gcloud_calls \
    "gcloud compute tpus queued-resources describe tpu1 --zone=$Z --format=value(state.state)" \
    "gcloud compute tpus queued-resources describe tpu1 --zone=$Z --format=value(state.state)" \
    "gcloud compute tpus tpu-vm describe tpu1 --zone=$Z --format=value(state)"
  run tpu create "${base[@]}" "${make[@]}" --queued --preemptible
  assert_failed
  assert_out "queued resources have no --preemptible; use --spot"
}

test_settings_file_environment_and_flags() {
  cat > "$T/root/tpu/cohx-tpu.env" <<'ENV'
# a comment
COHX_TPU_NAME=from-file
COHX_TPU_ZONE=europe-west4-a
COHX_TPU_ACCELERATOR="v4-16"
export COHX_TPU_VERSION='tpu-ubuntu2204-base'
COHX_TPU_PROVISIONING=spot   # a comment after a value
ENV
  run tpu create
  assert_ok
  assert_file_has "$STUB_DIR/calls" "gcloud compute tpus tpu-vm create from-file --zone=europe-west4-a --accelerator-type=v4-16 --version=tpu-ubuntu2204-base --spot"
  reset_calls
  # The environment beats the file, a flag beats both.
  COHX_TPU_ACCELERATOR=v4-32 run tpu create --name other --standard
  assert_ok
  assert_file_has "$STUB_DIR/calls" "gcloud compute tpus tpu-vm create other --zone=europe-west4-a --accelerator-type=v4-32 --version=tpu-ubuntu2204-base"
  reset_calls
  COHX_TPU_ACCELERATOR=v4-32 run tpu create --name third --accelerator-type=v4-64 --zone=us-central2-b
  assert_file_has "$STUB_DIR/calls" "gcloud compute tpus tpu-vm create third --zone=us-central2-b --accelerator-type=v4-64 --version=tpu-ubuntu2204-base --spot"
  # --env-file names another file.
  printf 'COHX_TPU_NAME=fourth\nCOHX_TPU_ZONE=us-east1-d\n' > "$T/other.env"
  run tpu status --env-file "$T/other.env"
  assert_failed
  assert_out "gcloud.compute.tpus.tpu-vm.describe) NOT_FOUND"
  assert_file_has "$STUB_DIR/calls" "gcloud compute tpus tpu-vm describe fourth --zone=us-east1-d"
}

test_the_example_settings_file_reads() {
  run tpu create --env-file "$REPO/tpu/cohx-tpu.env.example" --dry-run
  assert_ok
  assert_eq "+ gcloud compute tpus tpu-vm create cohx-v4-8 --zone=us-central2-b --accelerator-type=v4-8 --version=tpu-ubuntu2204-base" "$out"
}

test_bad_settings_are_named() {
  printf 'COHX_TPU_NAME=ok\n\nCOHX_TPU_ZONEE=us-central2-b\n' > "$T/bad.env"
  run tpu list --env-file "$T/bad.env"
  assert_failed
  assert_out "$T/bad.env line 3: unknown setting COHX_TPU_ZONEE"
  printf 'this is not a setting\n' > "$T/bad.env"
  run tpu list --env-file "$T/bad.env"
  assert_out "$T/bad.env line 1: expected KEY=VALUE"
  run tpu list --env-file "$T/none.env"
  assert_out "settings file $T/none.env not found"
  run tpu list --zone Europe
  assert_out "--zone / COHX_TPU_ZONE 'Europe' is not a zone name"
  run tpu create "${base[@]}" "${make[@]}" --name Bad_Name
  assert_out "--name / COHX_TPU_NAME 'Bad_Name'"
  run tpu launch "${base[@]}" --port 99999 -- train
  assert_out "--port / COHX_TPU_PORT '99999' is not a port number"
  run tpu ssh "${base[@]}" --worker two -- ls
  assert_out "--worker 'two': use a worker index"
  run tpu list --zone "$Z" --follow
  assert_out "--follow is not an option of 'list'"
  run tpu list --zone
  assert_out "--zone needs a value"
  assert_eq "" "$(gcloud_calls)" "bad settings never reach gcloud"
}

test_delete_is_idempotent() {
  stub_vm tpu1 1
  run tpu delete "${base[@]}" --yes
  assert_ok
  assert_gcloud_calls \
    "gcloud compute tpus tpu-vm describe tpu1 --zone=$Z --format=value(state)" \
    "gcloud compute tpus tpu-vm delete tpu1 --zone=$Z --quiet"
  reset_calls
  run tpu delete "${base[@]}" --yes
  assert_ok
  assert_out "TPU VM tpu1 does not exist in $Z; nothing to delete."
  assert_gcloud_calls "gcloud compute tpus tpu-vm describe tpu1 --zone=$Z --format=value(state)"
}

test_delete_queued_resource_forces_its_node_away() {
  run tpu create "${base[@]}" "${make[@]}" --queued
  reset_calls
  run tpu delete "${base[@]}" --queued
  assert_ok
  assert_gcloud_calls \
    "gcloud compute tpus queued-resources describe tpu1 --zone=$Z --format=value(state.state)" \
    "gcloud compute tpus queued-resources delete tpu1 --zone=$Z --force"
  [ ! -d "$STUB_DIR/vms/tpu1" ] || fail "the node outlived its queued resource"
}

test_a_failing_state_query_is_not_taken_for_a_missing_vm() {
  stub_vm tpu1 1
  export STUB_FAIL='describe'
  run tpu delete "${base[@]}" --yes
  assert_failed
  assert_out "checking whether TPU VM tpu1 exists in $Z failed"
  assert_not_out "nothing to delete"
  [ -d "$STUB_DIR/vms/tpu1" ] || fail "the VM was deleted although its state was unknown"
}

test_list_and_status() {
  stub_vm tpu1 2
  run tpu list --zone "$Z" --queued
  assert_ok
  assert_out "tpu1 $Z v4-32 READY"
  run tpu status "${base[@]}"
  assert_ok
  assert_out "state: READY"
  assert_gcloud_calls \
    "gcloud compute tpus tpu-vm list --zone=$Z" \
    "gcloud compute tpus queued-resources list --zone=$Z" \
    "gcloud compute tpus tpu-vm describe tpu1 --zone=$Z"
  run tpu status --name nope --zone "$Z"
  assert_failed
  assert_out "describing TPU VM nope in $Z (if it does not exist: tpu/cohx-tpu create) failed"
}

test_ssh_runs_on_all_workers_and_scp_copies_to_all() {
  stub_vm tpu1 2
  run tpu ssh "${base[@]}" -- 'echo hello from $HOME'
  assert_ok
  assert_gcloud_calls "gcloud compute tpus tpu-vm ssh tpu1 --zone=$Z --worker=all --command=echo hello from \$HOME"
  assert_out "hello from $(worker_home tpu1 0)"
  assert_out "hello from $(worker_home tpu1 1)"
  assert_eq 2 "$(calls_matching '^ssh stub-tpu1-')" "one ssh per worker"
  reset_calls
  run tpu ssh "${base[@]}" --worker 1
  assert_ok
  assert_gcloud_calls "gcloud compute tpus tpu-vm ssh tpu1 --zone=$Z --worker=1"
  run tpu ssh "${base[@]}" --worker all
  assert_failed
  assert_out "needs a command after --"
  reset_calls
  echo data > "$T/data.txt"
  run tpu scp "${base[@]}" "$T/data.txt" data.txt
  assert_ok
  assert_gcloud_calls "gcloud compute tpus tpu-vm scp $T/data.txt tpu1:data.txt --zone=$Z --worker=all"
  assert_file_has "$(worker_home tpu1 0)/data.txt" data
  assert_file_has "$(worker_home tpu1 1)/data.txt" data
  run tpu scp "${base[@]}" "$T/missing" x
  assert_failed
  assert_out "scp: local file $T/missing not found"
}

test_ssh_failure_names_the_command() {
  stub_vm tpu1 2
  run tpu ssh "${base[@]}" -- 'exit 7'
  assert_failed
  assert_out "running 'exit 7' on worker(s) all of tpu1 failed"
  assert_out "retry with: tpu/cohx-tpu 'ssh'"
}

test_dist_has_what_a_worker_needs_and_no_sources() {
  run tpu dist --out "$T/d.tar.gz"
  assert_ok
  assert_file_has "$HOME/cohx-calls" "cohx --version"
  assert_eq "cli/target/cohx.jar
cohx
native/plugins.lock
scripts/jdk.sh
tpu/install-gpu-host
tpu/lib/install-jdk.sh
tpu/worker-install" "$(tar -tzf "$T/d.tar.gz" | sort)"
  mkdir "$T/x"
  tar -xzf "$T/d.tar.gz" -C "$T/x"
  [ "$T/x/cli/target/cohx.jar" -nt "$T/x/native/plugins.lock" ] || [ ! "$T/x/native/plugins.lock" -nt "$T/x/cli/target/cohx.jar" ] \
    || fail "the jar must not be older than plugins.lock, or the launcher would try to rebuild"
  [ -x "$T/x/tpu/worker-install" ] || fail "worker-install lost its x bit"
  rm "$T/root/native/plugins.lock"
  run tpu dist --out "$T/e.tar.gz" --no-build
  assert_failed
  assert_out "the distribution needs $T/root/native/plugins.lock, which is missing"
  [ ! -e "$T/e.tar.gz" ] || fail "a failed dist left a file"
}

test_install_on_every_worker_and_again_is_harmless() {
  stub_vm tpu1 2
  run tpu install "${base[@]}"
  assert_ok
  local dist=$XDG_CACHE_HOME/cohx/cohx-dist.tar.gz
  assert_gcloud_calls \
    "gcloud compute tpus tpu-vm scp $dist tpu1:cohx-dist.tar.gz --zone=$Z --worker=all" \
    "$(grep '^gcloud compute tpus tpu-vm ssh tpu1 --zone=us-central2-b --worker=all --command=' "$STUB_DIR/calls")"
  assert_eq 2 "$(calls_matching '^gcloud ')" "two gcloud calls: one scp, one ssh, both --worker=all"
  local w
  for w in 0 1; do
    assert_file_has "$(worker_home tpu1 $w)/cohx-calls" "cohx plugins install tpu"
    assert_file_has "$(worker_home tpu1 $w)/cohx-calls" "cohx --version"
    [ -f "$(worker_home tpu1 $w)/jvm/temurin-25-jdk/release" ] || fail "worker $w got no JDK"
    [ -f "$(worker_home tpu1 $w)/cohx/cli/target/cohx.jar" ] || fail "worker $w got no jar"
  done
  assert_out "worker-install: ready: cohx 0.1.0"
  assert_eq 2 "$(calls_matching '^apt-get install -y -q temurin-25-jdk')" "one JDK install per worker"
  run tpu install "${base[@]}"
  assert_ok
  assert_eq 2 "$(calls_matching '^apt-get install')" "the second install finds the JDKs and installs none"
  assert_out "JDK found: $(worker_home tpu1 0)/jvm/temurin-25-jdk"
  assert_eq 2 "$(grep -c 'plugins install tpu' "$(worker_home tpu1 1)/cohx-calls")" "the plugin step ran again (cohx plugins install is idempotent itself)"
}

test_install_failure_on_a_worker_is_reported() {
  stub_vm tpu1 2
  export STANDIN_COHX_FAIL='plugins install'
  run tpu install "${base[@]}"
  assert_failed
  assert_out "worker-install: 'cohx plugins install tpu' failed"
  assert_out "installing on the workers of tpu1 failed"
  assert_out "retry with: tpu/cohx-tpu 'install'"
}

test_launch_on_four_workers_gives_indices_and_one_coordinator() {
  stub_vm tpu1 4
  run tpu install "${base[@]}"
  assert_ok
  reset_calls
  run tpu launch "${base[@]}" -- train --config 'my run.json'
  assert_ok
  local launches i coords
  launches=$(grep '^gcloud compute tpus tpu-vm ssh' "$STUB_DIR/calls")
  assert_eq 4 "$(wc -l <<<"$launches")" "one ssh per worker"
  for i in 0 1 2 3; do
    grep -q -- "--worker=$i --command=.*COHX_PROCESS_INDEX=$i COHX_PROCESS_COUNT=4 COHX_COORDINATOR_ADDRESS=10.0.0.2:8476 setsid nohup cohx/cohx 'train' '--config' 'my run.json' >> cohx-logs/worker-$i.log" <<<"$launches" \
      || fail "no launch command for worker $i:"$'\n'"$launches"
  done
  coords=$(grep -o 'COHX_COORDINATOR_ADDRESS=[^ ]*' <<<"$launches" | sort -u)
  assert_eq "COHX_COORDINATOR_ADDRESS=10.0.0.2:8476" "$coords" "one coordinator: worker 0"
  assert_eq 1 "$(grep -c 'tpu-vm describe tpu1 --zone=us-central2-b --format=value(networkEndpoints\[\].ipAddress)' "$STUB_DIR/calls")" "addresses read once"
  # The job really got its variables on every worker.
  for i in 0 1 2 3; do
    wait_for "$(worker_home tpu1 $i)/cohx-logs/worker-$i.log" "training as process $i of 4, coordinator 10.0.0.2:8476, args: train --config my run.json"
    assert_file_has "$(worker_home tpu1 $i)/cohx-calls" "cohx train --config my run.json | index=$i count=4 coordinator=10.0.0.2:8476"
    assert_file_has "$(worker_home tpu1 $i)/cohx-logs/worker-$i.log" "=== cohx-tpu launch"
  done
}

test_launch_port_flag_and_missing_arguments() {
  stub_vm tpu1 2
  run tpu launch "${base[@]}"
  assert_failed
  assert_out "launch needs the cohx arguments after --"
  run tpu launch "${base[@]}" --port 9000 --dry-run -- train
  assert_ok
  assert_out "COHX_COORDINATOR_ADDRESS=WORKER0_IP:9000"
  # Not installed yet: each worker says so instead of starting nothing in the background.
  run tpu launch "${base[@]}" --port 9000 -- train
  assert_failed
  assert_out "cohx is not installed in ~/cohx; run tpu/cohx-tpu install first"
  assert_out "launch failed on worker(s) 0 1 of 2"
  run tpu install "${base[@]}"
  run tpu launch "${base[@]}" --port 9000 -- train
  assert_ok
  wait_for "$(worker_home tpu1 1)/cohx-calls" "cohx train | index=1 count=2 coordinator=10.0.0.2:9000"
}

test_dry_run_prints_commands_and_runs_none() {
  run tpu --dry-run create "${base[@]}" "${make[@]}" --spot
  assert_ok
  assert_out "+ gcloud compute tpus tpu-vm create tpu1 --zone=$Z --accelerator-type=v4-8 --version=tpu-ubuntu2204-base --spot"
  run tpu delete "${base[@]}" --yes --dry-run
  assert_out "+ gcloud compute tpus tpu-vm delete tpu1 --zone=$Z --quiet"
  run tpu install "${base[@]}" --dry-run
  assert_ok
  assert_out "+ $T/root/cohx --version"
  assert_out "+ gcloud compute tpus tpu-vm scp $XDG_CACHE_HOME/cohx/cohx-dist.tar.gz tpu1:cohx-dist.tar.gz --zone=$Z --worker=all"
  run tpu launch "${base[@]}" --dry-run --workers 4 -- train --config c.json
  assert_ok
  local i
  for i in 0 1 2 3; do
    assert_out "+ gcloud compute tpus tpu-vm ssh tpu1 --zone=$Z --worker=$i '--command="
    assert_out "COHX_PROCESS_INDEX=$i COHX_PROCESS_COUNT=4 COHX_COORDINATOR_ADDRESS=WORKER0_IP:8476"
  done
  run tpu logs "${base[@]}" --follow --worker 3 --dry-run
  assert_out "+ gcloud compute tpus tpu-vm ssh tpu1 --zone=$Z --worker=3 '--command="
  assert_out "exec tail -v -n 50 -F cohx-logs/worker-*.log'"
  run tpu scp "${base[@]}" --recurse --worker 1 data/ remote-data --dry-run
  assert_out "+ gcloud compute tpus tpu-vm scp data/ tpu1:remote-data --zone=$Z --worker=1 --recurse"
  run tpu stop "${base[@]}" --dry-run
  assert_out "+ gcloud compute tpus tpu-vm ssh tpu1 --zone=$Z --worker=all '--command="
  run tpu restart-on-preemption "${base[@]}" "${make[@]}" --dry-run --no-build -- train
  assert_ok
  assert_out "+ gcloud compute tpus tpu-vm create tpu1"
  assert_out "'\\''train'\\'' '\\''--resume'\\''"
  assert_eq "" "$(gcloud_calls)" "--dry-run called gcloud"
  [ ! -e "$HOME/cohx-calls" ] || fail "--dry-run built cohx"
}

test_launch_refuses_a_second_job_and_stop_ends_it() {
  stub_vm tpu1 2
  run tpu install "${base[@]}"
  assert_ok
  export STANDIN_TRAIN_SECONDS=30
  run tpu launch "${base[@]}" -- train
  assert_ok
  wait_for "$(worker_home tpu1 1)/cohx-logs/worker-1.log" "training as process 1 of 2"
  run tpu launch "${base[@]}" -- train
  assert_failed
  assert_out "a cohx job is running (pid"
  assert_out "launch failed on worker(s) 0 1 of 2"
  run tpu install "${base[@]}"
  assert_failed
  assert_out "a cohx job is running"
  run tpu logs "${base[@]}"
  assert_ok
  assert_out "==> cohx-logs/worker-0.log <=="
  assert_out "training as process 0 of 2"
  run tpu logs "${base[@]}" --fetch "$T/logs"
  assert_ok
  assert_file_has "$T/logs/worker-1.log" "training as process 1 of 2"
  run tpu stop "${base[@]}" --grace 20
  assert_ok
  assert_out "stopped"
  local w
  for w in 0 1; do
    assert_file_has "$(worker_home tpu1 $w)/cohx-logs/worker-$w.log" "got SIGTERM, saved a checkpoint"
    [ ! -f "$(worker_home tpu1 $w)/cohx-logs/cohx.pid" ] || fail "worker $w kept its pid file"
  done
  run tpu stop "${base[@]}"
  assert_ok
  assert_out "no cohx job running"
  run tpu launch "${base[@]}" -- train
  assert_ok
}

test_launch_failure_on_one_worker_names_it() {
  stub_vm tpu1 3
  run tpu install "${base[@]}"
  reset_calls
  export STUB_FAIL='--worker=2 '
  run tpu launch "${base[@]}" -- train
  assert_failed
  assert_out "launch failed on worker(s) 2 of 3"
  assert_out "stop them with 'tpu/cohx-tpu stop', then retry with: tpu/cohx-tpu 'launch'"
}

test_logs_before_any_launch() {
  stub_vm tpu1 1
  run tpu logs "${base[@]}" --lines 5
  assert_ok
  assert_out "no cohx log yet"
  assert_gcloud_calls "$(grep '^gcloud' "$STUB_DIR/calls" | grep -F -- "--worker=all --command=set -e; cd;")"
  assert_file_has "$STUB_DIR/calls" "tail -v -n 5 cohx-logs/worker-*.log"
}

test_restart_on_preemption_recreates_installs_and_resumes() {
  stub_vm tpu1 2
  run tpu install "${base[@]}"
  run tpu launch "${base[@]}" -- train --config c.json
  assert_ok
  echo PREEMPTED > "$STUB_DIR/vms/tpu1/state"
  reset_calls
  export STUB_WORKERS=2
  run tpu restart-on-preemption "${base[@]}" "${make[@]}" --spot --poll 0 --max-polls 2 -- train --config c.json
  assert_ok
  assert_out "TPU VM tpu1 is PREEMPTED: recovery 1"
  assert_out "recovery 1 done"
  assert_out "TPU VM tpu1 is READY"
  local got
  got=$(gcloud_calls | sed 's/--command=.*/--command=.../')
  assert_eq "gcloud compute tpus tpu-vm describe tpu1 --zone=$Z --format=value(state)
gcloud compute tpus tpu-vm delete tpu1 --zone=$Z --quiet
gcloud compute tpus tpu-vm create tpu1 --zone=$Z --accelerator-type=v4-8 --version=tpu-ubuntu2204-base --spot
gcloud compute tpus tpu-vm describe tpu1 --zone=$Z --format=value(state)
gcloud compute tpus tpu-vm scp $XDG_CACHE_HOME/cohx/cohx-dist.tar.gz tpu1:cohx-dist.tar.gz --zone=$Z --worker=all
gcloud compute tpus tpu-vm ssh tpu1 --zone=$Z --worker=all --command=...
gcloud compute tpus tpu-vm describe tpu1 --zone=$Z --format=value(networkEndpoints[].ipAddress)
gcloud compute tpus tpu-vm ssh tpu1 --zone=$Z --worker=0 --command=...
gcloud compute tpus tpu-vm ssh tpu1 --zone=$Z --worker=1 --command=...
gcloud compute tpus tpu-vm describe tpu1 --zone=$Z --format=value(state)" "$(sed -n '1,7p' <<<"$got"; sed -n '8,9p' <<<"$got" | sort; sed -n '10,$p' <<<"$got")"
  local w
  for w in 0 1; do
    wait_for "$(worker_home tpu1 $w)/cohx-calls" "cohx train --config c.json --resume | index=$w count=2 coordinator=10.0.0.2:8476"
  done
}

test_restart_on_preemption_retries_a_failed_recovery() {
  stub_vm tpu1 1 PREEMPTED
  export STUB_FAIL='tpu-vm create' STUB_FAIL_TIMES=1
  run tpu restart-on-preemption "${base[@]}" "${make[@]}" --poll 0 --max-polls 3 -- train --resume
  assert_ok
  assert_out "recovery 1 failed (see above); trying again at the next poll"
  assert_out "TPU VM tpu1 is NOT_FOUND: recovery 2"
  assert_out "recovery 2 done"
  assert_eq 2 "$(calls_matching '^gcloud compute tpus tpu-vm create')" "created again after the failure"
  wait_for "$(worker_home tpu1 0)/cohx-calls" "cohx train --resume | index=0 count=1"
  assert_eq 0 "$(grep -c -- '--resume --resume' "$(worker_home tpu1 0)/cohx-calls")" "--resume is added once"
}

test_restart_on_preemption_gives_up_after_max_restarts() {
  stub_vm tpu1 1 TERMINATED
  export STUB_FAIL='tpu-vm create'
  run tpu restart-on-preemption "${base[@]}" "${make[@]}" --poll 0 --max-restarts 2 -- train
  assert_failed
  assert_out "giving up: 2 recoveries (--max-restarts 2), the last one failed"
  assert_eq 2 "$(calls_matching '^gcloud compute tpus tpu-vm create')" "two attempts"
}

test_restart_on_preemption_with_queued_resource() {
  run tpu create "${base[@]}" "${make[@]}" --queued --spot
  echo SUSPENDED > "$STUB_DIR/qrs/tpu1/state"
  echo PREEMPTED > "$STUB_DIR/vms/tpu1/state"
  reset_calls
  run tpu restart-on-preemption "${base[@]}" "${make[@]}" --queued --spot --poll 0 --max-polls 1 -- train
  assert_ok
  assert_file_has "$STUB_DIR/calls" "gcloud compute tpus queued-resources delete tpu1 --zone=$Z --force --quiet"
  assert_file_has "$STUB_DIR/calls" "gcloud compute tpus queued-resources create tpu1 --node-id=tpu1 --zone=$Z --accelerator-type=v4-8 --runtime-version=tpu-ubuntu2204-base --spot"
  assert_eq ACTIVE "$(cat "$STUB_DIR/qrs/tpu1/state")"
  wait_for "$(worker_home tpu1 0)/cohx-calls" "cohx train --resume"
}
