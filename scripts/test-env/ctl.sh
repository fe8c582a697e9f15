#!/usr/bin/env bash
# Stops / starts one test service, e.g. to simulate an outage in a test:
#   scripts/test-env/ctl.sh stop redis     # kill by pidfile, wait until the port is closed
#   scripts/test-env/ctl.sh start redis    # start with the same settings, wait until ready
# Services: mariadb, redis, minio. Commands: start, stop, restart, status.
# Works on the instances up.sh manages (same MATE_CACHE), not on external ones.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { echo "usage: $0 start|stop|restart|status mariadb|redis|minio" >&2; exit 2; }
(($# == 2)) || usage
cmd=$1 service=$2
case $service in
  mariadb) port=$MARIADB_PORT ready=mariadb_login_ok ;;
  redis) port=$REDIS_PORT ready=redis_ping ;;
  minio) port=$MINIO_PORT ready=minio_ready ;;
  *) usage ;;
esac

take_lock
case $cmd in
  start) "${service}_start" ;;
  stop) "${service}_stop" ;;
  restart) "${service}_stop"; "${service}_start" ;;
  status)
    if port_open "$TEST_HOST" "$port" && "$ready"; then
      echo "$service: running on $TEST_HOST:$port"
    else
      echo "$service: not running on $TEST_HOST:$port"
      exit 1
    fi
    ;;
  *) usage ;;
esac
