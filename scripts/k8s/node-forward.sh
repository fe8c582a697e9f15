#!/usr/bin/env bash
# Makes loopback services reachable from the real node's pods, or a pod's or
# Service's address reachable from loopback, through socat pairs joined by a
# Unix socket (lib.sh: node_forward_in, node_forward_out). Idempotent; the
# forwards end with scripts/k8s/node-down.sh.
#   node-forward.sh in PORT...          127.0.0.1:PORT -> $K8S_NODE_IP:PORT in the node
#   node-forward.sh out PORT ADDR:PORT  ADDR:PORT in the node -> 127.0.0.1:PORT
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
MATE_STEP=k8s-node-forward

[[ -e "/run/netns/$K8S_NODE_NETNS" ]] || mate_die "the real node is not up (scripts/k8s/node-up.sh)"
case "${1:-}" in
  in)
    shift
    (($#)) || mate_die "usage: node-forward.sh in PORT..."
    for port in "$@"; do node_forward_in "$port"; done
    ;;
  out)
    [[ $# == 3 ]] || mate_die "usage: node-forward.sh out PORT ADDR:PORT"
    node_forward_out "$2" "$3"
    ;;
  *) mate_die "usage: node-forward.sh in PORT... | out PORT ADDR:PORT" ;;
esac
