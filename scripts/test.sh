#!/usr/bin/env bash
# The test command. Provisions what the selected test files need (the table in
# scripts/test-tiers.sh), printing each set-up step's time, then runs them with
# Node's test runner.
#   npm test                                  every test (provisions everything)
#   npm test -- service/src/features/auth     files under these paths
#   npm test -- --tier unit,services [PATH…]  only files of these tiers (unit, services, cluster)
#   npm test -- --list [--tier …] [PATH…]     print the selected files and their needs, run nothing
#   npm run test:unit                         = npm test -- --tier unit (no service at all)
cd "$(dirname "$0")/.."
# shellcheck source=lib/common.sh
source scripts/lib/common.sh
# shellcheck source=test-tiers.sh
source scripts/test-tiers.sh
MATE_STEP=test

tiers="" list=0 roots=()
while (($#)); do
  case $1 in
    --tier) tiers=${2:?--tier takes unit, services or cluster (comma-separated)}; shift 2 ;;
    --tier=*) tiers=${1#--tier=}; shift ;;
    --list) list=1; shift ;;
    -h | --help) sed -n '2,9p' "$0"; exit 0 ;;
    -*) mate_die "unknown option $1 (see --help)" ;;
    *) roots+=("$1"); shift ;;
  esac
done
((${#roots[@]})) || roots=(service/src tests)
for tier in ${tiers//,/ }; do
  [[ $tier == unit || $tier == services || $tier == cluster ]] || mate_die "unknown tier '$tier' (unit, services or cluster)"
done

mapfile -t candidates < <(find "${roots[@]}" -name '*.test.ts' -not -path '*/node_modules/*' | sort)
files=()
declare -A needed=()
for file in "${candidates[@]}"; do
  [[ -z $tiers || ",$tiers," == *",$(test_tier "$file"),"* ]] || continue
  files+=("$file")
  for need in $(test_needs "$file"); do needed[$need]=1; done
  ((list == 0)) || printf '%-8s %-55s %s\n' "$(test_tier "$file")" "$file" "$(test_needs "$file")"
done
((list == 0)) || exit 0
((${#files[@]})) || mate_die "no test files under ${roots[*]}${tiers:+ in tier $tiers}"

total=$SECONDS
# timed STEP COMMAND...: one set-up step, its time printed when it is done.
timed() {
  local name=$1 t=$SECONDS
  shift
  printf '==> %s\n' "$name"
  MATE_STEP=$name "$@"
  printf '==> %s: %d s\n' "$name" $((SECONDS - t))
}

[[ -d node_modules ]] || timed "npm ci" npm ci --no-audit --no-fund
if [[ -n ${needed[services]:-} ]]; then
  timed "test services (MariaDB, Redis, MinIO)" bash scripts/test-env/up.sh
  # shellcheck disable=SC1091
  source "$MATE_RUN/test-env.sh"
fi
if [[ -n ${needed[k8s]:-} ]]; then
  timed "Kubernetes tools" bash scripts/k8s/tools.sh
  timed "Kubernetes control plane" bash scripts/k8s/up.sh
  export MATE_KUBECONFIG="$MATE_RUN/k8s/kubeconfig"
fi
if [[ -n ${needed[node]:-} ]]; then
  timed "real node" bash scripts/k8s/node-up.sh
  timed "service and Filebeat images" bash scripts/k8s/images.sh service filebeat
  # shellcheck disable=SC1091
  source "$MATE_RUN/k8s/images.env"
fi
[[ -z ${needed[prometheus]:-} ]] || timed "Prometheus and promtool" bash scripts/observability/tools.sh prometheus
[[ -z ${needed[filebeat]:-} ]] || timed "Filebeat" bash scripts/observability/tools.sh filebeat
[[ -z ${needed[nginx]:-} ]] || timed "nginx" bash scripts/load/tools.sh
[[ -z ${needed[browser]:-} ]] || timed "Chromium" bash scripts/legacy-client/tools.sh
needs="${!needed[*]}"
printf '==> set-up took %d s; %d test files (needs: %s)\n' $((SECONDS - total)) ${#files[@]} "${needs:-none}"

exec node --import tsx --test --test-reporter=spec --test-reporter-destination=stdout "${files[@]}"
