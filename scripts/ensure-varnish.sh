#!/usr/bin/env bash
# Make sure varnishd (Debian package varnish) is installed, for the edge
# cache tests. Installing does not leave a server running; tests start their
# own varnishd on a loopback port. Installing needs root (or password-less sudo).
set -euo pipefail

log() {
    echo "ensure-varnish: $*" >&2
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

if command -v varnishd >/dev/null 2>&1 || [ -x /usr/sbin/varnishd ]; then
    exit 0
fi

log "installing varnish"
if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q; then
    log "apt-get update failed; installing from the package lists already on this machine"
fi
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends varnish

# Debian's package may start a service on port 6081; the tests need only the binary.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet varnish 2>/dev/null; then
    as_root systemctl stop varnish || true
fi
