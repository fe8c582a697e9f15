#!/usr/bin/env bash
# The real node's supervisor: started by node-up.sh inside the node's network
# namespace and a fresh mount namespace, it starts containerd, the kubelet,
# kube-proxy and CoreDNS there and lives as long as they do. The mount
# namespace gives them a /run, /var/lib and /var/log of their own (tmpfs), so
# the paths they write by convention (/run/containerd, /var/lib/kubelet,
# /var/log/containers, /var/lib/cni, /run/netns) never touch the machine's.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
MATE_STEP=k8s-node-inside
D="$K8S_NODE_DIR"

mount --make-rprivate /
for dir in /run /var/lib /var/log; do mount -t tmpfs -o mode=755 "mate-node-${dir//\//-}" "$dir"; done
# A machine id of the node's own, which the kubelet reports: with the
# machine's, tools that find their node by it (as Filebeat's
# add_kubernetes_metadata does) would take this node for the host they run on.
if [[ -f /etc/machine-id ]]; then
  [[ -s "$D/machine-id" ]] || od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$D/machine-id"
  mount --bind "$D/machine-id" /etc/machine-id
fi
# Volume mounts the kubelet makes must reach the containers runc starts.
mount --make-rshared /

# supervise NAME COMMAND...: one daemon, its pid and log under the node
# directory, started again a second after it exits, as a node's systemd units
# do. The kubelet exits when containerd's CRI is not serving yet, which its
# socket's appearing does not promise.
supervise() {
  local name="$1"; shift
  while true; do
    "$@" >>"$D/logs/$name.log" 2>&1 </dev/null &
    echo $! >"$D/pids/$name.pid"
    local rc=0
    wait $! || rc=$?
    echo "[$MATE_STEP] $name exited ($rc); starting it again in 1 s" >>"$D/logs/$name.log"
    sleep 1
  done
}

supervise containerd "$K8S_BIN/containerd" --config "$D/containerd.toml" &
for _ in $(seq 1 100); do [[ -S "$D/containerd/containerd.sock" ]] && break; sleep 0.1; done
[[ -S "$D/containerd/containerd.sock" ]] || mate_die "containerd did not open its socket"
supervise kubelet "$K8S_BIN/kubelet" --config "$D/kubelet.yaml" --kubeconfig "$D/kubelet.kubeconfig" \
  --hostname-override "$K8S_NODE_NAME" --node-ip "$K8S_NODE_IP" --node-labels "$K8S_NODE_LABEL" \
  --root-dir "$D/kubelet" --cert-dir "$D/kubelet/pki" --v=1 &
supervise kube-proxy "$K8S_BIN/kube-proxy" --config "$D/kube-proxy.yaml" &
supervise coredns "$K8S_BIN/coredns" -conf "$D/Corefile" &
wait
