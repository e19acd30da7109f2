#!/usr/bin/env bash
# Make sure a Redis server responds on 127.0.0.1:6379, for the tests of the
# Redis-backed stores.
#
# Does nothing when Redis already responds. Otherwise starts redis-server with
# persistence off, and installs Debian's redis-server package first when it is
# missing. Installing needs root (or password-less sudo).
set -euo pipefail

LOG_NAME=ensure-redis
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

HOST=127.0.0.1
PORT=6379
START_TIMEOUT_SECONDS=15

is_responding() {
    if command -v redis-cli >/dev/null 2>&1; then
        [ "$(redis-cli -h "$HOST" -p "$PORT" ping 2>/dev/null)" = PONG ]
    else
        (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null
    fi
}

main() {
    if is_responding; then
        log "Redis is responding on $HOST:$PORT"
        return 0
    fi

    if ! command -v redis-server >/dev/null 2>&1; then
        log "redis-server not found; installing Debian's redis-server package"
        apt_install redis-server
    fi

    # The tests need no persistence, so Redis writes nothing to disk.
    local log_dir=/var/log/redis
    as_root mkdir -p "$log_dir" /var/lib/redis
    log "starting redis-server on $HOST:$PORT"
    as_root redis-server --daemonize yes --bind "$HOST" --port "$PORT" \
        --save "" --appendonly no --dir /var/lib/redis \
        --logfile "$log_dir/livify-tests.log"

    local deadline=$((SECONDS + START_TIMEOUT_SECONDS))
    until is_responding; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "failed: Redis did not respond on $HOST:$PORT within ${START_TIMEOUT_SECONDS} s"
            as_root tail -n 20 "$log_dir/livify-tests.log" >&2 || true
            return 1
        fi
        sleep 1
    done
    log "Redis is responding on $HOST:$PORT"
}

main "$@"
