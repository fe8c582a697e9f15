# shellcheck shell=bash
# Sourced first by every set-up script: strict mode with a failure report,
# named steps, Debian packages that wait for the dpkg lock, and timing.
# No script may end silently: any command that fails outside an `if`, `||` or
# `&&` ends the script through mate_on_err, which names the step, the command
# and where it stood, and prints the last lines of the step's log.

set -Eeuo pipefail

MATE_CACHE="${MATE_CACHE:-$HOME/.cache/mate}"
export MATE_CACHE
MATE_RUN="$MATE_CACHE/run"
MATE_TOOLS="$MATE_CACHE/tools"
# How long apt waits for another process's dpkg lock before it gives up.
MATE_APT_LOCK_TIMEOUT="${MATE_APT_LOCK_TIMEOUT:-600}"

# What the script is doing now, and the file its commands write to: both are
# printed when something fails. Scripts set them through mate_step/mate_log_to.
MATE_STEP="${MATE_STEP:-$(basename "${BASH_SOURCE[-1]}" .sh)}"
MATE_STEP_LOG=""

mate_log() { printf '[%s] %s\n' "$MATE_STEP" "$*" >&2; }

mate_print_log_tail() {
  local file=$1 lines=${2:-30}
  [[ -n $file && -s $file ]] || return 0
  printf '[%s] ---- last %d lines of %s ----\n' "$MATE_STEP" "$lines" "$file" >&2
  tail -n "$lines" "$file" >&2 || true
  printf '[%s] ----\n' "$MATE_STEP" >&2
}

# mate_die MESSAGE: fails the step with MESSAGE and the tail of its log.
mate_die() {
  printf '[%s] ERROR: %s\n' "$MATE_STEP" "$*" >&2
  mate_print_log_tail "$MATE_STEP_LOG"
  exit 1
}

mate_on_err() {
  local rc=$? cmd=$BASH_COMMAND
  trap - ERR
  printf '[%s] FAILED (exit %d): %s\n' "$MATE_STEP" "$rc" "$cmd" >&2
  printf '[%s]   at %s:%s (%s)\n' "$MATE_STEP" "${BASH_SOURCE[1]:-?}" "${BASH_LINENO[0]:-?}" "${FUNCNAME[1]:-main}" >&2
  mate_print_log_tail "$MATE_STEP_LOG"
  exit "$rc"
}
trap mate_on_err ERR

# mate_step NAME: names what follows (in messages and in failure reports).
mate_step() {
  MATE_STEP=$1
  MATE_STEP_LOG=""
}

# mate_log_to FILE: the file the next commands write to (its tail is shown on failure).
mate_log_to() {
  MATE_STEP_LOG=$1
  mkdir -p "$(dirname "$1")"
}

mate_now() { date +%s.%N; }
mate_elapsed() { awk -v a="$1" -v b="$(mate_now)" 'BEGIN { printf "%.1fs", b - a }'; }

mate_as_root() {
  if [[ $(id -u) == 0 ]]; then "$@"; else sudo -n "$@"; fi
}

# mate_deb_version PACKAGE: the installed version of a Debian package, or
# nothing (also when dpkg has never heard of it: dpkg-query then exits 1).
mate_deb_version() {
  dpkg-query -W -f='${db:Status-Status} ${Version}\n' "$1" 2>/dev/null | awk '$1 == "installed" { print $2 }' || true
}

mate_apt() {
  mate_as_root env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout="$MATE_APT_LOCK_TIMEOUT" "$@"
}

# mate_apt_install PACKAGE[=VERSION]...: installs Debian packages, refreshing the
# package lists once when the first try fails (a new machine has none). Their
# own system services are kept from starting: the tests run private instances.
mate_apt_install() {
  if [[ $(id -u) -ne 0 ]] && ! sudo -n true 2>/dev/null; then
    mate_die "need to install $* but not root; run: sudo apt-get install -y --no-install-recommends $*"
  fi
  local log="$MATE_RUN/apt.log" policy=/usr/sbin/policy-rc.d created_policy="" rc=0
  local previous_log=$MATE_STEP_LOG
  mate_log_to "$log"
  if [[ ! -e $policy ]]; then
    mate_as_root sh -c "printf '#!/bin/sh\nexit 101\n' >$policy && chmod 755 $policy"
    created_policy=1
  fi
  mate_log "apt-get install $* (log: $log)"
  {
    echo "==> $(date -u +%FT%TZ) apt-get install $*"
    if ! mate_apt install -y --no-install-recommends "$@"; then
      echo "==> install failed; apt-get update and one more try"
      mate_apt update && mate_apt install -y --no-install-recommends "$@"
    fi
  } >>"$log" 2>&1 || rc=$?
  [[ -z $created_policy ]] || mate_as_root rm -f "$policy"
  ((rc == 0)) || mate_die "apt-get install $* failed (exit $rc)"
  MATE_STEP_LOG=$previous_log
}

# mate_require_commands COMMAND=PACKAGE...: installs the Debian package of every
# command that is not on PATH (a minimal Debian has no curl, openssl or ps).
mate_require_commands() {
  local pair missing=()
  for pair in "$@"; do
    command -v "${pair%%=*}" >/dev/null 2>&1 || missing+=("${pair#*=}")
  done
  ((${#missing[@]} == 0)) || mate_apt_install "${missing[@]}"
}

# mate_find_go: the Go toolchain to build tools with ($GO, PATH, /usr/local/go).
mate_find_go() {
  if [[ -n ${GO:-} ]]; then printf '%s\n' "$GO"; return; fi
  if command -v go >/dev/null 2>&1; then command -v go; return; fi
  if [[ -x /usr/local/go/bin/go ]]; then printf '%s\n' /usr/local/go/bin/go; return; fi
  mate_die "no Go toolchain found (need Go >= 1.26 on PATH, in /usr/local/go, or GO=/path/to/go)"
}
