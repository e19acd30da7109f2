#!/usr/bin/env bash
# Make sure the Prometheus tools the tests run are installed: prometheus and
# promtool (Debian package prometheus) and amtool (prometheus-alertmanager).
#
# Installing does not start either server; tests start their own Prometheus
# on a loopback port. Installing needs root (or password-less sudo).
set -euo pipefail

log() {
    echo "ensure-prometheus: $*" >&2
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

missing=()
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v amtool >/dev/null 2>&1 || missing+=(prometheus-alertmanager)

if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi

packages=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
log "installing ${packages}"
if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q; then
    log "apt-get update failed; installing from the package lists already on this machine"
fi
# shellcheck disable=SC2086  # one word per package name
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $packages

# Debian's packages start their services; the tests need only the binaries.
for service in prometheus prometheus-alertmanager; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$service" 2>/dev/null; then
        as_root systemctl stop "$service" || true
    fi
done
