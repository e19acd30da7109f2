#!/usr/bin/env bash
# Make sure the Prometheus tools the tests run are installed: prometheus and
# promtool (Debian package prometheus) and amtool (prometheus-alertmanager).
#
# Installing does not start either server; tests start their own Prometheus
# on a loopback port. Installing needs root (or password-less sudo).
set -euo pipefail

LOG_NAME=ensure-prometheus
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"

missing=()
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v amtool >/dev/null 2>&1 || missing+=(prometheus-alertmanager)

if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi

packages=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
log "installing ${packages}"
# shellcheck disable=SC2086  # one word per package name
apt_install $packages

# Debian's packages start their services; the tests need only the binaries.
for service in prometheus prometheus-alertmanager; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$service" 2>/dev/null; then
        as_root systemctl stop "$service" || true
    fi
done
