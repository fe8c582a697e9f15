#!/usr/bin/env bash
# The fresh-machine rehearsal (`npm run rehearse`; not part of CI). Runs the
# README's two commands, then .ci/run, on a machine that has never seen MATE:
#   - a clean Debian 12 root made with debootstrap (the pristine base is kept
#     between runs; each run works on a fresh copy of it),
#   - a fresh clone of REF (default HEAD: commit what you want rehearsed) with
#     ../shared beside it,
#   - the machine's Node.js and Go installations bind-mounted read-only, as a
#     new machine of this kind has them; nothing of the MATE cache, the Go
#     module or build caches or this machine's apt state,
#   - its own PID, mount and network namespaces: only loopback inside, and the
#     package registries through registry-proxy.mjs; the machine's own
#     services (and its running test services) are out of reach; the
#     machine's cgroup hierarchies, in which the real node makes children of
#     its own name (mate-rehearse-node), removed at the end.
# Prints each set-up step's time and ends with the test runner's summaries.
# Cleans up (processes, mounts, namespace, the copied root) even when
# interrupted; the log stays in $REHEARSE_DIR/logs.
#   npm run rehearse [-- [--ref REF] [--keep] [--phases start,test,ci]]
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
MATE_STEP=rehearse

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
shared="$(cd "$repo/.." && pwd)/shared"
REHEARSE_DIR="${REHEARSE_DIR:-/var/tmp/mate-rehearsal}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# What a new machine of this kind has besides Node.js and Go (see the env notes).
BASE_PACKAGES=ca-certificates,curl,git,build-essential,python3,procps

ref=HEAD keep=0 phases=start,test,ci
while (($#)); do
  case $1 in
    --ref) ref=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --phases) phases=$2; shift 2 ;;
    -h | --help) sed -n '2,18p' "$0"; exit 0 ;;
    *) mate_die "unknown argument $1 (see --help)" ;;
  esac
done

[[ $(id -u) == 0 ]] || mate_die "the rehearsal needs root (debootstrap, mounts, namespaces)"
[[ -d $shared ]] || mate_die "no shared/ beside the repository ($shared)"
commit=$(git -C "$repo" rev-parse --verify "$ref^{commit}") || mate_die "not a commit: $ref"
node_bin=$(command -v node) || mate_die "no node on PATH"
node_prefix=$(cd "$(dirname "$(readlink -f "$node_bin")")/.." && pwd)
go_root=$("$(mate_find_go)" env GOROOT)
mate_require_commands debootstrap=debootstrap ip=iproute2 unshare=util-linux nsenter=util-linux

base="$REHEARSE_DIR/base-bookworm"
root="$REHEARSE_DIR/root"
logs="$REHEARSE_DIR/logs"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
log="$logs/$stamp.log"
ns="mate-rehearse-$$"
node_name="mate-rehearse-node"
proxy_pid="" inner_pid=""
mkdir -p "$logs"

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  # Killing the PID namespace's first process ends every process inside it.
  [[ -z $inner_pid ]] || kill -KILL "$inner_pid" 2>/dev/null || true
  [[ -z $proxy_pid ]] || kill -TERM "$proxy_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  ip netns delete "$ns" 2>/dev/null || true
  # The real node's cgroups, emptied by the end of its PID namespace.
  for h in /sys/fs/cgroup/*/"$node_name"; do
    [[ ! -d $h ]] || find "$h" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
  # The mounts lived in the private mount namespace; make sure none leaked.
  if findmnt -rn -o TARGET | grep -q "^$root"; then
    findmnt -rn -o TARGET | grep "^$root" | sort -r | xargs -r -n1 umount -l || true
  fi
  if ((keep == 0)) && [[ -d $root ]] && ! findmnt -rn -o TARGET | grep -q "^$root"; then rm -rf "$root"; fi
  mate_log "log: $log"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

phase_start=$SECONDS
phase() { printf '==> rehearsal: %s\n' "$1" | tee -a "$log"; phase_start=$SECONDS; }
phase_done() { printf '==> rehearsal: %s took %d s\n' "$1" $((SECONDS - phase_start)) | tee -a "$log"; }

# ---- a pristine Debian 12 base, made once ------------------------------------------
if [[ ! -f $base/.complete ]]; then
  phase "debootstrap Debian 12 ($BASE_PACKAGES)"
  rm -rf "$base.tmp"
  mate_log_to "$logs/debootstrap.log"
  debootstrap --variant=minbase --include="$BASE_PACKAGES" bookworm "$base.tmp" "$DEBIAN_MIRROR" >"$MATE_STEP_LOG" 2>&1
  mv "$base.tmp" "$base"
  touch "$base/.complete"
  phase_done debootstrap
fi

# ---- this run's root: a copy of the base, the repository, shared/ --------------------
phase "a fresh root with a clone of ${ref} ($commit)"
rm -rf "$root"
cp -a "$base" "$root"
rm -f "$root/.complete" "$root/etc/apt/sources.list"
cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $DEBIAN_MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${DEBIAN_MIRROR%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
: >"$root/etc/resolv.conf"
# The machine's own trust and client settings, as every machine of this kind
# has them (its registries are reached through a TLS-inspecting egress whose
# CA it trusts): local CA certificates, npm's global and user config.
cp -a /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/"
chroot "$root" update-ca-certificates >>"$log" 2>&1
for npmrc in /etc/npmrc "$node_prefix/etc/npmrc" "$HOME/.npmrc"; do
  [[ ! -f $npmrc ]] || install -D -m 644 "$npmrc" "$root$npmrc"
done
mkdir -p "$root/work" "$root/usr/local/go" "$root/$node_prefix/lib/node_modules" "$root/$node_prefix/include/node" "$root/run"
touch "$root/$node_prefix/bin/node"
for cmd in npm npx; do ln -sfn "../lib/node_modules/npm/bin/$cmd-cli.js" "$root/$node_prefix/bin/$cmd"; done
git clone -q --no-hardlinks "$repo" "$root/work/main"
git -C "$root/work/main" checkout -q --detach "$commit"
cp -a "$shared" "$root/work/shared"
chmod -R a-w "$root/work/shared"
cp "$here/registry-proxy.mjs" "$here/inside.sh" "$root/run/"
phase_done "root"

# ---- network: loopback only, the registries through the proxy ------------------------
ip netns add "$ns"
ip -n "$ns" link set lo up
node "$here/registry-proxy.mjs" serve "$root/run/registry-proxy.sock" >>"$log" 2>&1 &
proxy_pid=$!

ca_env=""
for var in NODE_EXTRA_CA_CERTS SSL_CERT_FILE SSL_CERT_DIR CURL_CA_BUNDLE GIT_SSL_CAINFO; do
  [[ -z ${!var:-} ]] || ca_env+=" $var=${!var}"
done

# ---- inside: private mounts, a PID namespace, the root ----------------------------------
mounts=$(
  cat <<EOF
set -e
# The root must be a mount point of its own, as / is on a machine: tools that
# make a mount namespace (unshare --mount) change its propagation.
mount --bind '$root' '$root'
mount -t proc proc '$root/proc'
mount -t sysfs -o ro sysfs '$root/sys'
# The machine's cgroup hierarchies, where the real node makes its own children
# (K8S_NODE_NAME below keeps them apart from a node of the machine's own).
mount --rbind /sys/fs/cgroup '$root/sys/fs/cgroup'
mount --bind /dev '$root/dev'
mount -t tmpfs tmpfs '$root/dev/shm'
mount -t tmpfs tmpfs '$root/tmp'
for pair in '$go_root:/usr/local/go' '$node_prefix/bin/node:$node_prefix/bin/node' \
  '$node_prefix/lib/node_modules:$node_prefix/lib/node_modules' '$node_prefix/include/node:$node_prefix/include/node'; do
  mount --bind "\${pair%%:*}" "$root\${pair#*:}"
  mount -o remount,bind,ro "$root\${pair#*:}"
done
# Its own root, as a machine's is (pivot_root, not chroot): a chroot leaves this
# namespace's root at the machine's /, where runc's exec into a container of
# the real node lands (setns) and finds none of the container's files.
mkdir -p '$root/.old-root'
cd '$root'
pivot_root . .old-root
umount -l /.old-root
rmdir /.old-root
cd /
exec /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 $ca_env \
  PATH=/usr/local/go/bin:/root/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  http_proxy=http://127.0.0.1:3128 https_proxy=http://127.0.0.1:3128 \
  HTTP_PROXY=http://127.0.0.1:3128 HTTPS_PROXY=http://127.0.0.1:3128 \
  no_proxy=localhost,127.0.0.1,::1 NO_PROXY=localhost,127.0.0.1,::1 \
  K8S_NODE_NAME=$node_name \
  bash /run/inside.sh '$phases'
EOF
)
phase "inside the clean root: $phases"
# nsenter, not `ip netns exec`, which would mount a /sys without the cgroups.
nsenter --net="/run/netns/$ns" unshare --mount --propagation private --pid --fork --kill-child bash -c "$mounts" \
  > >(tee -a "$log") 2>&1 &
inner_pid=$!
rc=0
wait "$inner_pid" || rc=$?
inner_pid=""
phase_done "inside"

printf '\n==== rehearsal summary (%s, %s) ====\n' "$commit" "$stamp"
grep -E '^==> |^ℹ (tests|pass|fail|cancelled|skipped|todo|duration_ms) ' "$log" || true
exit "$rc"
