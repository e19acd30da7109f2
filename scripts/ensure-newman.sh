#!/usr/bin/env bash
# Make sure newman, the Postman collection runner, is available for the live
# conformance tests.
#
# Uses a newman already installed in .tools/ of this repository or on PATH.
# Otherwise installs newman 6 from the npm registry into .tools/ (the Makefile
# puts .tools/node_modules/.bin on PATH), and installs Debian's nodejs and npm
# packages first when npm is missing, which needs root.
set -euo pipefail

LOG_NAME=ensure-newman
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

NEWMAN_VERSION=6
TOOLS_DIR="$(cd "$(dirname "$0")/.." && pwd)/.tools"

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
