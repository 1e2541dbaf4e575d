# shellcheck shell=bash
# Sourced by ./cohx: the JVM's AOT cache of the CLI jar (JDK 25, JEP 483/514/515), which lets small
# commands start with cohx's classes already loaded and linked and with method profiles from a
# training run. docs/STARTUP.md describes it. Everything here is best effort: a cache that cannot
# be made or used costs at most one line on stderr, never the run.
#
# cohx_aot_options JAR JVM_FLAGS...: sets the array COHX_AOT_OPTS to the JVM options that use the
# cache of JAR (making it first when this build has none), or to nothing. COHX_AOT=off skips all.

# The cache's file name: the jar's size and mtime and the JVM library's (the JVM refuses a cache
# made by another JVM or for another jar; keying on both makes a new build or JDK make a new one).
cohx_aot_file() { # jar
  local jar=$1 jvm key
  for jvm in "$COHX_JAVA_HOME"/lib/server/libjvm.*; do break; done
  [ -f "$jvm" ] || return 1
  key=$(stat -c '%s-%Y' "$jar" "$jvm" 2>/dev/null || stat -f '%z-%m' "$jar" "$jvm" 2>/dev/null) || return 1
  printf '%s/aot/cohx-%s.aot' "${jar%/*}" "${key//$'\n'/-}"
}

# What identifies the bytes of FILE as they were when checked: inode, size, modification and
# change times in nanoseconds (any write, copy over or move changes one of them), or nothing.
cohx_aot_stamp() { # file
  stat -c '%i %s %.9Y %.9Z' "$1" 2>/dev/null || true
}

# Runs the training workload (io.cohx.cli.AotTraining) with -XX:AOTCacheOutput, checks that the
# JVM accepts the result (checksums of every region included), and moves it into place with its
# stamp (cohx_aot_stamp) in FILE.stamp; on failure leaves FILE.failed (the log) so later runs do
# not try again for this build.
cohx_aot_create() { # jar cache jvm-flags...
  local jar=$1 cache=$2 dir tmp work log f java=$COHX_JAVA_HOME/bin/java
  shift 2
  dir=$(dirname "$cache")
  mkdir -p "$dir" 2>/dev/null && [ -w "$dir" ] || return 0 # a read-only install: run without
  for f in "$dir"/cohx-*; do # caches of earlier builds
    case $f in "$cache"*) ;; *) rm -f "$f" ;; esac
  done
  tmp=$cache.tmp.$$
  log=$cache.log.$$
  work=$(mktemp -d "${TMPDIR:-/tmp}/cohx-aot.XXXXXX") || return 0
  # One line whatever happens: the note, then how it ended.
  printf 'cohx: making the start-up cache for this build (once; COHX_AOT=off skips it)... ' >&2
  if "$java" "$@" -XX:AOTCacheOutput="$tmp" -cp "$jar" io.cohx.cli.AotTraining "$work" >"$log" 2>&1 \
      && "$java" "$@" -XX:AOTMode=on -XX:AOTCache="$tmp" -XX:+VerifySharedSpaces -jar "$jar" --version >>"$log" 2>&1 \
      && mv -f "$tmp" "$cache"; then
    cohx_aot_stamp "$cache" >"${cache%.aot}.stamp"
    rm -f "$log"
    echo "done" >&2
  else
    mv -f "$log" "${cache%.aot}.failed"
    echo "could not make the start-up cache (log: ${cache%.aot}.failed); running without it" >&2
  fi
  rm -rf "$work" "$tmp" "$tmp.config" "$log"
}

cohx_aot_options() { # jar jvm-flags...
  local jar=$1 cache
  shift
  # shellcheck disable=SC2034 # read by ./cohx
  COHX_AOT_OPTS=()
  case ${COHX_AOT:-auto} in
    off) return 0 ;;
    auto) ;;
    *) echo "cohx: COHX_AOT='$COHX_AOT' is not auto or off; running without the start-up cache" >&2; return 0 ;;
  esac
  cache=$(cohx_aot_file "$jar") || return 0
  [ -f "${cache%.aot}.failed" ] && return 0
  [ -s "$cache" ] || cohx_aot_create "$jar" "$cache" "$@"
  [ -s "$cache" ] || return 0
  # The JVM checks the cache (header, jar, JVM) and runs without it when it does not fit; its
  # messages about that are silenced so that they never mix into a command's output. The
  # checksums of every region (VerifySharedSpaces: about 60 ms of CPU for 28 MB, before main)
  # were checked when the cache was made; they are checked again only when the file is no longer
  # the one checked then (its stamp differs), as after a bit flip written into it.
  local verify=-XX:+VerifySharedSpaces stamp saved=""
  stamp=$(cohx_aot_stamp "$cache")
  if [ -f "${cache%.aot}.stamp" ]; then read -r saved <"${cache%.aot}.stamp" || true; fi
  if [ -n "$stamp" ] && [ "$saved" = "$stamp" ]; then
    verify=-XX:-VerifySharedSpaces
  fi
  # shellcheck disable=SC2034 # read by ./cohx
  COHX_AOT_OPTS=(-XX:AOTCache="$cache" "$verify" '-Xlog:aot*=off,cds*=off')
}
