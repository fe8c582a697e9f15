#!/usr/bin/env bash
# Stops the services up.sh started (found by their pidfiles under $MATE_CACHE/run).
# Data directories, the MinIO binary and other caches are left in place.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

take_lock
minio_stop
redis_stop
mariadb_stop
