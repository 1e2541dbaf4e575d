# shellcheck shell=bash
# Sourced by tpu/worker-install and tpu/install-gpu-host (after scripts/jdk.sh): makes sure a JDK
# 25 or newer is there, installing JDK 25 with apt-get when it is not (cohx_ensure_jdk), and that
# `python3 -m pip` works, which `cohx plugins install` needs (cohx_ensure_pip).
# Package order: temurin-25-jdk if an apt source already offers it, then the distribution's
# openjdk-25-jdk, then Temurin 25 from the Adoptium apt repository (added only in that last case,
# because older Ubuntu releases, like the TPU VM images, have no JDK 25 of their own).
# COHX_APT_ETC (default /etc/apt) and COHX_OS_RELEASE (default /etc/os-release) let the tests
# point the repository setup at a scratch folder.

cohx_adoptium_apt=${COHX_ADOPTIUM_APT:-https://packages.adoptium.net/artifactory}

cohx_as_root() { # runs "$@" as root, through sudo when we are not root
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

cohx_apt_candidate() { # prints the installable version of package $1, or nothing
  local c
  c=$(apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: *//p' | head -n 1)
  [ "$c" = "(none)" ] && c=""
  printf '%s' "$c"
}

cohx_add_adoptium_repo() {
  local etc=${COHX_APT_ETC:-/etc/apt} osr=${COHX_OS_RELEASE:-/etc/os-release} codename="" key fetched=yes
  if [ -r "$osr" ]; then
    codename=$(sed -n 's/^VERSION_CODENAME=//p' "$osr" | tr -d '"' | head -n 1)
  fi
  if [ -z "$codename" ]; then
    echo "cohx: cannot tell the distribution's code name (VERSION_CODENAME in /etc/os-release) for the Adoptium apt repository; install JDK 25 yourself and run this again." >&2
    return 1
  fi
  key=$(mktemp) || return 1
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL "$cohx_adoptium_apt/api/gpg/key/public" -o "$key" || fetched=no
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$key" "$cohx_adoptium_apt/api/gpg/key/public" || fetched=no
  else
    rm -f "$key"
    echo "cohx: need curl or wget to fetch the Adoptium signing key (apt-get install curl), or install JDK 25 yourself." >&2
    return 1
  fi
  if [ "$fetched" = no ]; then
    rm -f "$key"
    echo "cohx: could not fetch the Adoptium signing key; check the network and run this again." >&2
    return 1
  fi
  # Every step is checked by hand: callers use `cohx_ensure_jdk || ...`, where set -e is off.
  cohx_as_root mkdir -p "$etc/keyrings" "$etc/sources.list.d" || return 1
  gpg --dearmor < "$key" > "$key.gpg" || { rm -f "$key" "$key.gpg"; echo "cohx: gpg could not read the Adoptium key" >&2; return 1; }
  cohx_as_root cp "$key.gpg" "$etc/keyrings/adoptium.gpg" || { rm -f "$key" "$key.gpg"; return 1; }
  rm -f "$key" "$key.gpg"
  echo "deb [signed-by=$etc/keyrings/adoptium.gpg] $cohx_adoptium_apt/deb $codename main" > "$key.list" || return 1
  cohx_as_root cp "$key.list" "$etc/sources.list.d/adoptium.list" || { rm -f "$key.list"; return 1; }
  rm -f "$key.list"
}

cohx_ensure_jdk() { # finds a JDK >= 25 (sets COHX_JAVA_HOME) or installs JDK 25; returns 1 with a message when it cannot
  local pkg=""
  if cohx_find_jdk 2>/dev/null; then
    echo "cohx: JDK found: $COHX_JAVA_HOME"
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "cohx: no JDK 25 or newer, and no apt-get to install one: install JDK 25 (e.g. Eclipse Temurin 25), then run this again." >&2
    return 1
  fi
  echo "cohx: no JDK 25 or newer; installing JDK 25 with apt-get"
  cohx_as_root apt-get update -q || { echo "cohx: apt-get update failed (its message is above); fix that and run this again." >&2; return 1; }
  if [ -n "$(cohx_apt_candidate temurin-25-jdk)" ]; then pkg=temurin-25-jdk
  elif [ -n "$(cohx_apt_candidate openjdk-25-jdk)" ]; then pkg=openjdk-25-jdk
  else
    echo "cohx: no JDK 25 package in the configured apt sources; adding the Adoptium (Temurin) apt repository"
    cohx_add_adoptium_repo || return 1
    cohx_as_root apt-get update -q || { echo "cohx: apt-get update failed after adding the Adoptium repository; fix that and run this again." >&2; return 1; }
    pkg=temurin-25-jdk
  fi
  if ! cohx_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg"; then
    echo "cohx: apt-get install $pkg failed (its message is above); fix that and run this again." >&2
    return 1
  fi
  if ! cohx_find_jdk; then
    echo "cohx: installed $pkg but still found no JDK 25 or newer under ${COHX_JVM_DIR:-/usr/lib/jvm}; set JAVA_HOME to it and run this again." >&2
    return 1
  fi
  echo "cohx: JDK installed: $COHX_JAVA_HOME"
}

cohx_ensure_pip() { # cohx fetches plugin wheels with `python3 -m pip download`: makes sure that works
  local py=${COHX_PYTHON:-python3}
  if "$py" -m pip --version >/dev/null 2>&1; then return 0; fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "cohx: '$py -m pip' does not work and there is no apt-get: install Python 3 with pip (cohx fetches plugins with it), then run this again." >&2
    return 1
  fi
  echo "cohx: '$py -m pip' does not work; installing python3-pip (cohx fetches plugins with pip)"
  cohx_as_root apt-get update -q || { echo "cohx: apt-get update failed (its message is above); fix that and run this again." >&2; return 1; }
  cohx_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-pip \
    || { echo "cohx: apt-get install python3-pip failed (its message is above); fix that and run this again." >&2; return 1; }
  "$py" -m pip --version >/dev/null 2>&1 \
    || { echo "cohx: installed python3-pip, but '$py -m pip' still does not work; set COHX_PYTHON to a Python 3 with pip and run this again." >&2; return 1; }
}
