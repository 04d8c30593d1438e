# shellcheck shell=bash
# Sourced helper: ensure_packages PKG... installs the Debian packages that are
# not installed yet (apt-get update runs once, only when something is missing).
# Needs root when something is missing; does nothing otherwise.

_hs_apt_updated=0

ensure_packages() {
    local missing=() p
    for p in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
            missing+=("$p")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "hostshare: installing missing packages: ${missing[*]}" >&2
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then sudo=(sudo); else
            echo "hostshare: need root to install ${missing[*]}" >&2
            return 1
        fi
    fi
    if [ "$_hs_apt_updated" -eq 0 ]; then
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 || return 1
        _hs_apt_updated=1
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
}
