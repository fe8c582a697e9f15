#!/usr/bin/env bash
# Starts (or reuses) a local Kubernetes control plane on loopback:
#   etcd -> kube-apiserver -> kube-controller-manager, kube-scheduler -> kwok
# plus $K8S_FAKE_NODES fake nodes managed by kwok and the Prometheus Operator CRDs.
# Writes an admin kubeconfig to $MATE_CACHE/run/k8s/kubeconfig and prints it.
#
# Components whose pid file points at a live process are reused; a missing
# one is (re)started. Stop everything with scripts/k8s/down.sh.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

t0="$(date +%s)"
mate_require_commands curl=curl openssl=openssl
"$K8S_REPO_ROOT/scripts/k8s/tools.sh"

PKI="$K8S_PKI"
PIDS="$K8S_RUN_DIR/pids"
LOGS="$K8S_RUN_DIR/logs"
mkdir -p "$PKI" "$PIDS" "$LOGS" "$K8S_RUN_DIR/etcd"
chmod 700 "$K8S_RUN_DIR" "$PKI"

started=() reused=()

# ---------------------------------------------------------------- certificates
# A CA, the apiserver's serving certificate, one client certificate per
# component, and the service-account signing key pair. Kept across runs;
# re-made when missing or expiring within a day.
if ! cert_ok ca; then
  mate_log "generating CA and certificates in $PKI"
  rm -f "$PKI"/*.crt "$PKI"/*.key "$PKI"/*.kubeconfig
  openssl req -x509 -newkey rsa:2048 -nodes -days 825 -sha256 -subj "/CN=mate-local-ca" \
    -keyout "$PKI/ca.key" -out "$PKI/ca.crt" 2>/dev/null
fi

# The front proxy (aggregation layer) has its own CA, as Kubernetes advises.
if ! cert_ok front-proxy-ca; then
  rm -f "$PKI"/front-proxy-*
  openssl req -x509 -newkey rsa:2048 -nodes -days 825 -sha256 -subj "/CN=mate-local-front-proxy-ca" \
    -keyout "$PKI/front-proxy-ca.key" -out "$PKI/front-proxy-ca.crt" 2>/dev/null
fi

service_ip="$(awk -F'[./]' '{ printf "%s.%s.%s.%d", $1, $2, $3, $4 + 1 }' <<<"$K8S_SERVICE_CIDR")"
issue apiserver "/CN=kube-apiserver" \
  "IP:127.0.0.1,IP:$service_ip,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
issue admin "/O=system:masters/CN=mate-admin"
issue controller-manager "/CN=system:kube-controller-manager"
issue scheduler "/CN=system:kube-scheduler"
# kwok updates status of nodes and pods it fakes, and their leases; it gets
# cluster-admin through system:masters because it stands in for every kubelet.
issue kwok "/O=system:masters/CN=kwok-controller"
issue front-proxy-client "/CN=front-proxy-client" "" front-proxy-ca
if [[ ! -f "$PKI/sa.key" || ! -f "$PKI/sa.pub" ]]; then
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI/sa.key" 2>/dev/null
  openssl pkey -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub"
fi
chmod 600 "$PKI"/*.key

kubeconfig admin "$K8S_KUBECONFIG"
for c in controller-manager scheduler kwok; do kubeconfig "$c" "$PKI/$c.kubeconfig"; done

# ------------------------------------------------------------------ processes
alive() { # NAME -> 0 if its pid file names a live process running our binary
  local pidfile="$PIDS/$1.pid" pid
  [[ -f "$pidfile" ]] || return 1
  pid="$(cat "$pidfile")"
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$K8S_BIN/$2"
}

start() { # NAME BINARY ARGS...
  local name="$1" bin="$2"; shift 2
  if alive "$name" "$bin"; then reused+=("$name(pid $(cat "$PIDS/$name.pid"))"); return 0; fi
  setsid nohup "$K8S_BIN/$bin" "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$PIDS/$name.pid"
  started+=("$name(pid $!)")
}

wait_for() { # WHAT SECONDS COMMAND...
  local what="$1" secs="$2"; shift 2
  local deadline=$(($(date +%s) + secs))
  until "$@" >/dev/null 2>&1; do
    if (($(date +%s) > deadline)); then
      mate_log "timed out after ${secs}s waiting for $what; last log lines:"
      local name; for name in etcd kube-apiserver kube-controller-manager kube-scheduler kwok; do
        [[ -f "$LOGS/$name.log" ]] && { echo "--- $name" >&2; tail -n 15 "$LOGS/$name.log" >&2; }
      done
      exit 1
    fi
    sleep 1
  done
}


# etcd (plain HTTP, loopback only; fsync off because this is disposable test state)
start etcd etcd --name=mate-local --data-dir="$K8S_RUN_DIR/etcd" \
  --listen-client-urls="http://127.0.0.1:$K8S_ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$K8S_ETCD_PORT" \
  --listen-peer-urls="http://127.0.0.1:$K8S_ETCD_PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$K8S_ETCD_PEER_PORT" \
  --initial-cluster="mate-local=http://127.0.0.1:$K8S_ETCD_PEER_PORT" \
  --unsafe-no-fsync --quota-backend-bytes=2147483648 --log-level=warn
wait_for "etcd health" 60 curl -fsS "http://127.0.0.1:$K8S_ETCD_PORT/health"

start kube-apiserver kube-apiserver \
  --etcd-servers="http://127.0.0.1:$K8S_ETCD_PORT" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$K8S_APISERVER_PORT" \
  --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
  --client-ca-file="$PKI/ca.crt" \
  --requestheader-client-ca-file="$PKI/front-proxy-ca.crt" --requestheader-allowed-names=front-proxy-client \
  --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
  --requestheader-extra-headers-prefix=X-Remote-Extra- \
  --proxy-client-cert-file="$PKI/front-proxy-client.crt" --proxy-client-key-file="$PKI/front-proxy-client.key" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
  --service-cluster-ip-range="$K8S_SERVICE_CIDR" \
  --authorization-mode=Node,RBAC \
  --enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,DefaultStorageClass,DefaultTolerationSeconds,NodeRestriction,PodSecurity,Priority,RuntimeClass,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ValidatingAdmissionPolicy,ResourceQuota \
  --allow-privileged=false --anonymous-auth=true --profiling=false \
  --endpoint-reconciler-type=none
wait_for "kube-apiserver /readyz" 180 kc get --raw /readyz

start kube-controller-manager kube-controller-manager \
  --kubeconfig="$PKI/controller-manager.kubeconfig" \
  --authentication-kubeconfig="$PKI/controller-manager.kubeconfig" \
  --authorization-kubeconfig="$PKI/controller-manager.kubeconfig" \
  --bind-address=127.0.0.1 --secure-port="$K8S_KCM_PORT" \
  --controllers='*' --use-service-account-credentials=true \
  --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
  --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
  --service-cluster-ip-range="$K8S_SERVICE_CIDR" --allocate-node-cidrs=false \
  --leader-elect=false --profiling=false

start kube-scheduler kube-scheduler \
  --kubeconfig="$PKI/scheduler.kubeconfig" \
  --authentication-kubeconfig="$PKI/scheduler.kubeconfig" \
  --authorization-kubeconfig="$PKI/scheduler.kubeconfig" \
  --bind-address=127.0.0.1 --secure-port="$K8S_SCHEDULER_PORT" \
  --leader-elect=false --profiling=false

# kwok: only nodes annotated kwok.x-k8s.io/node=fake, with kwok's default stages
# (nodes become Ready with a lease heartbeat; pods become Running/Ready, and are
# completed/deleted like a kubelet would).
start kwok kwok \
  --kubeconfig="$PKI/kwok.kubeconfig" --config="$K8S_KWOK_STAGES" \
  --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
  --node-lease-duration-seconds=40 --cidr=10.244.0.0/16 --node-ip=10.0.0.1 \
  --server-address="127.0.0.1:$K8S_KWOK_PORT"

wait_for "kube-controller-manager /healthz" 120 curl -fsSk "https://127.0.0.1:$K8S_KCM_PORT/healthz"
wait_for "kube-scheduler /healthz" 120 curl -fsSk "https://127.0.0.1:$K8S_SCHEDULER_PORT/healthz"

# ------------------------------------------------------------ fake nodes, CRDs
nodes=()
for i in $(seq 1 "$K8S_FAKE_NODES"); do nodes+=("kwok-node-$i"); done
for n in "${nodes[@]}"; do
  cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: $n
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    type: kwok
    kubernetes.io/arch: amd64
    kubernetes.io/os: linux
    kubernetes.io/hostname: $n
    kubernetes.io/role: agent
    node-role.kubernetes.io/agent: ""
    topology.kubernetes.io/zone: zone-$(( ( ${n##*-} - 1 ) % 3 + 1 ))
status:
  allocatable: {cpu: "16", memory: 64Gi, pods: "110", ephemeral-storage: 100Gi}
  capacity: {cpu: "16", memory: 64Gi, pods: "110", ephemeral-storage: 100Gi}
EOF
done | kc apply --server-side --field-manager=mate-up -f - >/dev/null
wait_for "${#nodes[@]} Ready kwok nodes" 120 kc wait --for=condition=Ready --timeout=5s "${nodes[@]/#/node/}"

# The CRDs carry the operator version they come from; skip the (large) apply
# when the pinned version is already installed.
installed_crds="$(kc get crd servicemonitors.monitoring.coreos.com prometheusrules.monitoring.coreos.com \
  -o jsonpath='{range .items[*]}{.metadata.annotations.operator\.prometheus\.io/version}{" "}{end}' 2>/dev/null || true)"
if [[ "$installed_crds" != "${PROM_OPERATOR_VERSION#v} ${PROM_OPERATOR_VERSION#v} " ]]; then
  kc apply --server-side --force-conflicts --field-manager=mate-up -f "$K8S_CRDS_DIR" >/dev/null
fi
kc wait --for=condition=Established --timeout=60s -f "$K8S_CRDS_DIR" >/dev/null
wait_for "the default ServiceAccount" 60 kc -n default get serviceaccount default

mate_log "control plane ready in $(($(date +%s) - t0))s (Kubernetes $K8S_VERSION, etcd $ETCD_VERSION, kwok $KWOK_VERSION)"
mate_log "started: ${started[*]:-none}"
mate_log "reused:  ${reused[*]:-none}"
mate_log "nodes:   ${nodes[*]} (kwok); Prometheus Operator CRDs $PROM_OPERATOR_VERSION"
mate_log "logs:    $LOGS"
mate_log "use it:  export KUBECONFIG=$K8S_KUBECONFIG MATE_KUBECONFIG=$K8S_KUBECONFIG PATH=$K8S_BIN:\$PATH"
echo "$K8S_KUBECONFIG"
