# shellcheck shell=bash
# The one table of what each test file needs besides Node and npm, read by
# scripts/test.sh (which provisions only that) and so by `npm run test:unit`,
# `.ci/run` and the workflows. Needs:
#   services     MariaDB, Redis and MinIO on loopback (scripts/test-env)
#   k8s          the local control plane and its tools: kubectl, helm, kwok (scripts/k8s)
#   prometheus   prometheus and promtool (scripts/observability/tools.sh)
#   filebeat     Filebeat (scripts/observability/tools.sh)
#   nginx        nginx, for the rolling restart (scripts/load/tools.sh)
#   node         the control plane's real node and the images it runs
#                (scripts/k8s/node-up.sh, scripts/k8s/images.sh; needs root)
#   browser      Chromium, for the journey with the existing web client
#                (scripts/legacy-client/tools.sh; only when LEGACY_CLIENT_DIR is set)
# A file that needs none is a unit test. A file no pattern names needs the test
# services: a new test that forgets to say gets more, never less.
#
# The tier of a file: `cluster` when it needs k8s, `unit` when it needs
# nothing, `services` otherwise.

test_needs() {
  case $1 in
    service/src/features/files/metadata.test.ts) ;;
    service/src/operator/*.test.ts) ;;
    service/src/platform/cache/recently-used.test.ts) ;;
    service/src/platform/clock/*.test.ts) ;;
    service/src/platform/config/*.test.ts) ;;
    service/src/platform/http/shutdown.test.ts) ;;
    service/src/platform/mail/*.test.ts) ;;
    tests/e2e/*.test.ts) ;;
    tests/setup/*.test.ts) ;;
    tests/image/dockerfile.test.ts) ;;
    tests/observability/build.test.ts) ;;
    tests/observability/pictures.test.ts) ;;
    tests/cluster/real-node*.test.ts) echo services k8s node ;;
    tests/cluster/*.test.ts | tests/operator/*.test.ts) echo k8s ;;
    tests/observability/kube-state-metrics.test.ts) echo services k8s node prometheus ;;
    tests/observability/rules.test.ts) echo prometheus k8s ;;
    tests/observability/prometheus.test.ts) echo services prometheus ;;
    tests/observability/logs.test.ts) echo services filebeat ;;
    tests/load/*.test.ts) echo services nginx ;;
    tests/browser/*.test.ts) echo browser ;;
    *) echo services ;;
  esac
}

test_tier() {
  local needs
  needs=" $(test_needs "$1") "
  if [[ $needs == *" k8s "* ]]; then
    echo cluster
  elif [[ $needs == "  " ]]; then
    echo unit
  else
    echo services
  fi
}
