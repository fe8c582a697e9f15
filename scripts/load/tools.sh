#!/usr/bin/env bash
# Installs what the pressure suite needs beyond the test services: nginx (the
# Debian package), for the rolling-restart test and benchmark, which run it as
# a private process (temp prefix, loopback port, no system service).
# Idempotent: prints the nginx binary's path and does nothing else when present.
#   bash scripts/load/tools.sh
set -euo pipefail

find_nginx() {
  local p
  for p in "${NGINX:-}" "$(command -v nginx 2>/dev/null || true)" /usr/sbin/nginx; do
    [[ -n $p && -x $p ]] && { printf '%s\n' "$p"; return 0; }
  done
  return 1
}

if nginx=$(find_nginx); then
  echo "nginx: $nginx ($("$nginx" -v 2>&1 | sed 's/^nginx version: //'))"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "nginx is missing and this is not root; run: sudo apt-get install -y --no-install-recommends nginx" >&2
  exit 1
fi

log="${MATE_CACHE:-$HOME/.cache/mate}/run/apt-nginx.log"
mkdir -p "$(dirname "$log")"
# Keep the package's own system service from starting: the tests run private instances.
policy=/usr/sbin/policy-rc.d created_policy=
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  created_policy=1
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
export DEBIAN_FRONTEND=noninteractive
echo "nginx: apt-get install nginx (log: $log)"
if ! apt-get install -y --no-install-recommends nginx >"$log" 2>&1; then
  apt-get update >>"$log" 2>&1
  apt-get install -y --no-install-recommends nginx >>"$log" 2>&1 || { tail -n 20 "$log" >&2; exit 1; }
fi
if [[ -n $created_policy ]]; then
  rm -f "$policy"
  trap - EXIT
fi
nginx=$(find_nginx) || { echo "nginx: installed but not found" >&2; exit 1; }
echo "nginx: $nginx ($("$nginx" -v 2>&1 | sed 's/^nginx version: //'))"
