#!/usr/bin/env bash
# Make sure newman, the Postman collection runner, is available for the live
# conformance tests.
#
# Uses a newman already installed in .tools/ of this repository or on PATH.
# Otherwise installs newman 6 from the npm registry into .tools/ (the Makefile
# puts .tools/node_modules/.bin on PATH), and installs Debian's nodejs and npm
# packages first when npm is missing, which needs root.
set -euo pipefail

NEWMAN_VERSION=6
TOOLS_DIR="$(cd "$(dirname "$0")/.." && pwd)/.tools"

log() {
    echo "ensure-newman: $*" >&2
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo -n "$@"
    else
        log "failed: '$*' needs root, and sudo is not installed"
        return 1
    fi
}

apt_install() {
    if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q; then
        log "apt-get update failed; installing from the package lists already on this machine"
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends "$@"
}

main() {
    local local_newman="$TOOLS_DIR/node_modules/.bin/newman"
    if [ -x "$local_newman" ]; then
        log "using $local_newman ($("$local_newman" --version))"
        return 0
    fi

    if command -v newman >/dev/null 2>&1; then
        log "using $(command -v newman) ($(newman --version))"
        return 0
    fi

    if ! command -v npm >/dev/null 2>&1; then
        log "npm not found; installing Debian's nodejs and npm packages"
        apt_install nodejs npm
    fi

    log "installing newman@$NEWMAN_VERSION into $TOOLS_DIR"
    npm install --prefix "$TOOLS_DIR" --no-audit --no-fund --loglevel=error \
        "newman@$NEWMAN_VERSION"
    log "installed $local_newman ($("$local_newman" --version))"
}

main "$@"
