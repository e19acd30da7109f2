#!/usr/bin/env bash
# Make sure varnishd (Debian package varnish) is installed, for the edge
# cache tests. Installing does not leave a server running; tests start their
# own varnishd on a loopback port. Installing needs root (or password-less sudo).
set -euo pipefail

LOG_NAME=ensure-varnish
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

if command -v varnishd >/dev/null 2>&1 || [ -x /usr/sbin/varnishd ]; then
    exit 0
fi

log "installing varnish"
apt_install varnish

# Debian's package may start a service on port 6081; the tests need only the binary.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet varnish 2>/dev/null; then
    as_root systemctl stop varnish || true
fi
