#!/usr/bin/env bash
# Stops what scripts/stack-up.sh started in DIR: each service's process group
# (from DIR/NAME.pid) gets SIGTERM, then SIGKILL if it hasn't exited after a
# grace period; pid files (and stack.env, when stopping everything) are removed. With
# DATAMESH_STACK_STOP_SIGNAL=KILL each group gets SIGKILL at once instead, as a crash would
# (no shutdown hook runs): the fault tests kill a broker that way.
# Exits 0 when everything it found is stopped (or nothing was running), 1 when a process
# survived SIGKILL (named on stderr).
#
# Usage: scripts/stack-down.sh [DIR [SERVICE...]]
#   DIR defaults to ${DATAMESH_STACK_DIR:-${TMPDIR:-/tmp}/datamesh-stack}
#   SERVICE: a service of scripts/versions.sh (its DIR/SERVICE.pid and DIR/SERVICE-*.pid);
#            default: every DIR/*.pid
set -euo pipefail

DIR="${1:-${DATAMESH_STACK_DIR:-${TMPDIR:-/tmp}/datamesh-stack}}"
shift || true
GRACE="${DATAMESH_STACK_STOP_SECONDS:-10}"
SIGNAL="${DATAMESH_STACK_STOP_SIGNAL:-TERM}"
case "$SIGNAL" in TERM | KILL) ;; *) echo "stack-down.sh: DATAMESH_STACK_STOP_SIGNAL is TERM or KILL, not $SIGNAL" >&2; exit 2 ;; esac
[ "$SIGNAL" = TERM ] || GRACE=0

say() { echo "stack-down.sh: $*" >&2; }

[ -d "$DIR" ] || { say "no stack dir $DIR; nothing to stop"; exit 0; }
DIR="$(cd "$DIR" && pwd)" # the processes carry the absolute path

names=()
for f in "$DIR"/*.pid; do
    [ -e "$f" ] || continue
    name="$(basename "$f" .pid)"
    if [ "$#" -eq 0 ]; then names+=("$name"); continue; fi
    for svc in "$@"; do
        case "$name" in "$svc" | "$svc"-*) names+=("$name") ;; esac
    done
done
# The last started first: a worker goes before its master.
reversed=()
for ((i = ${#names[@]} - 1; i >= 0; i--)); do reversed+=("${names[i]}"); done
names=("${reversed[@]+"${reversed[@]}"}")

# Non-zombie processes in process group $1 (a zombie is already dead, just not
# yet reaped by whoever inherited it). python3: ps isn't guaranteed.
group_members() {
    python3 - "$1" <<'PY'
import os, sys
pgid = sys.argv[1]
for pid in os.listdir("/proc"):
    if not pid.isdigit():
        continue
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        continue
    fields = stat[stat.rindex(")") + 2:].split()  # after "(comm) "
    if fields[2] == pgid and fields[0] != "Z":
        print(pid)
PY
}

stopped=0
survivors=()
for name in "${names[@]+"${names[@]}"}"; do
    pidfile="$DIR/$name.pid"
    [ -f "$pidfile" ] || continue
    pid="$(cat "$pidfile")"
    # Only signal the pid if it is still the process we started (pids get reused): spawn
    # (scripts/lib/stack.sh) marks its environment.
    if [ -n "$pid" ] && tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qxF "DATAMESH_STACK_PROCESS=$DIR/$name"; then
        # stack-up starts each service as its own session/group leader, so the
        # group also covers anything the service forked.
        kill "-$SIGNAL" -- "-$pid" 2>/dev/null || kill "-$SIGNAL" "$pid" 2>/dev/null || true
        waited=0
        while [ -n "$(group_members "$pid")" ] && [ "$waited" -lt $((GRACE * 10)) ]; do
            sleep 0.1; waited=$((waited + 1))
        done
        if [ -n "$(group_members "$pid")" ]; then
            [ "$SIGNAL" = KILL ] || say "$name (pid $pid) ignored SIGTERM for ${GRACE}s; sending SIGKILL"
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
            waited=0
            while [ -n "$(group_members "$pid")" ] && [ "$waited" -lt 50 ]; do sleep 0.1; waited=$((waited + 1)); done
        fi
        left="$(group_members "$pid" | tr '\n' ' ')"
        if [ -n "$left" ]; then
            say "ERROR: $name (pid $pid) still running after SIGKILL: pids $left"
            survivors+=("$name")
            continue # keep its pid file: the stack still holds it
        fi
        if [ "$SIGNAL" = KILL ]; then say "killed $name (pid $pid)"; else say "stopped $name (pid $pid)"; fi
        stopped=$((stopped + 1))
    fi
    rm -f "$pidfile"
done

if [ "${#survivors[@]}" -gt 0 ]; then
    say "ERROR: not stopped: ${survivors[*]} (pid files kept in $DIR)"
    exit 1
fi
if [ "$#" -eq 0 ]; then
    rm -f "$DIR/stack.env"
fi
[ "$stopped" -gt 0 ] || say "nothing was running in $DIR"
exit 0
