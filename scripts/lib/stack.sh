# What every service of the local stack is started with. Sourced by scripts/stack-up.sh, which
# sets DIR (the stack directory), TOOLS (the tools cache), TIMEOUT (seconds a service may take
# to become ready) and PY (the tools venv's python) before it sources scripts/stack/<svc>.sh.
#
# A service file scripts/stack/<svc>.sh defines:
#   install_<svc>   idempotent install into $TOOLS (called by scripts/tools.sh; quiet when done)
#   start_<svc>     picks free loopback ports (free_port), starts its processes (spawn), waits
#                   until a real call works (wait_for), then exports its endpoints (stack_env)
#   probe_<svc>     exit 0 when the running service still answers, reading its endpoints from
#                   the environment of an existing stack.env (used to keep a healthy stack)
# Every process is started by `spawn` and so is stopped by scripts/stack-down.sh.
# shellcheck shell=bash

say() { echo "stack-up.sh: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# A TCP port nothing listens on now, on 127.0.0.1.
free_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# spawn NAME COMMAND...: starts COMMAND detached in its own session and process group (stack-down
# kills the group), with default signal dispositions (bash background jobs ignore SIGINT; python
# ignores SIGPIPE; both would be inherited), stdin from /dev/null, output to DIR/NAME.log and no
# other inherited fds (an inherited pipe would keep a caller like `stack-up.sh | tee` waiting).
# DATAMESH_STACK_PROCESS=DIR/NAME in its environment marks it as ours (pids get reused; stack-down
# only signals a pid whose environment carries the mark). The command, as a shell line that
# reproduces it, goes to DIR/NAME.cmd.
spawn() {
    local name="$1"; shift
    {
        printf 'cd %q &&' "$PWD"
        printf ' %q' "$@"
        printf '\n'
    } >"$DIR/$name.cmd"
    launch "$name" ">" "$@"
}

# respawn NAME: starts NAME again from its DIR/NAME.cmd (after it was stopped, e.g. by
# `scripts/stack-down.sh DIR NAME`), as spawn started it, its output appended to DIR/NAME.log.
# For the tests that restart a server under the provider (scripts/stack-respawn.sh); the .cmd
# carries everything the command needs, so a service passes its environment with `env`.
respawn() {
    local name="$1"
    [ -f "$DIR/$name.cmd" ] || die "no $DIR/$name.cmd: $name was never started in $DIR"
    ! alive "$name" || die "$name is still running (pid $(cat "$DIR/$name.pid"))"
    launch "$name" ">>" bash -c "$(cat "$DIR/$name.cmd")"
}

# launch NAME MODE COMMAND...: what spawn and respawn share; MODE ">" truncates DIR/NAME.log,
# ">>" appends to it.
launch() {
    local name="$1" mode="$2"; shift 2
    local log="$DIR/$name.log"
    [ "$mode" = ">>" ] || : >"$log"
    DATAMESH_STACK_PROCESS="$DIR/$name" "$PY" -c '
import os, signal, sys
for s in (signal.SIGINT, signal.SIGQUIT, signal.SIGPIPE, signal.SIGTERM, signal.SIGXFSZ):
    signal.signal(s, signal.SIG_DFL)
os.closerange(3, os.sysconf("SC_OPEN_MAX"))
os.setsid()
os.execvp(sys.argv[1], sys.argv[1:])
' "$@" </dev/null >>"$log" 2>&1 &
    local pid=$!
    echo "$pid" >"$DIR/$name.pid"
    # Until the forked shell has exec'd, its environment has no mark yet and `alive` would call
    # it dead (seen on a loaded machine): wait, briefly, for the mark or for the process to end.
    local i
    for ((i = 0; i < 100; i++)); do
        alive "$name" && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
}

# Is the process spawned as NAME still running (and still ours)?
# A process in the middle of an exec (python -> env -> java) shows an empty environment for a
# moment, so a missing mark is looked for again while the pid exists.
alive() {
    local pid i
    pid="$(cat "$DIR/$1.pid" 2>/dev/null)" || return 1
    [ -n "$pid" ] || return 1
    for ((i = 0; i < 5; i++)); do
        tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qxF "DATAMESH_STACK_PROCESS=$DIR/$1" && return 0
        [ -d "/proc/$pid" ] || return 1
        sleep 0.1
    done
    return 1
}

# Prints why NAME failed: the last lines of its log and the command that reproduces it.
explain_failure() {
    local name="$1"
    say "last lines of $DIR/$name.log:"
    tail -n 40 "$DIR/$name.log" >&2 || true
    say "to reproduce: $(cat "$DIR/$name.cmd" 2>/dev/null)"
}

# wait_for NAME WHAT COMMAND...: runs COMMAND (a real call: a login, a request) until it
# succeeds. Returns 1 after printing the log tail and the command if the process NAME exits or
# TIMEOUT passes first; returns 2 if NAME's log says its port was taken (the caller retries).
wait_for() {
    local name="$1" what="$2"; shift 2
    local deadline err
    deadline=$(($(date +%s) + TIMEOUT))
    while :; do
        if grep -qiE "address already in use|BindException" "$DIR/$name.log" 2>/dev/null; then return 2; fi
        if ! alive "$name"; then
            say "$name exited before $what"
            explain_failure "$name"
            return 1
        fi
        if err="$("$@" 2>&1)"; then return 0; fi
        if [ "$(date +%s)" -ge "$deadline" ]; then
            say "$name: no $what within ${TIMEOUT}s (last try: ${err:-no output})"
            explain_failure "$name"
            return 1
        fi
        sleep 0.5
    done
}

# stack_env KEY VALUE...: exports for stack.env (written once every service is up).
stack_env() {
    while [ "$#" -ge 2 ]; do
        printf 'export %s=%q\n' "$1" "$2" >>"$DIR/stack.env.new"
        shift 2
    done
}

# The TCP listeners (address:port) of every process in NAME's process group.
listeners() {
    "$PY" - "$(cat "$DIR/$1.pid")" <<'PY'
import os, sys
pgid = sys.argv[1]
inodes = set()
for pid in os.listdir("/proc"):
    if not pid.isdigit():
        continue
    try:
        stat = open(f"/proc/{pid}/stat").read()
        if stat[stat.rindex(")") + 2:].split()[2] != pgid:
            continue
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        continue
    for fd in fds:
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
for table, v6 in (("/proc/net/tcp", False), ("/proc/net/tcp6", True)):
    try:
        lines = open(table).read().splitlines()[1:]
    except OSError:
        continue
    for line in lines:
        f = line.split()
        if f[3] != "0A" or f[9] not in inodes:  # state 0A = LISTEN
            continue
        addr, port = f[1].rsplit(":", 1)
        raw = bytes.fromhex(addr)
        if v6:
            # /proc prints each 32-bit word in host (little-endian) order.
            raw = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
            import ipaddress
            ip = ipaddress.IPv6Address(raw)
            ip = ip.ipv4_mapped or ip
        else:
            import ipaddress
            ip = ipaddress.IPv4Address(raw[::-1])
        print(f"{ip}:{int(port, 16)}")
PY
}

# Fails when a process of NAME listens anywhere but on loopback (0.0.0.0 would expose the
# stack's unauthenticated ports to the network).
check_loopback() {
    local name="$1" l
    for l in $(listeners "$name"); do
        case "$l" in
            127.*:* | ::1:*) ;;
            *) die "$name listens on $l: every stack port must be bound to 127.0.0.1 (see $DIR/$name.cmd)" ;;
        esac
    done
}

# start_on_free_ports SVC WHAT TRY: runs TRY, a function of the service file that picks free
# ports, spawns SVC's processes and returns what their wait_for returned, up to 3 times while a
# port was taken before SVC bound it (2), stopping what the try started before the next one.
# Dies "could not start WHAT" unless a try succeeds. TRY sets its caller's locals (the ports).
start_on_free_ports() {
    local svc="$1" what="$2" try="$3" outcome attempt
    for attempt in 1 2 3; do
        outcome=0; "$try" || outcome=$?
        [ "$outcome" -eq 2 ] && [ "$attempt" -lt 3 ] || break
        "$SCRIPTS/stack-down.sh" "$DIR" "$svc" >/dev/null 2>&1 || true
        say "a port of $what was taken before it bound it; retrying with other ports"
    done
    [ "$outcome" -eq 0 ] || die "could not start $what"
}
