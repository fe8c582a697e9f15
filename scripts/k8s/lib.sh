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

K8S_TOOLS_DIR="${K8S_TOOLS_DIR:-$MATE_CACHE/tools/k8s-${K8S_VERSION#v}}"
K8S_BIN="$K8S_TOOLS_DIR/bin"
K8S_CRDS_DIR="$K8S_TOOLS_DIR/crds/prometheus-operator-$PROM_OPERATOR_VERSION"
K8S_KWOK_STAGES="$K8S_TOOLS_DIR/kwok-stages-$KWOK_VERSION.yaml"
K8S_RUN_DIR="${K8S_RUN_DIR:-$MATE_CACHE/run/k8s}"
K8S_KUBECONFIG="$K8S_RUN_DIR/kubeconfig"

# Loopback ports of the local control plane (override if they clash).
K8S_ETCD_PORT="${K8S_ETCD_PORT:-23791}"
K8S_ETCD_PEER_PORT="${K8S_ETCD_PEER_PORT:-23801}"
K8S_APISERVER_PORT="${K8S_APISERVER_PORT:-26443}"
K8S_KCM_PORT="${K8S_KCM_PORT:-26257}"
K8S_SCHEDULER_PORT="${K8S_SCHEDULER_PORT:-26259}"
K8S_KWOK_PORT="${K8S_KWOK_PORT:-26080}"
K8S_SERVICE_CIDR="${K8S_SERVICE_CIDR:-10.96.0.0/16}"
K8S_FAKE_NODES="${K8S_FAKE_NODES:-3}"

export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
