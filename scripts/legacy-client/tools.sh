#!/usr/bin/env bash
# Installs what the browser journey (tests/browser) needs besides the client's
# own build (scripts/legacy-client/build.sh, run by the journey itself):
# Debian's Chromium, driven by playwright-core, and a Korean font so that the
# screenshots show the client's text. Nothing is installed when
# LEGACY_CLIENT_DIR is unset: the journey is skipped then.
# Idempotent: prints Chromium's version and does nothing else when present.
#   bash scripts/legacy-client/tools.sh
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
MATE_STEP=browser-tools

if [[ -z ${LEGACY_CLIENT_DIR:-} ]]; then
  mate_log "LEGACY_CLIENT_DIR is unset: the browser journey will be skipped, nothing to install"
  exit 0
fi
chromium=${MATE_JOURNEY_CHROMIUM:-/usr/bin/chromium}
missing=()
[[ -x $chromium ]] || missing+=(chromium)
[[ -n $(mate_deb_version fonts-noto-cjk) ]] || missing+=(fonts-noto-cjk)
((${#missing[@]} == 0)) || mate_apt_install "${missing[@]}"
[[ -x $chromium ]] || mate_die "chromium: the package is installed but $chromium is missing"
mate_log "$("$chromium" --version 2>/dev/null || echo "$chromium")"
