#!/usr/bin/env bash
# Make sure a PostgreSQL server accepts connections on 127.0.0.1:5432 from the
# user postgres without a password, which is what the tests connect as.
#
# Does nothing when the server already accepts connections. Otherwise starts the newest
# installed cluster, and installs Debian's postgresql package first when no
# cluster exists. Installing and starting need root (or password-less sudo).
# With LIVIFY_TEST_POSTGRES_URL set, the tests use that server and this script
# only reports it.
set -euo pipefail

LOG_NAME=ensure-postgres
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

HOST=127.0.0.1
PORT=5432
START_TIMEOUT_SECONDS=30

is_accepting() {
    if command -v pg_isready >/dev/null 2>&1; then
        pg_isready --quiet --host="$HOST" --port="$PORT" --username=postgres
    else
        (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null
    fi
}

newest_version() {
    if [ -d /etc/postgresql ]; then
        find /etc/postgresql -mindepth 1 -maxdepth 1 -type d -printf '%f\n' |
            sort -V | tail -n 1
    fi
}

install_server() {
    log "no PostgreSQL cluster found; installing Debian's postgresql package"
    apt_install postgresql
}

allow_local_trust() {
    # A fresh Debian cluster requires a password on TCP, but the tests send none.
    local hba_file="/etc/postgresql/$1/main/pg_hba.conf"
    if ! grep -Eq '^host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba_file"; then
        log "adding 'host all all 127.0.0.1/32 trust' to $hba_file"
        as_root sed -i '1i host all all 127.0.0.1/32 trust' "$hba_file"
    fi
}

wait_until_accepting() {
    local deadline=$((SECONDS + START_TIMEOUT_SECONDS))
    until is_accepting; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "failed: PostgreSQL $1 did not accept connections on $HOST:$PORT within ${START_TIMEOUT_SECONDS} s"
            as_root tail -n 20 "/var/log/postgresql/postgresql-$1-main.log" >&2 || true
            return 1
        fi
        sleep 1
    done
}

check_login() {
    if ! command -v psql >/dev/null 2>&1; then
        return 0
    fi

    if ! psql --no-password --host="$HOST" --port="$PORT" --username=postgres \
        --dbname=postgres --tuples-only --command='SELECT 1' >/dev/null; then
        log "failed: user postgres cannot log in on $HOST:$PORT without a password"
        log "add 'host all all 127.0.0.1/32 trust' to pg_hba.conf, or point LIVIFY_TEST_POSTGRES_URL at a server the tests may use"
        return 1
    fi
}

main() {
    if [ -n "${LIVIFY_TEST_POSTGRES_URL:-}" ]; then
        log "LIVIFY_TEST_POSTGRES_URL is set; the tests use that server"
        return 0
    fi

    if is_accepting; then
        check_login
        log "PostgreSQL is accepting connections on $HOST:$PORT"
        return 0
    fi

    local version installed=false
    version="$(newest_version)"
    if [ -z "$version" ] || ! command -v pg_ctlcluster >/dev/null 2>&1; then
        install_server
        installed=true
        version="$(newest_version)"
    fi

    if [ -z "$version" ]; then
        log "failed: the postgresql package installed no cluster under /etc/postgresql"
        return 1
    fi

    if [ ! -d "/etc/postgresql/$version/main" ]; then
        log "creating cluster $version/main"
        as_root pg_createcluster "$version" main
        installed=true
    fi

    if [ "$installed" = true ]; then
        allow_local_trust "$version"
    fi

    log "starting cluster $version/main"
    # A cluster started by the package's postinst is already running, so a
    # failed start is judged by whether the server then accepts connections.
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    if [ "$installed" = true ]; then
        as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload || true
    fi

    wait_until_accepting "$version"
    check_login
    log "PostgreSQL $version is accepting connections on $HOST:$PORT"
}

main "$@"
