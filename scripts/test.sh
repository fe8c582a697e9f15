#!/usr/bin/env bash
# The test command (`npm test`): installs and starts the real services the
# tests need (MariaDB, Redis, MinIO; the local Kubernetes control plane when
# its scripts are present), then runs every test file with Node's test runner.
#   npm test                      # everything
#   npm test -- service/src/features/auth   # only files under these paths
set -euo pipefail
cd "$(dirname "$0")/.."
MATE_CACHE="${MATE_CACHE:-$HOME/.cache/mate}"
export MATE_CACHE

start=$SECONDS
if [ ! -d node_modules ]; then
  echo "==> npm ci"
  npm ci --no-audit --no-fund
fi

echo "==> test services"
bash scripts/test-env/up.sh
# shellcheck disable=SC1091
source "$MATE_CACHE/run/test-env.sh"

if [ -f scripts/k8s/up.sh ]; then
  echo "==> Kubernetes control plane"
  bash scripts/k8s/tools.sh
  bash scripts/k8s/up.sh
  export MATE_KUBECONFIG="$MATE_CACHE/run/k8s/kubeconfig"
fi
echo "==> observability tools"
bash scripts/observability/tools.sh
echo "==> load tools (nginx)"
bash scripts/load/tools.sh
echo "==> set-up took $((SECONDS - start)) s"

roots=("$@")
[ ${#roots[@]} -gt 0 ] || roots=(service/src tests)
mapfile -t files < <(find "${roots[@]}" -name '*.test.ts' -not -path '*/node_modules/*' | sort)
if [ ${#files[@]} -eq 0 ]; then
  echo "no test files under: ${roots[*]}" >&2
  exit 1
fi
echo "==> ${#files[@]} test files"
exec node --import tsx --test --test-reporter=spec --test-reporter-destination=stdout "${files[@]}"
