#!/usr/bin/env bash
# Installs the local cluster's binaries into $MATE_CACHE/tools/k8s-<version>/bin.
# Two groups:
#   control-plane (the default)
#     etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl
#       built from tools/kube (k8s.io/kubernetes pinned in its go.mod)
#     kwok, helm, actionlint, kube-score      `go install pkg@version`
#     kwok's default stages (from its module) and the Prometheus Operator CRDs
#   node (the real node of scripts/k8s/node-up.sh)
#     kubelet, kube-proxy                      built from tools/kube
#     containerd, ctr, containerd-shim-runc-v2, runc (with seccomp), the CNI
#     plugins bridge/host-local/loopback/portmap, CoreDNS, crane
#                                              `go install pkg@version`
#     traefik (the Ingress controller)         its module's source (build_traefik)
#     pause                                    Kubernetes' own pause.c, static
#     kube-state-metrics                       built from tools/kube-state-metrics
#
# Idempotent: a tool whose binary and version stamp are present is skipped, so a
# second run costs seconds.
# Usage: scripts/k8s/tools.sh [--group control-plane|node] [tool...]
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

# group | name | how | what [| go build tags]
TOOLS=(
  "control-plane|etcd|module|go.etcd.io/etcd/server/v3"
  "control-plane|kube-apiserver|module|k8s.io/kubernetes/cmd/kube-apiserver"
  "control-plane|kube-controller-manager|module|k8s.io/kubernetes/cmd/kube-controller-manager"
  "control-plane|kube-scheduler|module|k8s.io/kubernetes/cmd/kube-scheduler"
  "control-plane|kubectl|module|k8s.io/kubernetes/cmd/kubectl"
  "control-plane|kwok|install|sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  "control-plane|helm|install|helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  "control-plane|actionlint|install|github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
  "control-plane|kube-score|install|github.com/zegl/kube-score/cmd/kube-score@$KUBE_SCORE_VERSION"
  "control-plane|kwok-stages|stages|sigs.k8s.io/kwok@$KWOK_VERSION"
  "control-plane|prometheus-operator-crds|crds|github.com/prometheus-operator/prometheus-operator@$PROM_OPERATOR_VERSION"
  "node|kubelet|module|k8s.io/kubernetes/cmd/kubelet"
  "node|kube-proxy|module|k8s.io/kubernetes/cmd/kube-proxy"
  "node|pause|pause|k8s.io/kubernetes@$K8S_VERSION"
  "node|containerd|install|github.com/containerd/containerd/v2/cmd/containerd@$CONTAINERD_VERSION"
  "node|ctr|install|github.com/containerd/containerd/v2/cmd/ctr@$CONTAINERD_VERSION"
  "node|containerd-shim-runc-v2|install|github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2@$CONTAINERD_VERSION"
  "node|runc|install|github.com/opencontainers/runc@$RUNC_VERSION|seccomp"
  "node|bridge|install|github.com/containernetworking/plugins/plugins/main/bridge@$CNI_PLUGINS_VERSION"
  "node|loopback|install|github.com/containernetworking/plugins/plugins/main/loopback@$CNI_PLUGINS_VERSION"
  "node|host-local|install|github.com/containernetworking/plugins/plugins/ipam/host-local@$CNI_PLUGINS_VERSION"
  "node|portmap|install|github.com/containernetworking/plugins/plugins/meta/portmap@$CNI_PLUGINS_VERSION"
  "node|coredns|install|github.com/coredns/coredns@$COREDNS_VERSION"
  "node|crane|install|github.com/google/go-containerregistry/cmd/crane@$CRANE_VERSION"
  "node|traefik|traefik|github.com/traefik/traefik/v3@$TRAEFIK_VERSION"
  "node|kube-state-metrics|toolmod|k8s.io/kube-state-metrics/v2"
)

# build_traefik TARGET MODULE@VERSION: Traefik (the real node's Ingress
# controller) from its module's source, built as the main module so that its
# go.mod's own replace directives apply. Three of its dependencies the module
# proxy does not serve are stood in for, and only those:
#   - github.com/traefik/traefik/dynamic/ext, a nested module left out of the
#     zip: the open-source build's extension points, which are empty structs;
#   - the containous fork of go-http-auth at the revision it pins: the fork's
#     revision Traefik v3.6 pinned instead (the same API, used by the basic
#     and digest auth middlewares only);
#   - the SDKs of lego's DNS-01 providers: the ACME DNS challenge is left out
#     (a DNS-01 resolver fails with "not built into this binary").
build_traefik() {
  local target="$1" what="$2" src dir
  src="$K8S_TOOLS_DIR/src/traefik-${what##*@}"
  dir="$(cd "$K8S_TOOLS_DIR" && GOFLAGS=-mod=mod go mod download -json "$what" | awk -F'"' '$2 == "Dir" { print $4 }')" || return 1
  rm -rf "$src" && mkdir -p "$(dirname "$src")" && cp -r "$dir" "$src" && chmod -R u+w "$src" || return 1
  mkdir -p "$src/pkg/config/dynamic/ext" "$src/pkg/provider/acme/nodns"
  printf 'module github.com/traefik/traefik/dynamic/ext\n\ngo 1.24.0\n' >"$src/pkg/config/dynamic/ext/go.mod"
  cat >"$src/pkg/config/dynamic/ext/ext.go" <<'GO'
// Package ext holds the dynamic configuration's extension points, empty in the open-source build.
package ext

type HTTP struct{}

type Router struct{}

type RouterIng struct{}

func (RouterIng) ToRouter() Router { return Router{} }
GO
  cat >"$src/pkg/provider/acme/nodns/nodns.go" <<'GO'
// Package nodns stands in for lego's DNS-01 providers, left out of this build.
package nodns

import (
	"fmt"

	"github.com/go-acme/lego/v5/challenge"
)

func NewDNSChallengeProviderByName(name string) (challenge.Provider, error) {
	return nil, fmt.Errorf("DNS-01 provider %q is not built into this binary", name)
}
GO
  sed -i 's#"github.com/go-acme/lego/v5/providers/dns"#dns "github.com/traefik/traefik/v3/pkg/provider/acme/nodns"#' "$src/pkg/provider/acme/provider.go"
  (cd "$src" && go mod edit -replace github.com/abbot/go-http-auth=github.com/containous/go-http-auth@v0.4.1-0.20200324110947-a37a7636d23e &&
    go build -mod=mod -trimpath -ldflags "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=${what##*@}" -o "$target.tmp" ./cmd/traefik) || return 1
  mv -f "$target.tmp" "$target"
}

group=control-plane
if [[ "${1:-}" == --group ]]; then group="${2:?--group takes control-plane or node}"; shift 2; fi
[[ "$group" == control-plane || "$group" == node ]] || mate_die "unknown group '$group' (control-plane or node)"
wanted=("$@")
is_wanted() { # GROUP NAME
  [[ ${#wanted[@]} -eq 0 ]] && { [[ "$1" == "$group" ]]; return; }
  local w; for w in "${wanted[@]}"; do [[ "$w" == "$2" ]] && return 0; done
  return 1
}
if [[ "$group" == node ]]; then
  # runc's seccomp support links libseccomp; iptables is what kube-proxy and
  # the CNI portmap plugin program; socat joins the node's network namespace
  # to loopback (scripts/k8s/node-up.sh); pause is compiled with gcc.
  mate_require_commands gcc=gcc pkg-config=pkg-config iptables=iptables socat=socat
  [[ -f /usr/include/seccomp.h ]] || mate_apt_install libseccomp-dev
fi

installed=() skipped=()
for entry in "${TOOLS[@]}"; do
  IFS='|' read -r tool_group name how what tags <<<"$entry"
  is_wanted "$tool_group" "$name" || continue
  case "$how" in
    module) stamp="$module_stamp"; target="$K8S_BIN/$name" ;;
    install) stamp="$what ${tags:+tags=$tags }$go_version"; target="$K8S_BIN/$name" ;;
    pause) stamp="$what $(gcc -dumpfullversion)"; target="$K8S_BIN/$name" ;;
    traefik) stamp="$what $go_version"; target="$K8S_BIN/$name" ;;
    toolmod) stamp="$(cat "$K8S_REPO_ROOT/tools/$name"/go.{mod,sum} | sha256sum | cut -c1-16) $go_version"; target="$K8S_BIN/$name" ;;
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
      (cd "$K8S_TOOLS_DIR" && GOBIN="$K8S_BIN" CGO_ENABLED="${tags:+1}" go install -trimpath -tags "$tags" -ldflags "-s -w" "$what") >"$log" 2>&1 || ok=0
      ;;
    pause)
      # The pod sandbox's process, from the pinned Kubernetes source; static, so
      # its image needs nothing else (scripts/k8s/images.sh).
      dir="$(cd "$K8S_TOOL_MODULE" && go mod download -json "$what" 2>"$log" | awk -F'"' '$2 == "Dir" { print $4 }')" || ok=0
      [[ $ok == 1 ]] && { gcc -Os -static -Wall -DVERSION="$K8S_VERSION" -o "$target.tmp" "$dir/build/pause/linux/pause.c" >>"$log" 2>&1 || ok=0; }
      [[ $ok == 1 ]] && mv -f "$target.tmp" "$target"
      ;;
    traefik) build_traefik "$target" "$what" >"$log" 2>&1 || ok=0 ;;
    toolmod)
      (cd "$K8S_REPO_ROOT/tools/$name" && GOFLAGS=-mod=readonly go build -trimpath -ldflags "-s -w" -o "$target.tmp" "$what") >"$log" 2>&1 || ok=0
      [[ $ok == 1 ]] && mv -f "$target.tmp" "$target"
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

if [[ "$group" == node ]]; then
  mate_log "tools in $K8S_BIN (Kubernetes $K8S_VERSION, containerd $CONTAINERD_VERSION, runc $RUNC_VERSION, CNI plugins $CNI_PLUGINS_VERSION, CoreDNS $COREDNS_VERSION, crane $CRANE_VERSION, Traefik $TRAEFIK_VERSION, kube-state-metrics $KSM_VERSION)"
else
  mate_log "tools in $K8S_BIN (Kubernetes $K8S_VERSION, etcd $ETCD_VERSION, kwok $KWOK_VERSION, helm $HELM_VERSION, actionlint $ACTIONLINT_VERSION, kube-score $KUBE_SCORE_VERSION, prometheus-operator CRDs $PROM_OPERATOR_VERSION)"
fi
mate_log "installed: ${installed[*]:-none}; already present: ${skipped[*]:-none}; total $(mate_elapsed "$t_all")"
