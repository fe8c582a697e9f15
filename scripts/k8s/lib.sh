# shellcheck shell=bash disable=SC2034  # sourced: the variables are used by the scripts
# Shared settings for scripts/k8s/*.sh: pinned versions and where things live.
# Sourced, never run. Every path can be overridden from the environment.

# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
MATE_STEP=k8s

K8S_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
K8S_TOOL_MODULE="$K8S_REPO_ROOT/tools/kube"

# k8s.io/kubernetes and etcd versions come from the tool module's go.mod, so
# there is one place to bump them. etcd is the version Kubernetes itself
# requires (go.etcd.io/etcd/server/v3 in k8s.io/kubernetes' go.mod).
K8S_VERSION="$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" { print $3 }' "$K8S_TOOL_MODULE/go.mod")"
ETCD_VERSION="$(awk '$1 == "go.etcd.io/etcd/server/v3" { print $2; exit }' "$K8S_TOOL_MODULE/go.mod")"

# Standalone Go tools, installed with `go install pkg@version`.
KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
ACTIONLINT_VERSION="${ACTIONLINT_VERSION:-v1.7.12}"
# kube-linter (golang.stackrox.io/kube-linter) is not served by the Go module
# proxy this project can reach; kube-score is the manifest linter used instead.
KUBE_SCORE_VERSION="${KUBE_SCORE_VERSION:-v1.20.0}"
# Prometheus Operator CRDs (ServiceMonitor, PrometheusRule, ...), taken from the
# released Go module's example/prometheus-operator-crd directory.
PROM_OPERATOR_VERSION="${PROM_OPERATOR_VERSION:-v0.94.1}"
# The real node (scripts/k8s/node-up.sh): container runtime, network, DNS, and
# crane, which assembles the images it runs (scripts/k8s/images.sh).
CONTAINERD_VERSION="${CONTAINERD_VERSION:-v2.4.2}"
RUNC_VERSION="${RUNC_VERSION:-v1.5.3}"
CNI_PLUGINS_VERSION="${CNI_PLUGINS_VERSION:-v1.10.0}"
COREDNS_VERSION="${COREDNS_VERSION:-v1.15.0}"
CRANE_VERSION="${CRANE_VERSION:-v0.22.1}"
TRAEFIK_VERSION="${TRAEFIK_VERSION:-v3.7.13}"
# kube-state-metrics, pinned in its tool module's go.mod (tools/kube-state-metrics).
KSM_VERSION="$(awk '$1 == "k8s.io/kube-state-metrics/v2" { print $2; exit }' "$K8S_REPO_ROOT/tools/kube-state-metrics/go.mod")"

K8S_TOOLS_DIR="${K8S_TOOLS_DIR:-$MATE_CACHE/tools/k8s-${K8S_VERSION#v}}"
K8S_BIN="$K8S_TOOLS_DIR/bin"
K8S_CRDS_DIR="$K8S_TOOLS_DIR/crds/prometheus-operator-$PROM_OPERATOR_VERSION"
K8S_KWOK_STAGES="$K8S_TOOLS_DIR/kwok-stages-$KWOK_VERSION.yaml"
K8S_RUN_DIR="${K8S_RUN_DIR:-$MATE_CACHE/run/k8s}"
K8S_KUBECONFIG="$K8S_RUN_DIR/kubeconfig"
K8S_PKI="$K8S_RUN_DIR/pki"
KUBECTL="$K8S_BIN/kubectl"

# Loopback ports of the local control plane (override if they clash).
K8S_ETCD_PORT="${K8S_ETCD_PORT:-23791}"
K8S_ETCD_PEER_PORT="${K8S_ETCD_PEER_PORT:-23801}"
K8S_APISERVER_PORT="${K8S_APISERVER_PORT:-26443}"
K8S_KCM_PORT="${K8S_KCM_PORT:-26257}"
K8S_SCHEDULER_PORT="${K8S_SCHEDULER_PORT:-26259}"
K8S_KWOK_PORT="${K8S_KWOK_PORT:-26080}"
APISERVER_URL="https://127.0.0.1:$K8S_APISERVER_PORT"
K8S_SERVICE_CIDR="${K8S_SERVICE_CIDR:-10.96.0.0/16}"
K8S_FAKE_NODES="${K8S_FAKE_NODES:-3}"

export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"

kc() { "$KUBECTL" --kubeconfig="$K8S_KUBECONFIG" "$@"; }

# cert_ok NAME: its certificate and key exist and stay valid for another day.
cert_ok() { [[ -f "$K8S_PKI/$1.crt" && -f "$K8S_PKI/$1.key" ]] && openssl x509 -checkend 86400 -noout -in "$K8S_PKI/$1.crt" >/dev/null 2>&1; }

# issue NAME SUBJECT [SAN] [CA]: a key and a certificate signed by CA (default
# the cluster CA): a serving certificate when SAN is given, a client one otherwise.
issue() {
  local name="$1" subj="$2" san="${3:-}" ca="${4:-ca}" ext
  cert_ok "$name" && return 0
  ext="$(mktemp)"
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [[ -n "$san" ]]; then echo "extendedKeyUsage=serverAuth"; echo "subjectAltName=$san"; else echo "extendedKeyUsage=clientAuth"; fi
  } >"$ext"
  openssl req -newkey rsa:2048 -nodes -sha256 -subj "$subj" -keyout "$K8S_PKI/$name.key" -out "$K8S_PKI/$name.csr" 2>/dev/null
  openssl x509 -req -in "$K8S_PKI/$name.csr" -CA "$K8S_PKI/$ca.crt" -CAkey "$K8S_PKI/$ca.key" -CAcreateserial \
    -days 365 -sha256 -extfile "$ext" -out "$K8S_PKI/$name.crt" 2>/dev/null
  rm -f "$ext" "$K8S_PKI/$name.csr"
  chmod 600 "$K8S_PKI/$name.key"
}

# kubeconfig NAME FILE: a kubeconfig for the client certificate NAME (kept if present).
kubeconfig() {
  local name="$1" file="$2"
  [[ -f "$file" ]] && return 0
  "$KUBECTL" config --kubeconfig="$file.tmp" set-cluster mate-local --server="$APISERVER_URL" \
    --certificate-authority="$K8S_PKI/ca.crt" --embed-certs=true >/dev/null
  "$KUBECTL" config --kubeconfig="$file.tmp" set-credentials "$name" \
    --client-certificate="$K8S_PKI/$name.crt" --client-key="$K8S_PKI/$name.key" --embed-certs=true >/dev/null
  "$KUBECTL" config --kubeconfig="$file.tmp" set-context mate-local --cluster=mate-local --user="$name" >/dev/null
  "$KUBECTL" config --kubeconfig="$file.tmp" use-context mate-local >/dev/null
  chmod 600 "$file.tmp" && mv "$file.tmp" "$file"
}

# ------------------------------------------------------------- the real node
# One kubelet with containerd, runc, CNI, kube-proxy and CoreDNS, in network
# and mount namespaces of its own (scripts/k8s/node-up.sh). Its addresses are
# private to that network namespace; loopback services reach it through socat
# pairs joined by Unix sockets (node-forward.sh).
K8S_NODE_NAME="${K8S_NODE_NAME:-mate-node-1}"
K8S_NODE_NETNS="${K8S_NODE_NETNS:-$K8S_NODE_NAME}"
K8S_NODE_DIR="${K8S_NODE_DIR:-$K8S_RUN_DIR/$K8S_NODE_NAME}"
K8S_NODE_IP="${K8S_NODE_IP:-10.213.0.2}"
K8S_NODE_GATEWAY="${K8S_NODE_GATEWAY:-10.213.0.1}"
K8S_POD_CIDR="${K8S_POD_CIDR:-10.214.0.0/24}"
K8S_CLUSTER_DNS="${K8S_CLUSTER_DNS:-10.96.0.10}"
# Pods land on the real node only when they tolerate this taint and select it.
K8S_NODE_TAINT="mate.dev/real-node"
K8S_NODE_LABEL="mate.dev/node=real"
K8S_NODE_CGROUP="/$K8S_NODE_NAME"

# node_ns COMMAND...: runs COMMAND in the node's network namespace. nsenter,
# not `ip netns exec`, which remounts /sys and so hides the machine's cgroups.
node_ns() { nsenter --net="/run/netns/$K8S_NODE_NETNS" "$@"; }
# The registry the node pulls from (crane's, on loopback; blobs cached on disk),
# and what it holds besides MATE's images (scripts/k8s/images.sh).
K8S_REGISTRY_PORT="${K8S_REGISTRY_PORT:-25000}"
K8S_REGISTRY="127.0.0.1:$K8S_REGISTRY_PORT"
K8S_PAUSE_IMAGE="$K8S_REGISTRY/pause:3.10.1"
# The Node.js of service/Dockerfile's base image (ARG NODE_IMAGE=node:<version>-...).
NODE_IMAGE_VERSION="$(sed -n 's/^ARG NODE_IMAGE=node:\([0-9.]*\)-.*/\1/p' "$K8S_REPO_ROOT/service/Dockerfile")"

# node_forward_in PORT [BIND]: the machine's 127.0.0.1:PORT, reachable in the
# node's namespace at BIND:PORT (default the node's address): a socat on each
# side of a Unix socket. Idempotent.
node_forward_in() {
  local port="$1" bind="${2:-$K8S_NODE_IP}" sock="$K8S_NODE_DIR/fwd/in-$1.sock"
  node_socat "fwd-in-$port-host" "" UNIX-LISTEN:"$sock",fork,unlink-early,mode=600 TCP:127.0.0.1:"$port"
  node_socat "fwd-in-$port-node" ns TCP-LISTEN:"$port",bind="$bind",fork,reuseaddr UNIX-CONNECT:"$sock"
}

# node_forward_out PORT TARGET: TARGET (address:port inside the node's
# namespace: a pod, a Service, the node) reachable at the machine's 127.0.0.1:PORT.
node_forward_out() {
  local port="$1" target="$2" sock="$K8S_NODE_DIR/fwd/out-$1.sock"
  node_socat "fwd-out-$port-node" ns UNIX-LISTEN:"$sock",fork,unlink-early,mode=600 TCP:"$target"
  node_socat "fwd-out-$port-host" "" TCP-LISTEN:"$port",bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:"$sock"
}

# node_socat NAME ns|"" ADDRESS ADDRESS: one socat, in the node's namespace or
# on the machine, unless its pid file names a live one.
node_socat() {
  local name="$1" where="$2" pidfile="$K8S_NODE_DIR/pids/$1.pid"
  shift 2
  [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null && return 0
  mkdir -p "$K8S_NODE_DIR/fwd" "$K8S_NODE_DIR/pids" "$K8S_NODE_DIR/logs"
  if [[ "$where" == ns ]]; then
    setsid nohup nsenter --net="/run/netns/$K8S_NODE_NETNS" socat "$@" >>"$K8S_NODE_DIR/logs/$name.log" 2>&1 </dev/null &
  else
    setsid nohup socat "$@" >>"$K8S_NODE_DIR/logs/$name.log" 2>&1 </dev/null &
  fi
  echo $! >"$pidfile"
  # The next hop must exist before anything connects through it.
  local i; for i in $(seq 1 50); do
    case "$1" in UNIX-LISTEN:*) local s="${1#UNIX-LISTEN:}"; [[ -S "${s%%,*}" ]] && return 0 ;; *) sleep 0.1; return 0 ;; esac
    sleep 0.1
  done
  mate_die "socat $name did not start (log: $K8S_NODE_DIR/logs/$name.log)"
}

# parse_purge_flag HELP_LINES ARG...: the down scripts' arguments: sets
# purge=1 for --purge; -h/--help prints the calling script's header lines.
parse_purge_flag() {
  local help="$1" arg
  shift
  purge=0
  for arg in "$@"; do
    case "$arg" in
      --purge) purge=1 ;;
      -h | --help) sed -n "${help}p" "$0"; exit 0 ;;
      *) mate_die "unknown argument: $arg (expected --purge)" ;;
    esac
  done
}
