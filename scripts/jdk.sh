# shellcheck shell=bash
# Sourced by ./cohx and ./run-tests: finds a JDK and exports COHX_JAVA_HOME. cohx compiles to Java 25
# class files (FFM is final since 22; cohx also uses 25-only language features), so 25 is the floor.
# Order: $JAVA_HOME if it is new enough, then the newest JDK under /usr/lib/jvm (or $COHX_JVM_DIR).

cohx_jdk_major() { # prints the feature version of the JDK at $1, or nothing
  local home=$1 v
  [ -x "$home/bin/java" ] || return 0
  if [ -f "$home/release" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9][0-9]*\).*/\1/p' "$home/release" | head -n 1)
  fi
  if [ -z "${v:-}" ]; then
    v=$("$home/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9][0-9]*\).*/\1/p' | head -n 1)
  fi
  [ "${v:-}" = 1 ] && v=8
  printf '%s' "${v:-}"
}

cohx_find_jdk() {
  local want=${COHX_MIN_JDK:-25} best="" best_v=0 home v
  if [ -n "${JAVA_HOME:-}" ]; then
    v=$(cohx_jdk_major "$JAVA_HOME")
    if [ -n "$v" ] && [ "$v" -ge "$want" ] && [ -x "$JAVA_HOME/bin/javac" ]; then
      COHX_JAVA_HOME=$JAVA_HOME; export COHX_JAVA_HOME; return 0
    fi
  fi
  for home in "${COHX_JVM_DIR:-/usr/lib/jvm}"/*; do
    [ -d "$home" ] && [ ! -L "$home" ] || continue
    v=$(cohx_jdk_major "$home")
    [ -n "$v" ] && [ -x "$home/bin/javac" ] || continue
    if [ "$v" -ge "$want" ] && [ "$v" -gt "$best_v" ]; then best=$home; best_v=$v; fi
  done
  if [ -z "$best" ]; then
    {
      echo "cohx: no JDK $want or newer found."
      echo "  Looked at JAVA_HOME (${JAVA_HOME:-unset}) and ${COHX_JVM_DIR:-/usr/lib/jvm}/*."
      echo "  Install JDK 25, e.g. Eclipse Temurin 25 (Debian/Ubuntu: package temurin-25-jdk from the Adoptium apt repository),"
      echo "  then set JAVA_HOME to it or leave it under /usr/lib/jvm."
    } >&2
    return 1
  fi
  COHX_JAVA_HOME=$best; export COHX_JAVA_HOME
}
