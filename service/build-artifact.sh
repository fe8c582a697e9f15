#!/bin/sh
# How the service's production artifact is built: the only copy of these
# commands. service/Dockerfile runs this script in its `build` stage, and
# tests/image/production-artifact.test.ts replays that stage on the host, so the
# image and the test cannot drift apart. Change the build here.
#
# Run from the build root (the Dockerfile's WORKDIR), which holds package.json,
# package-lock.json, tsconfig.base.json and the service/ workspace:
#
#   sh service/build-artifact.sh deps
#       npm ci of the service workspace exactly as locked, dev dependencies
#       included (the compiler), without the root's lint tooling. Native modules
#       are built here, in the image's own base: better-sqlite3 downloads a
#       prebuilt binary or compiles from source; argon2 ships N-API prebuilds.
#
#   sh service/build-artifact.sh artifact OUT
#       compiles service/src into service/dist (tsconfig.build.json), bundles
#       it into its entry points (service/bundle.mjs, esbuild), removes
#       the dev dependencies from the installed tree (npm prune: the compiled
#       native modules are kept, nothing is reinstalled), and assembles
#         OUT/app/    node_modules/ (production only) and service/{package.json,dist/}
#         OUT/data/   an empty directory: the image's /data volume mount point
set -eu

# node-gyp compiles against the headers of the node that runs it (the official
# node images and the Debian/NodeSource packages ship them) instead of
# downloading them.
node_prefix=$(dirname "$(dirname "$(command -v node)")")
if [ -z "${npm_config_nodedir:-}" ] && [ -f "$node_prefix/include/node/node.h" ]; then
  npm_config_nodedir=$node_prefix
  export npm_config_nodedir
fi

workspace="--workspace service --include-workspace-root=false"

case "${1:-}" in
  deps)
    # shellcheck disable=SC2086 # $workspace is two flags
    npm ci $workspace --no-audit --no-fund
    ;;
  artifact)
    out=${2:?usage: build-artifact.sh artifact OUT}
    if [ -e "$out" ]; then
      echo "build-artifact.sh: $out already exists" >&2
      exit 1
    fi
    npm run build --workspace service
    node service/bundle.mjs service/dist
    # shellcheck disable=SC2086
    npm prune --omit=dev $workspace --no-audit --no-fund
    mkdir -p "$out/app/service" "$out/data"
    # node_modules/@mate/service is a relative link to ../../service: it stays valid in OUT/app.
    mv node_modules "$out/app/node_modules"
    mv service/dist "$out/app/service/dist"
    cp service/package.json "$out/app/service/package.json"
    # Packages npm could not hoist (a second version of one) live under service/node_modules.
    if [ -d service/node_modules ]; then mv service/node_modules "$out/app/service/node_modules"; fi
    ;;
  *)
    echo "usage: build-artifact.sh deps | artifact OUT" >&2
    exit 2
    ;;
esac
