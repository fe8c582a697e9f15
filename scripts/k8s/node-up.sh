#!/usr/bin/env bash
# Starts (or reuses) the local cluster's real node: a kubelet that runs pods
# with containerd and runc, pod networking from the CNI reference plugins,
# Services from kube-proxy (iptables) and cluster DNS from CoreDNS, all inside
# a network namespace and a mount namespace of their own. Needs the control
# plane (scripts/k8s/up.sh, run first) and root.
#
#   node network namespace $K8S_NODE_NETNS
#     veth mate-n0 $K8S_NODE_IP/24 (the node's InternalIP), default route
#     bridge mate-cni0 $K8S_POD_CIDR (the CNI bridge plugin), pods behind it
#     socat 127.0.0.1:$K8S_APISERVER_PORT and $K8S_NODE_IP:$K8S_APISERVER_PORT
#       -> Unix socket -> socat on loopback -> the apiserver
#   containerd, kubelet, kube-proxy, CoreDNS ($K8S_NODE_IP:53, Service
#   kube-system/kube-dns $K8S_CLUSTER_DNS)
#   the `kubernetes` Service's endpoint: $K8S_NODE_IP:$K8S_APISERVER_PORT
#
# The node registers tainted $K8S_NODE_TAINT=true:NoSchedule and labelled
# $K8S_NODE_LABEL, so only pods that ask for it run there; kwok's fake nodes
# keep the rest. Nothing of the machine's own network or cgroups changes: the
# node's cgroups are children ($K8S_NODE_CGROUP) in each hierarchy, its
# /run, /var/lib and /var/log are tmpfs in its own mount namespace, and
# scripts/k8s/node-down.sh removes all of it.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
MATE_STEP=k8s-node

t0="$(date +%s)"
[[ $(id -u) == 0 ]] || mate_die "the real node needs root (network namespaces, mounts, cgroups)"
"$K8S_REPO_ROOT/scripts/k8s/tools.sh" --group node
kc get --raw /readyz >/dev/null 2>&1 || mate_die "the control plane is not running: run scripts/k8s/up.sh first"

D="$K8S_NODE_DIR"
PIDS="$D/pids"
LOGS="$D/logs"

node_ready() {
  [[ "$(kc get node "$K8S_NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}
alive() { [[ -f "$PIDS/$1.pid" ]] && kill -0 "$(cat "$PIDS/$1.pid")" 2>/dev/null; }
supervisor_alive() { alive supervisor; }

# What the running node was started from: these scripts and the binaries' stamps.
started_from="$(cat "${BASH_SOURCE[0]}" "$K8S_REPO_ROOT/scripts/k8s/node-inside.sh" "$K8S_REPO_ROOT/scripts/k8s/lib.sh" \
  "$K8S_TOOLS_DIR"/stamps/{kubelet,kube-proxy,containerd,containerd-shim-runc-v2,runc,bridge,coredns} 2>/dev/null | sha256sum | cut -c1-16)"
if supervisor_alive && alive registry && node_ready && [[ "$(cat "$D/started-from" 2>/dev/null)" == "$started_from" ]]; then
  mate_log "node $K8S_NODE_NAME already running (supervisor pid $(cat "$PIDS/supervisor.pid")); reused in $(($(date +%s) - t0))s"
  exit 0
fi
# Half a node (a crash, an interrupted run), or one started from other
# scripts or binaries, is taken down whole, then started anew.
"$K8S_REPO_ROOT/scripts/k8s/node-down.sh" >/dev/null

# The logs start with this start, so a failure below shows its own lines.
rm -f "$LOGS"/*.log
mkdir -p "$PIDS" "$LOGS" "$D/cni/conf" "$D/cni/ipam" "$D/containerd" "$D/kubelet" "$D/pod-logs"
chmod 700 "$D"

# ---------------------------------------------------------------- credentials
# The kubelet as system:node:<name> (the Node authorizer and NodeRestriction
# limit it to its own node and pods), kube-proxy with its built-in role, and
# CoreDNS with the read-only role below.
issue "node-$K8S_NODE_NAME" "/O=system:nodes/CN=system:node:$K8S_NODE_NAME"
issue kube-proxy "/CN=system:kube-proxy"
issue coredns "/CN=mate:coredns"
kubeconfig "node-$K8S_NODE_NAME" "$D/kubelet.kubeconfig"
kubeconfig kube-proxy "$D/kube-proxy.kubeconfig"
kubeconfig coredns "$D/coredns.kubeconfig"

kc apply --server-side --field-manager=mate-node-up -f - >/dev/null <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "mate:coredns"}
rules:
- {apiGroups: [""], resources: [services, namespaces], verbs: [list, watch]}
- {apiGroups: [discovery.k8s.io], resources: [endpointslices], verbs: [list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "mate:coredns"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "mate:coredns"}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: "mate:coredns"}]
EOF

# ------------------------------------------------------------------- configs
cat >"$D/containerd.toml" <<EOF
version = 3
root = "$D/containerd/root"
state = "$D/containerd/state"
disabled_plugins = ["io.containerd.nri.v1.nri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.blockfile", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$D/containerd/containerd.sock"
[plugins.'io.containerd.cri.v1.runtime']
  # The machine withholds CAP_SYS_RESOURCE: no oom_score_adj below containerd's own.
  restrict_oom_score_adj = true
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = "runc"
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        BinaryName = "$K8S_BIN/runc"
        Root = "$D/containerd/runc"
        SystemdCgroup = false
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ["$D/cni/bin"]
    conf_dir = "$D/cni/conf"
[plugins.'io.containerd.cri.v1.images']
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = "$K8S_PAUSE_IMAGE"
  [plugins.'io.containerd.cri.v1.images'.registry]
    config_path = "$D/containerd/certs.d"
EOF
# The node's registry speaks plain HTTP on loopback.
mkdir -p "$D/containerd/certs.d/$K8S_REGISTRY"
cat >"$D/containerd/certs.d/$K8S_REGISTRY/hosts.toml" <<EOF
server = "http://$K8S_REGISTRY"
[host."http://$K8S_REGISTRY"]
  capabilities = ["pull", "resolve"]
EOF

mkdir -p "$D/cni/bin"
for plugin in bridge host-local loopback portmap; do ln -sf "$K8S_BIN/$plugin" "$D/cni/bin/$plugin"; done
cat >"$D/cni/conf/10-mate.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "mate-pods", "plugins": [
  {"type": "bridge", "bridge": "mate-cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$K8S_POD_CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}],
            "dataDir": "$D/cni/ipam"}},
  {"type": "portmap", "capabilities": {"portMappings": true}},
  {"type": "loopback"}]}
EOF

# What pods with dnsPolicy Default get: the cluster DNS too (nothing outside answers here).
printf 'nameserver %s\n' "$K8S_CLUSTER_DNS" >"$D/resolv.conf"

cat >"$D/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This machine mounts cgroup v1 hierarchies: the documented opt-out.
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: $K8S_NODE_CGROUP
cgroupsPerQOS: true
enforceNodeAllocatable: []
containerRuntimeEndpoint: unix://$D/containerd/containerd.sock
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $K8S_PKI/ca.crt}
authorization: {mode: Webhook}
address: $K8S_NODE_IP
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
registerWithTaints:
- {key: $K8S_NODE_TAINT, value: "true", effect: NoSchedule}
clusterDNS: [$K8S_CLUSTER_DNS]
clusterDomain: cluster.local
resolvConf: $D/resolv.conf
podLogsDir: $D/pod-logs
failSwapOn: false
serializeImagePulls: false
maxPods: 40
evictionHard: {memory.available: 200Mi}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
EOF

cat >"$D/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: {kubeconfig: $D/kube-proxy.kubeconfig}
hostnameOverride: $K8S_NODE_NAME
clusterCIDR: $K8S_POD_CIDR
bindAddress: $K8S_NODE_IP
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# Pods on one bridge reach each other's Services through the node (no
# br_netfilter needed) when Service traffic is masqueraded.
iptables: {masqueradeAll: true}
# conntrack's table size is the machine's, not this namespace's: leave it alone.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF

cat >"$D/Corefile" <<EOF
.:53 {
    bind $K8S_NODE_IP
    errors
    health 127.0.0.1:8080
    ready 127.0.0.1:8181
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $D/coredns.kubeconfig mate-local
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 5
}
EOF

# -------------------------------------------------------- network namespace
mate_log "network namespace $K8S_NODE_NETNS: node $K8S_NODE_IP, pods $K8S_POD_CIDR"
ip netns add "$K8S_NODE_NETNS"
# Both ends of the pair live in the namespace: the node gets an address and a
# default route (the kubelet and kube-proxy need one), the machine nothing.
ip link add mate-n0 netns "$K8S_NODE_NETNS" type veth peer name mate-n1 netns "$K8S_NODE_NETNS"
node_ns ip link set lo up
node_ns ip addr add "$K8S_NODE_IP/24" dev mate-n0
node_ns ip addr add "$K8S_NODE_GATEWAY/24" dev mate-n1
node_ns ip link set mate-n0 up
node_ns ip link set mate-n1 up
node_ns ip route add default via "$K8S_NODE_GATEWAY" dev mate-n0 src "$K8S_NODE_IP"
# Per-namespace switches: routing between the pods' bridge and the node.
node_ns sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward'

# ----------------------------------------------------------------- cgroups
# The kubelet's cgroup root in every v1 hierarchy (cpuset needs its cpus and
# mems before a task may join).
for h in /sys/fs/cgroup/*/; do
  [[ -f "$h/cgroup.procs" && "$h" != */unified/ ]] || continue
  mkdir -p "$h$K8S_NODE_CGROUP"
  if [[ -f "$h/cpuset.cpus" ]]; then
    cat "$h/cpuset.cpus" >"$h$K8S_NODE_CGROUP/cpuset.cpus"
    cat "$h/cpuset.mems" >"$h$K8S_NODE_CGROUP/cpuset.mems"
  fi
done

# ------------------------------------------------------------------- start
# The registry the node pulls from: crane's, its blobs kept in the cache.
if ! alive registry; then
  mkdir -p "$MATE_CACHE/registry"
  setsid nohup "$K8S_BIN/crane" registry serve --address "$K8S_REGISTRY" --disk "$MATE_CACHE/registry" \
    >>"$LOGS/registry.log" 2>&1 </dev/null &
  echo $! >"$PIDS/registry.pid"
  for _ in $(seq 1 50); do curl -fs -o /dev/null "http://$K8S_REGISTRY/v2/" && break; sleep 0.1; done
fi
"$K8S_REPO_ROOT/scripts/k8s/images.sh" pause
# The apiserver's and the registry's loopback ports, reached from the node
# through Unix sockets.
node_forward_in "$K8S_APISERVER_PORT" 0.0.0.0
node_forward_in "$K8S_REGISTRY_PORT" 127.0.0.1
setsid nohup nsenter --net="/run/netns/$K8S_NODE_NETNS" \
  unshare --mount --propagation private "$K8S_REPO_ROOT/scripts/k8s/node-inside.sh" \
  >>"$LOGS/supervisor.log" 2>&1 </dev/null &
echo $! >"$PIDS/supervisor.pid"

# The `kubernetes` Service (the apiserver reconciles no endpoints for it: it
# listens on loopback only) and the cluster DNS Service point at the node.
kc apply --server-side --force-conflicts --field-manager=mate-node-up -f - >/dev/null <<EOF
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kubernetes-$K8S_NODE_NAME
  namespace: default
  labels: {kubernetes.io/service-name: kubernetes, endpointslice.kubernetes.io/managed-by: mate-node-up}
addressType: IPv4
endpoints: [{addresses: ["$K8S_NODE_IP"], conditions: {ready: true}}]
ports: [{name: https, port: $K8S_APISERVER_PORT, protocol: TCP}]
---
apiVersion: v1
kind: Service
metadata: {name: kube-dns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  clusterIP: $K8S_CLUSTER_DNS
  ports:
  - {name: dns, port: 53, protocol: UDP}
  - {name: dns-tcp, port: 53, protocol: TCP}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kube-dns-$K8S_NODE_NAME
  namespace: kube-system
  labels: {kubernetes.io/service-name: kube-dns, endpointslice.kubernetes.io/managed-by: mate-node-up}
addressType: IPv4
endpoints: [{addresses: ["$K8S_NODE_IP"], conditions: {ready: true}}]
ports:
- {name: dns, port: 53, protocol: UDP}
- {name: dns-tcp, port: 53, protocol: TCP}
EOF

deadline=$(($(date +%s) + 120))
until node_ready; do
  if ! supervisor_alive || (($(date +%s) > deadline)); then
    for log in supervisor containerd kubelet; do
      [[ -f "$LOGS/$log.log" ]] && { echo "--- $log" >&2; tail -n 20 "$LOGS/$log.log" >&2; }
    done
    mate_die "node $K8S_NODE_NAME did not become Ready"
  fi
  sleep 1
done
until node_ns curl -fs -o /dev/null http://127.0.0.1:8181/ready && node_ns curl -fs -o /dev/null http://127.0.0.1:10256/healthz; do
  (($(date +%s) <= deadline)) || mate_die "CoreDNS or kube-proxy did not become ready (logs: $LOGS)"
  sleep 1
done
echo "$started_from" >"$D/started-from"
mate_log "node $K8S_NODE_NAME Ready in $(($(date +%s) - t0))s (containerd $CONTAINERD_VERSION, runc $RUNC_VERSION, CNI $CNI_PLUGINS_VERSION, CoreDNS $COREDNS_VERSION; logs: $LOGS)"
