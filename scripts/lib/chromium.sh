# Debian's chromium, for the browser check of `mesh --format html` (tests/acceptance/mesh_test.rs
# opens the page headless, screenshots it and dumps its DOM). Sourced by scripts/tools.sh, which
# holds the tools lock, so two stack-ups never run apt at once. Needs TOOLS (the cache, for the
# log). Progress and errors go to stderr.
# shellcheck shell=bash

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

# ensure_chromium: installs the `chromium` package when $CHROMIUM is missing (a quick check
# otherwise). apt needs root; the log of both apt calls is $TOOLS/chromium.apt.log.
ensure_chromium() {
    [ -x "$CHROMIUM" ] && return 0
    local log="$TOOLS/chromium.apt.log" started took
    echo "tools.sh: installing Debian's chromium (for the mesh's browser check; log: $log)" >&2
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "tools.sh: ERROR: $CHROMIUM is missing and there is no apt-get to install it with: install chromium, or set CHROMIUM=/path/to/chromium" >&2
        return 1
    fi
    started=$(date +%s)
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium; } \
            >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        echo "tools.sh: ERROR: apt-get could not install chromium (needs root and a reachable Debian mirror; full log: $log)" >&2
        return 1
    fi
    if [ ! -x "$CHROMIUM" ]; then
        echo "tools.sh: ERROR: apt-get installed chromium but $CHROMIUM is not there (log: $log)" >&2
        return 1
    fi
    took=$(($(date +%s) - started))
    echo "tools.sh: installed $("$CHROMIUM" --version 2>/dev/null || echo chromium) in ${took}s" >&2
}
