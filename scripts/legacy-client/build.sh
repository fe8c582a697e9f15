#!/usr/bin/env bash
# Builds the existing MATE web client (the public repository
# CarpoolMATE/FRONTEND, a Next.js app) against the backend under test, for the
# browser journey (tests/browser). The client is never copied into this
# repository: its source is copied from LEGACY_CLIENT_DIR into a cache
# directory outside it, and built there, unchanged.
#
#   LEGACY_CLIENT_DIR=/path/to/FRONTEND bash scripts/legacy-client/build.sh
#
# Settings (environment):
#   LEGACY_CLIENT_DIR      a checkout of CarpoolMATE/FRONTEND (required)
#   LEGACY_CLIENT_API_URL  the backend the client calls (baked into the build as
#                          NEXT_PUBLIC_API_URL; the client calls ${it}/api/... and
#                          ${it}/file/upload). Default http://127.0.0.1:18480
#   MATE_CACHE             cache root (default ~/.cache/mate); the build goes to
#                          $MATE_CACHE/legacy-client/<commit>
#
# Idempotent: when that directory already holds a build of the same source and
# API URL, nothing is done. The last line on stdout is always
#   LEGACY_CLIENT_BUILD=<directory>
# (start it with `npx next start -H 127.0.0.1 -p PORT` there, or use start.sh).
#
# Some revisions of the client lack public/fonts/PretendardVariable.ttf (the
# file is referenced by src/app/layout.tsx but was never pushed): a local font
# stands in for it, in the cache copy only.

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/common.sh
source "$here/../lib/common.sh"
mate_step legacy-client

if [[ -z ${LEGACY_CLIENT_DIR:-} ]]; then
  cat >&2 <<'EOF'
[legacy-client] ERROR: LEGACY_CLIENT_DIR is not set.
  It must name a checkout of the existing web client, the public repository
  CarpoolMATE/FRONTEND, e.g.:
    git clone https://github.com/CarpoolMATE/FRONTEND.git ~/src/mate-frontend
    LEGACY_CLIENT_DIR=~/src/mate-frontend bash scripts/legacy-client/build.sh
  From a bare git directory (no work tree):
    mkdir -p ~/src/mate-frontend
    git --git-dir=/path/to/FRONTEND.git archive HEAD | tar -x -C ~/src/mate-frontend
EOF
  exit 2
fi
src=$(cd "$LEGACY_CLIENT_DIR" 2>/dev/null && pwd) || mate_die "LEGACY_CLIENT_DIR=$LEGACY_CLIENT_DIR is not a directory"
[[ -f $src/package.json && -f $src/next.config.ts && -f $src/src/apis/fetch.ts ]] ||
  mate_die "$src does not look like a checkout of CarpoolMATE/FRONTEND (no package.json, next.config.ts, src/apis/fetch.ts)"
[[ -f $src/package-lock.json ]] || mate_die "$src has no package-lock.json (npm ci needs it)"

api_url=${LEGACY_CLIENT_API_URL:-http://127.0.0.1:18480}
api_url=${api_url%/}
[[ $api_url =~ ^https?://[^/]+$ ]] || mate_die "LEGACY_CLIENT_API_URL=$api_url must be an origin such as http://127.0.0.1:18480 (no path)"

# What is being built: the commit of a git checkout (plus a hash of local
# changes, if any), otherwise a hash of the files themselves.
content_hash() {
  (cd "$src" && find . \( -name node_modules -o -name .next -o -name .git \) -prune -o -type f -print0 |
    LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
}
if git -C "$src" rev-parse --verify -q HEAD >/dev/null 2>&1 && [[ $(git -C "$src" rev-parse --show-toplevel 2>/dev/null) == "$src" ]]; then
  commit=$(git -C "$src" rev-parse HEAD)
  if [[ -n $(git -C "$src" status --porcelain --untracked-files=normal 2>/dev/null) ]]; then
    commit="$commit-dirty-$(content_hash)"
  fi
else
  commit="tree-$(content_hash)"
fi

out="$MATE_CACHE/legacy-client/$commit"
app="$out/app"
stamp="$out/built.env"
want_stamp="commit=$commit
api_url=$api_url"

if [[ -f $stamp && $(cat "$stamp") == "$want_stamp" && -f $app/.next/BUILD_ID ]]; then
  mate_log "already built: $commit for $api_url in $app"
  echo "LEGACY_CLIENT_BUILD=$app"
  exit 0
fi

mate_require_commands node=nodejs npm=npm tar=tar sha256sum=coreutils
started=$(mate_now)
log="$out/build.log"
mate_log_to "$log"
: >"$log"
rm -f "$stamp"
mkdir -p "$app"

# 1. The source, copied (node_modules and an earlier .next are kept between
#    builds of the same commit; everything else is replaced).
mate_step legacy-client:copy
find "$app" -mindepth 1 -maxdepth 1 ! -name node_modules ! -name .next -exec rm -rf {} +
tar -C "$src" --exclude=./node_modules --exclude=./.next --exclude=./.git -cf - . | tar -C "$app" -xf -

# 2. A stand-in for the missing variable font: a Korean-capable system font if
#    fontconfig knows one, else another font the client ships, else DejaVu Sans.
mate_step legacy-client:font
font="$app/public/fonts/PretendardVariable.ttf"
if [[ ! -s $font ]]; then
  standin=""
  if command -v fc-list >/dev/null 2>&1; then
    standin=$(fc-list ':lang=ko' file 2>/dev/null | sed 's/: *$//' | grep -E '\.ttf$' | head -n1 || true)
  fi
  [[ -n $standin ]] || standin=$(find "$app/public/fonts" -maxdepth 1 -name '*.ttf' ! -name PretendardVariable.ttf 2>/dev/null | head -n1 || true)
  [[ -n $standin ]] || standin=$(find /usr/share/fonts -name DejaVuSans.ttf 2>/dev/null | head -n1 || true)
  if [[ -z $standin ]]; then
    mate_apt_install fonts-dejavu-core
    standin=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
  fi
  mkdir -p "$(dirname "$font")"
  cp "$standin" "$font"
  mate_log "public/fonts/PretendardVariable.ttf is missing in the checkout: $standin stands in for it"
fi

# 3. Dependencies, exactly as locked (from the npm registry).
mate_step legacy-client:npm-ci
t=$(mate_now)
mate_log "npm ci in $app (log: $log)"
(cd "$app" && npm ci --no-audit --no-fund --loglevel=error) >>"$log" 2>&1
mate_log "npm ci: $(mate_elapsed "$t")"

# 4. The production build, with the backend's URL baked in.
mate_step legacy-client:next-build
t=$(mate_now)
mate_log "next build with NEXT_PUBLIC_API_URL=$api_url (log: $log)"
(cd "$app" && NEXT_PUBLIC_API_URL=$api_url NEXT_TELEMETRY_DISABLED=1 npx --no-install next build) >>"$log" 2>&1
[[ -f $app/.next/BUILD_ID ]] || mate_die "next build ended without .next/BUILD_ID"
mate_log "next build: $(mate_elapsed "$t")"

printf '%s\n' "$want_stamp" >"$stamp"
mate_step legacy-client
mate_log "built $commit for $api_url in $(mate_elapsed "$started"): $app"
echo "LEGACY_CLIENT_BUILD=$app"
