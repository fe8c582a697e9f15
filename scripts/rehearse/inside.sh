#!/usr/bin/env bash
# Runs inside the rehearsal's clean root (scripts/rehearse/run.sh): the
# README's two commands, then .ci/run on a fresh clone, each phase timed.
#   bash /run/inside.sh start,test,ci
set -uo pipefail
phases=",$1,"
rc=0

# The registries, through the proxy outside the network namespace.
node /run/registry-proxy.mjs bridge 127.0.0.1:3128 /run/registry-proxy.sock &

timed() {
  local name=$1 t=$SECONDS status=0
  shift
  printf '==> rehearsal phase: %s\n' "$name"
  "$@" || status=$?
  printf '==> rehearsal phase: %s: exit %d in %d s\n' "$name" "$status" $((SECONDS - t))
  return "$status"
}

# `npm ci && npm start`, until /readyz answers (at most 10 minutes).
start_api() {
  (cd /work/main && npm ci --no-audit --no-fund) || return
  setsid bash -c 'cd /work/main && exec npm start' >/tmp/npm-start.log 2>&1 &
  local pid=$! t=$SECONDS deadline=$((SECONDS + 600)) status=1
  while ((SECONDS < deadline)); do
    if curl -fs --max-time 2 -o /dev/null http://127.0.0.1:8080/readyz; then status=0; break; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  tail -n 5 /tmp/npm-start.log
  ((status != 0)) || echo "GET /readyz: 200, $((SECONDS - t)) s after npm start"
  kill -TERM -- "-$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return "$status"
}

run_tests() { cd /work/main && npm ci --no-audit --no-fund && npm test; }

# CI's way: a fresh clone of main with shared/ beside it, CI=true, no stdin.
run_ci() {
  rm -rf /work/ci && git clone -q /work/main /work/ci && cd /work/ci && CI=true bash .ci/run </dev/null
}

[[ $phases != *,start,* ]] || timed "npm ci && npm start" start_api || rc=1
[[ $phases != *,test,* ]] || timed "npm ci && npm test" run_tests || rc=1
[[ $phases != *,ci,* ]] || timed ".ci/run" run_ci || rc=1
exit "$rc"
