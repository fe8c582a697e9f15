#!/usr/bin/env bash
# Installs what the pressure suite needs beyond the test services: nginx (the
# Debian package), for the rolling-restart test and benchmark, which run it as
# a private process (temp prefix, loopback port, no system service).
# Idempotent: prints the nginx binary's path and does nothing else when present.
#   bash scripts/load/tools.sh
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
MATE_STEP=load-tools

find_nginx() {
  local p
  for p in "${NGINX:-}" "$(command -v nginx 2>/dev/null || true)" /usr/sbin/nginx; do
    [[ -n $p && -x $p ]] && { printf '%s\n' "$p"; return 0; }
  done
  return 1
}

if ! nginx=$(find_nginx); then
  mate_apt_install nginx
  nginx=$(find_nginx) || mate_die "nginx: the package is installed but no nginx binary was found"
fi
mate_log "nginx: $nginx ($("$nginx" -v 2>&1 | sed 's/^nginx version: //'))"
