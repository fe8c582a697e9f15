#!/usr/bin/env bash
# Stops the local control plane started by scripts/k8s/up.sh (only the processes
# named in its pid files). With --purge also deletes the run directory: etcd
# data, certificates and kubeconfigs, so the next up.sh starts from scratch.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

parse_purge_flag 2,4 "$@"

PIDS="$K8S_RUN_DIR/pids"
stopped=()
# Reverse start order: nothing keeps writing to an apiserver that is gone.
for name in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
  pidfile="$PIDS/$name.pid"
  [[ -f "$pidfile" ]] || continue
  pid="$(cat "$pidfile")"
  # Only signal the process if it still is the binary we started.
  if [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$K8S_BIN/"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      mate_log "$name (pid $pid) did not stop in 10s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    stopped+=("$name(pid $pid)")
  fi
  rm -f "$pidfile"
done
mate_log "stopped: ${stopped[*]:-nothing was running}"

if [[ $purge == 1 ]]; then
  rm -rf "$K8S_RUN_DIR"
  mate_log "removed $K8S_RUN_DIR"
fi
