# Helpers shared by the ensure-*.sh scripts. Source it after setting
# LOG_NAME to the script's name, which prefixes every log line.

log() {
    echo "${LOG_NAME:-ensure}: $*" >&2
}

# Run a command as root: directly when we are root, else through
# password-less sudo.
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

# Install Debian packages; a failed index update still tries the lists the
# machine already has.
apt_install() {
    if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q; then
        log "apt-get update failed; installing from the package lists already on this machine"
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends "$@"
}
