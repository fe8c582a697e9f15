#!/usr/bin/env bash
# Stops the real node started by scripts/k8s/node-up.sh and removes what it
# made: its pods' processes, containerd, the kubelet, kube-proxy, CoreDNS, the
# socat forwards and the registry, its cgroups, its network namespace, its Node
# object and the endpoints node-up.sh wrote. The images stay in the registry's
# cache ($MATE_CACHE/registry) unless --purge, which also deletes the node's
# state directory (containerd's content store, the kubelet's files, logs).
#   scripts/k8s/node-down.sh [--purge]
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
MATE_STEP=k8s-node

parse_purge_flag 2,7 "$@"

D="$K8S_NODE_DIR"
PIDS="$D/pids"
stopped=()

# kill_cgroup_tree DIR: kills every process in a cgroup and its children until none is left.
kill_cgroup_tree() {
  local dir="$1" pids
  [[ -d "$dir" ]] || return 0
  for _ in $(seq 1 50); do
    pids="$(find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u)"
    [[ -n "$pids" ]] || return 0
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    sleep 0.1
  done
  mate_log "processes left in $dir: $pids"
}

# The pods first (their containers live in the kubelet's cgroups), then the
# shims, which containerd started detached, then the daemons and forwards.
kill_cgroup_tree "/sys/fs/cgroup/pids$K8S_NODE_CGROUP"
for pid in $(pgrep -f "^$K8S_BIN/containerd-shim-runc-v2 .*-address $D/" || true); do
  kill -KILL "$pid" 2>/dev/null && stopped+=("shim(pid $pid)")
done
if [[ -d "$PIDS" ]]; then
  # The supervisor first: it would start its daemons again.
  for pidfile in "$PIDS/supervisor.pid" "$PIDS"/*.pid; do
    [[ -f "$pidfile" ]] || continue
    pid="$(cat "$pidfile")" name="$(basename "$pidfile" .pid)"
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      # The supervisor leads its own session: its daemons go with it.
      if [[ $name == supervisor ]]; then kill -TERM -- "-$pid" 2>/dev/null || true; else kill -TERM "$pid" 2>/dev/null || true; fi
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && { kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; }
      stopped+=("$name(pid $pid)")
    fi
    rm -f "$pidfile"
  done
fi

# The kubelet's cgroups, deepest first, in every hierarchy (it also makes them
# in the unified one).
for h in /sys/fs/cgroup/*/; do
  [[ -d "$h${K8S_NODE_CGROUP#/}" ]] || continue
  find "$h${K8S_NODE_CGROUP#/}" -depth -type d -exec rmdir {} + 2>/dev/null || true
  [[ -d "$h${K8S_NODE_CGROUP#/}" ]] && mate_log "could not remove cgroup $h${K8S_NODE_CGROUP#/}"
done

if ip netns list 2>/dev/null | grep -qw "^$K8S_NODE_NETNS"; then
  ip netns del "$K8S_NODE_NETNS"
  stopped+=("netns $K8S_NODE_NETNS")
fi

if [[ -f "$K8S_KUBECONFIG" ]] && kc get --raw /readyz >/dev/null 2>&1; then
  kc delete node "$K8S_NODE_NAME" --ignore-not-found --wait=false >/dev/null
  kc -n default delete endpointslice "kubernetes-$K8S_NODE_NAME" --ignore-not-found >/dev/null
  kc -n kube-system delete endpointslice "kube-dns-$K8S_NODE_NAME" --ignore-not-found >/dev/null
  # Pods bound to the node would wait for a kubelet that is gone.
  kc delete pods -A --field-selector "spec.nodeName=$K8S_NODE_NAME" --force --grace-period=0 >/dev/null 2>&1 || true
fi
rm -rf "$D/fwd"
mate_log "node $K8S_NODE_NAME stopped: ${stopped[*]:-nothing was running}"

if [[ $purge == 1 ]]; then
  rm -rf "$D"
  mate_log "removed $D"
fi
