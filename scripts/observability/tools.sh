#!/usr/bin/env bash
# Installs the observability tests' tools into $MATE_CACHE/tools/observability/bin:
#   prometheus, promtool   Debian's `prometheus` package (apt), pinned on Debian 12, linked here
#   filebeat               built from github.com/elastic/beats/v7 (pinned in
#                          scripts/observability/filebeat/go.mod) through the Go module proxy
#
# Idempotent: a tool whose binary and version stamp are present is skipped, so a
# second run costs about a second. Usage:
#   scripts/observability/tools.sh [prometheus|filebeat ...]   (default: all)
# MATE_OBS_SKIP_FILEBEAT=1 leaves Filebeat out (its first build, modules
# downloaded and compiled from nothing, takes about 3 minutes on two cores);
# tests/observability/logs.test.ts then skips its Filebeat tests.
set -euo pipefail

PROMETHEUS_DEB_VERSION="2.42.0+ds-5+deb12u1"
FILEBEAT_VERSION="v7.17.29"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MATE_CACHE="${MATE_CACHE:-$HOME/.cache/mate}"
OBS_DIR="$MATE_CACHE/tools/observability"
OBS_BIN="$OBS_DIR/bin"
mkdir -p "$OBS_BIN" "$OBS_DIR/stamps"

log() { echo "[observability-tools] $*" >&2; }
die() {
  log "$*"
  exit 1
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

wanted=("$@")
is_wanted() {
  [[ ${#wanted[@]} -eq 0 ]] && return 0
  local w
  for w in "${wanted[@]}"; do [[ "$w" == "$1" ]] && return 0; done
  return 1
}

as_root() {
  if [[ $(id -u) == 0 ]]; then "$@"; else sudo -n "$@"; fi
}

installed=() skipped=()
t_all="$(now)"

# --- Prometheus and promtool (Debian package) --------------------------------
# Pinned on Debian 12 (this project's machines). Elsewhere (an Ubuntu CI runner)
# the distribution's own prometheus package is installed, and said so.
prometheus_wanted() {
  local codename
  # shellcheck disable=SC1091
  codename="$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")"
  if [[ "$codename" == bookworm ]]; then
    echo "$PROMETHEUS_DEB_VERSION"
  else
    apt-cache policy prometheus 2>/dev/null | awk '/Candidate:/ { print $2 }'
  fi
}

# The installed version of the prometheus package, or nothing (a removed package keeps its version in dpkg).
prometheus_installed() {
  dpkg-query -W -f='${db:Status-Status} ${Version}' prometheus 2>/dev/null | awk '$1 == "installed" { print $2 }'
}

install_prometheus() {
  local stamp_file="$OBS_DIR/stamps/prometheus" installed_version want
  installed_version="$(prometheus_installed)"
  if [[ -x "$OBS_BIN/prometheus" && -x "$OBS_BIN/promtool" && -f "$stamp_file" && -n "$installed_version" &&
    "$(cat "$stamp_file")" == "prometheus $installed_version" ]] &&
    { [[ "$installed_version" == "$PROMETHEUS_DEB_VERSION" ]] || [[ "$(prometheus_wanted)" != "$PROMETHEUS_DEB_VERSION" ]]; }; then
    skipped+=(prometheus)
    return
  fi
  local t
  t="$(now)"
  want="$(prometheus_wanted)"
  if [[ -z "$want" || "$want" == "(none)" ]]; then
    as_root apt-get update -q >"$OBS_DIR/stamps/prometheus.log" 2>&1 || true
    want="$(prometheus_wanted)"
  fi
  [[ -n "$want" && "$want" != "(none)" ]] || die "no prometheus package in this machine's apt sources"
  [[ "$want" == "$PROMETHEUS_DEB_VERSION" ]] || log "not Debian 12: installing this distribution's prometheus $want instead of $PROMETHEUS_DEB_VERSION"
  if [[ "$installed_version" != "$want" ]]; then
    log "installing prometheus=$want (apt) ..."
    local apt=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "prometheus=$want")
    if ! as_root "${apt[@]}" >>"$OBS_DIR/stamps/prometheus.log" 2>&1; then
      log "apt-get install failed; refreshing the package lists once"
      as_root apt-get update -q >>"$OBS_DIR/stamps/prometheus.log" 2>&1 || true
      as_root "${apt[@]}" >>"$OBS_DIR/stamps/prometheus.log" 2>&1 || {
        tail -n 20 "$OBS_DIR/stamps/prometheus.log" >&2
        die "FAILED to install prometheus=$want; log: $OBS_DIR/stamps/prometheus.log"
      }
    fi
    # The package ships a service; this project runs its own instances only.
    as_root systemctl disable --now prometheus >/dev/null 2>&1 || true
    installed_version="$(prometheus_installed)"
  fi
  ln -sf /usr/bin/prometheus "$OBS_BIN/prometheus"
  ln -sf /usr/bin/promtool "$OBS_BIN/promtool"
  "$OBS_BIN/prometheus" --version >/dev/null 2>&1 || die "the installed prometheus does not run"
  echo "prometheus $installed_version" >"$stamp_file"
  installed+=(prometheus)
  log "prometheus and promtool $installed_version in $(elapsed "$t")"
}

# --- Filebeat (built from its Go module) -------------------------------------
install_filebeat() {
  if [[ "${MATE_OBS_SKIP_FILEBEAT:-0}" == 1 ]]; then
    log "MATE_OBS_SKIP_FILEBEAT=1: Filebeat left out"
    return
  fi
  command -v go >/dev/null || die "go is not on PATH (Filebeat is built from its Go module)"
  local module="$here/filebeat" stamp_file="$OBS_DIR/stamps/filebeat" target="$OBS_DIR/filebeat-$FILEBEAT_VERSION/filebeat"
  local stamp
  stamp="$(cat "$module/go.mod" "$module/go.sum" | sha256sum | cut -c1-16) $(go env GOVERSION)"
  if [[ -x "$target" && -f "$stamp_file" && "$(cat "$stamp_file")" == "$stamp" ]]; then
    ln -sf "$target" "$OBS_BIN/filebeat"
    skipped+=(filebeat)
    return
  fi
  local t log_file="$OBS_DIR/stamps/filebeat.log"
  t="$(now)"
  log "building filebeat $FILEBEAT_VERSION from github.com/elastic/beats/v7 (about 3 min from a cold Go cache) ..."
  mkdir -p "$(dirname "$target")"
  # -mod=readonly: go.sum is checked in, so the build uses exactly those modules.
  if ! (cd "$module" && GOFLAGS="${GOFLAGS:-} -mod=readonly" go build -trimpath -ldflags "-s -w" -o "$target.tmp" github.com/elastic/beats/v7/filebeat) >"$log_file" 2>&1; then
    tail -n 30 "$log_file" >&2
    die "FAILED to build filebeat $FILEBEAT_VERSION after $(elapsed "$t"); full log: $log_file"
  fi
  mv -f "$target.tmp" "$target"
  ln -sf "$target" "$OBS_BIN/filebeat"
  "$OBS_BIN/filebeat" version >/dev/null || die "the built filebeat does not run"
  echo "$stamp" >"$stamp_file"
  installed+=(filebeat)
  log "built filebeat in $(elapsed "$t")"
}

is_wanted prometheus && install_prometheus
is_wanted filebeat && install_filebeat

log "tools in $OBS_BIN (prometheus $PROMETHEUS_DEB_VERSION, filebeat $FILEBEAT_VERSION)"
log "installed: ${installed[*]:-none}; already present: ${skipped[*]:-none}; total $(elapsed "$t_all")"
