#!/usr/bin/env bash
# Installs the local control plane's binaries into $MATE_CACHE/tools/k8s-<version>/bin:
#   etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl
#     built from tools/kube (k8s.io/kubernetes pinned in its go.mod)
#   kwok, helm, actionlint, kube-score      `go install pkg@version`
# kwok's default stages (from its module) and the Prometheus Operator CRDs.
#
# Idempotent: a tool whose binary and version stamp are present is skipped, so a
# second run costs seconds. Usage: scripts/k8s/tools.sh [tool...]  (default: all)
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v go >/dev/null || mate_die "go is not on PATH (needs Go >= 1.26)"
mkdir -p "$K8S_BIN" "$K8S_TOOLS_DIR/stamps"

t_all="$(mate_now)"
go_version="$(go env GOVERSION)"
# One stamp for everything built from the tool module: its go.mod/go.sum and Go.
module_stamp="$(cat "$K8S_TOOL_MODULE/go.mod" "$K8S_TOOL_MODULE/go.sum" | sha256sum | cut -c1-16) $go_version"

k8s_minor="${K8S_VERSION#v1.}"; k8s_minor="${k8s_minor%%.*}"
k8s_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$k8s_minor -X $pkg.gitTreeState=clean"
done

# name | how | what
TOOLS=(
  "etcd|module|go.etcd.io/etcd/server/v3"
  "kube-apiserver|module|k8s.io/kubernetes/cmd/kube-apiserver"
  "kube-controller-manager|module|k8s.io/kubernetes/cmd/kube-controller-manager"
  "kube-scheduler|module|k8s.io/kubernetes/cmd/kube-scheduler"
  "kubectl|module|k8s.io/kubernetes/cmd/kubectl"
  "kwok|install|sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  "helm|install|helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  "actionlint|install|github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
  "kube-score|install|github.com/zegl/kube-score/cmd/kube-score@$KUBE_SCORE_VERSION"
  "kwok-stages|stages|sigs.k8s.io/kwok@$KWOK_VERSION"
  "prometheus-operator-crds|crds|github.com/prometheus-operator/prometheus-operator@$PROM_OPERATOR_VERSION"
)

wanted=("$@")
is_wanted() {
  [[ ${#wanted[@]} -eq 0 ]] && return 0
  local w; for w in "${wanted[@]}"; do [[ "$w" == "$1" ]] && return 0; done
  return 1
}

installed=() skipped=()
for entry in "${TOOLS[@]}"; do
  IFS='|' read -r name how what <<<"$entry"
  is_wanted "$name" || continue
  case "$how" in
    module) stamp="$module_stamp"; target="$K8S_BIN/$name" ;;
    install) stamp="$what $go_version"; target="$K8S_BIN/$name" ;;
    crds) stamp="$what"; target="$K8S_CRDS_DIR" ;;
    stages) stamp="$what"; target="$K8S_KWOK_STAGES" ;;
  esac
  stamp_file="$K8S_TOOLS_DIR/stamps/$name"
  if [[ -e "$target" && -f "$stamp_file" && "$(cat "$stamp_file")" == "$stamp" ]]; then
    skipped+=("$name"); continue
  fi

  t="$(mate_now)"
  log="$K8S_TOOLS_DIR/stamps/$name.log"
  mate_log "building $name ($what) ..."
  ok=1
  case "$how" in
    module)
      (cd "$K8S_TOOL_MODULE" && go build -trimpath -ldflags "$k8s_ldflags" -o "$target.tmp" "$what") >"$log" 2>&1 || ok=0
      [[ $ok == 1 ]] && mv -f "$target.tmp" "$target"
      ;;
    install)
      (cd "$K8S_TOOLS_DIR" && GOBIN="$K8S_BIN" go install -trimpath -ldflags "-s -w" "$what") >"$log" 2>&1 || ok=0
      ;;
    crds)
      dir="$(cd "$K8S_TOOLS_DIR" && GOFLAGS=-mod=mod go mod download -json "$what" 2>"$log" | awk -F'"' '$2 == "Dir" { print $4 }')" || ok=0
      if [[ $ok == 1 && -d "$dir/example/prometheus-operator-crd" ]]; then
        rm -rf "$target.tmp" && mkdir -p "$target.tmp"
        cp "$dir"/example/prometheus-operator-crd/*.yaml "$target.tmp/"
        chmod -R u+w "$target.tmp" && rm -rf "$target" && mv "$target.tmp" "$target"
      else
        ok=0; echo "no example/prometheus-operator-crd in ${dir:-<download failed>}" >>"$log"
      fi
      ;;
    stages)
      # kwok's own default stages (what `kwokctl` configures): node init, node
      # heartbeat with lease, pod ready/complete/delete.
      dir="$(cd "$K8S_TOOLS_DIR" && GOFLAGS=-mod=mod go mod download -json "$what" 2>"$log" | awk -F'"' '$2 == "Dir" { print $4 }')" || ok=0
      stage_files=(node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml
        pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml)
      if [[ $ok == 1 ]]; then
        : >"$target.tmp"
        for f in "${stage_files[@]}"; do
          [[ -f "$dir/kustomize/stage/$f" ]] || { ok=0; echo "missing kustomize/stage/$f in $dir" >>"$log"; break; }
          { echo "---"; cat "$dir/kustomize/stage/$f"; } >>"$target.tmp"
        done
        [[ $ok == 1 ]] && mv -f "$target.tmp" "$target"
      fi
      ;;
  esac
  if [[ $ok != 1 ]]; then
    mate_log_to "$log"
    mate_die "FAILED to build $name ($what) after $(mate_elapsed "$t"); full log: $log"
  fi
  echo "$stamp" >"$stamp_file"
  installed+=("$name")
  mate_log "built $name in $(mate_elapsed "$t")"
done

mate_log "tools in $K8S_BIN (Kubernetes $K8S_VERSION, etcd $ETCD_VERSION, kwok $KWOK_VERSION, helm $HELM_VERSION, actionlint $ACTIONLINT_VERSION, kube-score $KUBE_SCORE_VERSION, prometheus-operator CRDs $PROM_OPERATOR_VERSION)"
mate_log "installed: ${installed[*]:-none}; already present: ${skipped[*]:-none}; total $(mate_elapsed "$t_all")"
