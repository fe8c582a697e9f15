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
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
MATE_STEP=observability-tools

PROMETHEUS_DEB_VERSION="2.42.0+ds-5+deb12u1"
FILEBEAT_VERSION="v7.17.29"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OBS_DIR="$MATE_TOOLS/observability"
OBS_BIN="$OBS_DIR/bin"
mkdir -p "$OBS_BIN" "$OBS_DIR/stamps"


wanted=("$@")
is_wanted() {
  [[ ${#wanted[@]} -eq 0 ]] && return 0
  local w
  for w in "${wanted[@]}"; do [[ "$w" == "$1" ]] && return 0; done
  return 1
}

installed=() skipped=()
t_all="$(mate_now)"

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

prometheus_installed() { mate_deb_version prometheus; }

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
  t="$(mate_now)"
  want="$(prometheus_wanted)"
  if [[ -z "$want" || "$want" == "(none)" ]]; then
    mate_log_to "$OBS_DIR/stamps/prometheus.log"
    mate_apt update >"$MATE_STEP_LOG" 2>&1
    want="$(prometheus_wanted)"
  fi
  [[ -n "$want" && "$want" != "(none)" ]] || mate_die "no prometheus package in this machine's apt sources"
  [[ "$want" == "$PROMETHEUS_DEB_VERSION" ]] || mate_log "not Debian 12: installing this distribution's prometheus $want instead of $PROMETHEUS_DEB_VERSION"
  if [[ "$installed_version" != "$want" ]]; then
    mate_apt_install "prometheus=$want"
    # The package ships a service; this project runs its own instances only.
    mate_as_root systemctl disable --now prometheus >/dev/null 2>&1 || true
    installed_version="$(prometheus_installed)"
    [[ "$installed_version" == "$want" ]] || mate_die "apt installed prometheus '${installed_version:-nothing}', not $want"
  fi
  ln -sf /usr/bin/prometheus "$OBS_BIN/prometheus"
  ln -sf /usr/bin/promtool "$OBS_BIN/promtool"
  "$OBS_BIN/prometheus" --version >/dev/null 2>&1 || mate_die "the installed prometheus does not run"
  echo "prometheus $installed_version" >"$stamp_file"
  installed+=(prometheus)
  mate_log "prometheus and promtool $installed_version in $(mate_elapsed "$t")"
}

# --- Filebeat (built from its Go module) -------------------------------------
install_filebeat() {
  if [[ "${MATE_OBS_SKIP_FILEBEAT:-0}" == 1 ]]; then
    mate_log "MATE_OBS_SKIP_FILEBEAT=1: Filebeat left out"
    return
  fi
  local go
  go=$(mate_find_go)
  local module="$here/filebeat" stamp_file="$OBS_DIR/stamps/filebeat" target="$OBS_DIR/filebeat-$FILEBEAT_VERSION/filebeat"
  local stamp
  stamp="$(cat "$module/go.mod" "$module/go.sum" | sha256sum | cut -c1-16) $("$go" env GOVERSION)"
  if [[ -x "$target" && -f "$stamp_file" && "$(cat "$stamp_file")" == "$stamp" ]]; then
    ln -sf "$target" "$OBS_BIN/filebeat"
    skipped+=(filebeat)
    return
  fi
  local t log_file="$OBS_DIR/stamps/filebeat.log"
  t="$(mate_now)"
  mate_log_to "$log_file"
  mate_log "building filebeat $FILEBEAT_VERSION from github.com/elastic/beats/v7 (about 3 min from a cold Go cache) ..."
  mkdir -p "$(dirname "$target")"
  # -mod=readonly: go.sum is checked in, so the build uses exactly those modules.
  if ! (cd "$module" && GOFLAGS="${GOFLAGS:-} -mod=readonly" "$go" build -trimpath -ldflags "-s -w" -o "$target.tmp" github.com/elastic/beats/v7/filebeat) >"$log_file" 2>&1; then
    mate_die "FAILED to build filebeat $FILEBEAT_VERSION after $(mate_elapsed "$t"); full log: $log_file"
  fi
  mv -f "$target.tmp" "$target"
  ln -sf "$target" "$OBS_BIN/filebeat"
  "$OBS_BIN/filebeat" version >/dev/null || mate_die "the built filebeat does not run"
  echo "$stamp" >"$stamp_file"
  installed+=(filebeat)
  mate_log "built filebeat in $(mate_elapsed "$t")"
}

is_wanted prometheus && install_prometheus
is_wanted filebeat && install_filebeat

mate_log "tools in $OBS_BIN (prometheus $PROMETHEUS_DEB_VERSION, filebeat $FILEBEAT_VERSION)"
mate_log "installed: ${installed[*]:-none}; already present: ${skipped[*]:-none}; total $(mate_elapsed "$t_all")"
